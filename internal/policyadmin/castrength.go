package policyadmin

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// Custom authentication strengths and named locations, changed through changeCA (camanage.go).

// Strengths returns every strength, built-in first (MFA, passwordless MFA, phishing-resistant
// MFA), then the custom ones in the order they were added.
func (s *Service) Strengths(ctx context.Context, a latchkey.Actor) ([]policy.Strength, error) {
	if err := decide(a, authz.ActionReadConditionalAccess); err != nil {
		return nil, err
	}
	cfg, err := s.Service.ConditionalAccess(ctx)
	if err != nil {
		return nil, err
	}
	return AllStrengths(cfg), nil
}

// AllStrengths returns cfg's strengths, built-in first.
func AllStrengths(cfg *policy.ConditionalAccessConfig) []policy.Strength {
	b := policy.BuiltInStrengths()
	out := []policy.Strength{b[policy.StrengthMFA], b[policy.StrengthPasswordlessMFA], b[policy.StrengthPhishingResistantMFA]}
	return append(out, cfg.Strengths...)
}

func checkStrengthName(cfg *policy.ConditionalAccessConfig, st policy.Strength) error {
	if err := latchkey.ValidateName("strength name", st.Name); err != nil {
		return err
	}
	if err := latchkey.ValidateDescription("strength description", st.Description); err != nil {
		return err
	}
	for _, o := range AllStrengths(cfg) {
		if o.ID != st.ID && strings.EqualFold(o.Name, strings.TrimSpace(st.Name)) {
			return latchkey.Errorf(latchkey.ECONFLICT, "strength_exists", "An authentication strength with this name already exists. Choose another name.",
				"strength %q already has the name %q", o.ID, o.Name)
		}
	}
	return nil
}

// CreateStrength adds a custom strength (a new id when st.ID is empty).
func (s *Service) CreateStrength(ctx context.Context, a latchkey.Actor, st policy.Strength) (policy.Strength, error) {
	if err := decide(a, authz.ActionWriteConditionalAccess); err != nil {
		return st, err
	}
	if st.ID == "" {
		st.ID = latchkey.NewID()
	} else if err := latchkey.ValidateID("strength id", st.ID); err != nil {
		return st, err
	}
	ctx = latchkey.Audit(ctx, a, "strength.create", "authenticationStrength", st.ID, st.Name, map[string]any{"strength": st})
	ch, err := s.changeCA(ctx, 0, func(cfg *policy.ConditionalAccessConfig) ([]string, error) {
		if _, ok := cfg.StrengthMap()[st.ID]; ok {
			return nil, latchkey.Errorf(latchkey.ECONFLICT, "strength_exists", "An authentication strength with this id already exists.", "strength id %q is taken", st.ID)
		}
		if err := checkStrengthName(cfg, st); err != nil {
			return nil, err
		}
		cfg.Strengths = append(cfg.Strengths, st)
		return nil, nil
	})
	if err != nil {
		return st, err
	}
	return ch.Config.StrengthMap()[st.ID], nil
}

// UpdateStrength replaces the custom strength with id. Every policy that demands it and is not
// off is linted again: a narrower strength can lock people out as surely as a new policy.
func (s *Service) UpdateStrength(ctx context.Context, a latchkey.Actor, id string, st policy.Strength, override int) (policy.Strength, *CAChange, error) {
	if err := decide(a, authz.ActionWriteConditionalAccess); err != nil {
		return st, nil, err
	}
	ctx = latchkey.Audit(ctx, a, "strength.update", "authenticationStrength", id, st.Name, map[string]any{"strength": st})
	st.ID = id
	ch, err := s.changeCA(ctx, override, func(cfg *policy.ConditionalAccessConfig) ([]string, error) {
		if _, ok := policy.BuiltInStrengths()[id]; ok {
			return nil, latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "Built-in authentication strengths cannot be changed. Add a custom strength instead.",
				"%q is a built-in strength", id)
		}
		i := slices.IndexFunc(cfg.Strengths, func(o policy.Strength) bool { return o.ID == id })
		if i < 0 {
			return nil, errStrengthNotFound(id)
		}
		if err := checkStrengthName(cfg, st); err != nil {
			return nil, err
		}
		cfg.Strengths[i] = st
		var lint []string
		for _, p := range cfg.Policies {
			if p.Grant.StrengthID == id {
				lint = append(lint, p.ID)
			}
		}
		return lint, nil
	})
	if err != nil {
		return st, nil, err
	}
	return ch.Config.StrengthMap()[id], ch, nil
}

// DeleteStrength removes a custom strength that no policy demands.
func (s *Service) DeleteStrength(ctx context.Context, a latchkey.Actor, id string) error {
	if err := decide(a, authz.ActionWriteConditionalAccess); err != nil {
		return err
	}
	ctx = latchkey.Audit(ctx, a, "strength.delete", "authenticationStrength", id, s.caName(ctx, func(cfg *policy.ConditionalAccessConfig) string {
		for _, st := range AllStrengths(cfg) {
			if st.ID == id {
				return st.Name
			}
		}
		return ""
	}), nil)
	_, err := s.changeCA(ctx, 0, func(cfg *policy.ConditionalAccessConfig) ([]string, error) {
		if _, ok := policy.BuiltInStrengths()[id]; ok {
			return nil, latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "Built-in authentication strengths cannot be removed.", "%q is a built-in strength", id)
		}
		i := slices.IndexFunc(cfg.Strengths, func(o policy.Strength) bool { return o.ID == id })
		if i < 0 {
			return nil, errStrengthNotFound(id)
		}
		if used := cfg.StrengthUsedBy(id); len(used) > 0 {
			return nil, latchkey.Errorf(latchkey.ECONFLICT, "strength_in_use",
				fmt.Sprintf("This strength is still required by %s. Change those policies to another strength first.", quoteList(used)),
				"strength %q is demanded by policies %s", id, strings.Join(used, ", "))
		}
		cfg.Strengths = slices.Delete(cfg.Strengths, i, i+1)
		return nil, nil
	})
	return err
}

// CreateNamedLocation adds a named location (a new id when l.ID is empty).
func (s *Service) CreateNamedLocation(ctx context.Context, a latchkey.Actor, l policy.NamedLocation) (policy.NamedLocation, error) {
	if err := decide(a, authz.ActionWriteConditionalAccess); err != nil {
		return l, err
	}
	if l.ID == "" {
		l.ID = latchkey.NewID()
	} else if err := latchkey.ValidateID("location id", l.ID); err != nil {
		return l, err
	}
	ctx = latchkey.Audit(ctx, a, "namedLocation.create", "namedLocation", l.ID, l.Name, map[string]any{"location": l})
	if err := latchkey.ValidateName("location name", l.Name); err != nil {
		return l, err
	}
	ch, err := s.changeCA(ctx, 0, func(cfg *policy.ConditionalAccessConfig) ([]string, error) {
		for _, o := range cfg.NamedLocations {
			if o.ID == l.ID || strings.EqualFold(o.Name, strings.TrimSpace(l.Name)) {
				return nil, latchkey.Errorf(latchkey.ECONFLICT, "location_exists", "A named location with this name already exists. Choose another name.",
					"named location %q (%s) has the same id or name", o.Name, o.ID)
			}
		}
		cfg.NamedLocations = append(cfg.NamedLocations, l)
		return nil, nil
	})
	if err != nil {
		return l, err
	}
	return findLocation(ch.Config, l.ID), nil
}

// UpdateNamedLocation replaces the named location with id.
func (s *Service) UpdateNamedLocation(ctx context.Context, a latchkey.Actor, id string, l policy.NamedLocation) (policy.NamedLocation, error) {
	if err := decide(a, authz.ActionWriteConditionalAccess); err != nil {
		return l, err
	}
	ctx = latchkey.Audit(ctx, a, "namedLocation.update", "namedLocation", id, l.Name, map[string]any{"location": l})
	l.ID = id
	ch, err := s.changeCA(ctx, 0, func(cfg *policy.ConditionalAccessConfig) ([]string, error) {
		i := slices.IndexFunc(cfg.NamedLocations, func(o policy.NamedLocation) bool { return o.ID == id })
		if i < 0 {
			return nil, errLocationNotFound(id)
		}
		if err := latchkey.ValidateName("location name", l.Name); err != nil {
			return nil, err
		}
		for _, o := range cfg.NamedLocations {
			if o.ID != id && strings.EqualFold(o.Name, strings.TrimSpace(l.Name)) {
				return nil, latchkey.Errorf(latchkey.ECONFLICT, "location_exists", "A named location with this name already exists. Choose another name.",
					"named location %q (%s) has the same name", o.Name, o.ID)
			}
		}
		cfg.NamedLocations[i] = l
		return nil, nil
	})
	if err != nil {
		return l, err
	}
	return findLocation(ch.Config, id), nil
}

// DeleteNamedLocation removes a named location that no policy names.
func (s *Service) DeleteNamedLocation(ctx context.Context, a latchkey.Actor, id string) error {
	if err := decide(a, authz.ActionWriteConditionalAccess); err != nil {
		return err
	}
	ctx = latchkey.Audit(ctx, a, "namedLocation.delete", "namedLocation", id, s.caName(ctx, func(cfg *policy.ConditionalAccessConfig) string {
		return findLocation(cfg, id).Name
	}), nil)
	_, err := s.changeCA(ctx, 0, func(cfg *policy.ConditionalAccessConfig) ([]string, error) {
		i := slices.IndexFunc(cfg.NamedLocations, func(o policy.NamedLocation) bool { return o.ID == id })
		if i < 0 {
			return nil, errLocationNotFound(id)
		}
		if used := cfg.LocationUsedBy(id); len(used) > 0 {
			return nil, latchkey.Errorf(latchkey.ECONFLICT, "location_in_use",
				fmt.Sprintf("This location is still named by %s. Remove it from those policies first.", quoteList(used)),
				"named location %q is named by policies %s", id, strings.Join(used, ", "))
		}
		cfg.NamedLocations = slices.Delete(cfg.NamedLocations, i, i+1)
		return nil, nil
	})
	return err
}

func findLocation(cfg *policy.ConditionalAccessConfig, id string) policy.NamedLocation {
	for _, l := range cfg.NamedLocations {
		if l.ID == id {
			return l
		}
	}
	return policy.NamedLocation{}
}

// quoteList writes names as `policy "A"` or `policies "A" and "B"`.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return "policy " + q[0]
	}
	return "policies " + strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
