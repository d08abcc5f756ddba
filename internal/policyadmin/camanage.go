package policyadmin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// Managing conditional access: policies, custom strengths and named locations, each change read
// from the stored document, made on a copy and written back, with the lockout lint run on every
// policy the change turns on (or keeps on).

// LintFinding is a lint finding with the people it names by user principal name.
type LintFinding struct {
	policy.Finding
	UserPrincipalNames []string `json:"userPrincipalNames"`
}

// PolicyLint is the lint of one policy as if it were enforced.
type PolicyLint struct {
	PolicyID string `json:"policyId"`
	Name     string `json:"displayName"`
	State    string `json:"state"`
	// StrengthName names the strength the policy demands ("" for a block).
	StrengthName string        `json:"authenticationStrengthName,omitempty"`
	Findings     []LintFinding `json:"findings"`
	// Affected is the number of distinct people the findings name: the override that turning
	// the policy on needs.
	Affected int `json:"affectedUsers"`
}

// LockoutError is a refusal to turn on (or keep on) a policy whose lint found people it would
// lock out. It unwraps to the lockout_override_required *latchkey.Error.
type LockoutError struct {
	Err      *latchkey.Error
	Policies []PolicyLint
	Affected int
}

// Error returns the refusal's text.
func (e *LockoutError) Error() string { return e.Err.Error() }

// Unwrap returns the lockout_override_required refusal, so that errors.As finds its code.
func (e *LockoutError) Unwrap() error { return e.Err }

// CAChange is the result of a successful change: the stored configuration and, for the policies
// the change concerned, their lint findings (warnings for report-only policies, or what the
// override accepted for enabled ones).
type CAChange struct {
	Config   *policy.ConditionalAccessConfig `json:"-"`
	Warnings []PolicyLint                    `json:"lintWarnings"`
}

// knownRoles are the roles a policy may include or exclude.
var knownRoles = []string{latchkey.RoleGlobalAdmin}

// NormalizeCAState accepts a state as Graph spells it, or reportOnly / on / off.
func NormalizeCAState(state string) string {
	switch strings.ToLower(strings.TrimSpace(state)) {
	case "enabled", "on":
		return policy.CAStateEnabled
	case "disabled", "off":
		return policy.CAStateDisabled
	case "reportonly", "report-only", strings.ToLower(policy.CAStateReportOnly):
		return policy.CAStateReportOnly
	}
	return state
}

func errPolicyNotFound(id string) error {
	return latchkey.Errorf(latchkey.ENOTFOUND, "policy_not_found", "That conditional access policy does not exist.", "no conditional access policy with id %q", id)
}

func errStrengthNotFound(id string) error {
	return latchkey.Errorf(latchkey.ENOTFOUND, "strength_not_found", "That authentication strength does not exist.", "no custom authentication strength with id %q", id)
}

func errLocationNotFound(id string) error {
	return latchkey.Errorf(latchkey.ENOTFOUND, "location_not_found", "That named location does not exist.", "no named location with id %q", id)
}

func invalidCAPolicy(format string, args ...any) error {
	s := fmt.Sprintf(format, args...)
	return latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "The conditional access policy is not valid: "+s+".", "%s", s)
}

// changeCA reads the stored configuration, lets change edit a copy of it, validates the result,
// lints the policies change names (see lintForSave) and stores it. When another change (from
// this node or another) is stored between the read and the write, it starts again from the read,
// calling change again on the new configuration, a few times; then it refuses with
// ca_changed_meanwhile. Nothing is stored when it refuses.
func (s *Service) changeCA(ctx context.Context, override int, change func(*policy.ConditionalAccessConfig) (lint []string, err error)) (*CAChange, error) {
	return retryChanged(ctx, func() (*CAChange, error) { return s.changeCAOnce(ctx, override, change) },
		latchkey.Errorf(latchkey.ECONFLICT, "ca_changed_meanwhile",
			"Someone else changed conditional access at the same time. Reload and make your change again.",
			"the stored conditional access document changed between read and write %d times in a row; nothing was stored", settingAttempts))
}

// changeCAOnce is one attempt of changeCA; errSettingChanged when the stored configuration
// changed after it was read.
func (s *Service) changeCAOnce(ctx context.Context, override int, change func(*policy.ConditionalAccessConfig) (lint []string, err error)) (*CAChange, error) {
	raw, err := s.Store.GetSetting(ctx, signin.ConditionalAccessKey)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		raw = nil
	} else if err != nil {
		return nil, err
	}
	doc := raw
	if doc == nil {
		doc = []byte("{}")
	}
	cfg, err := signin.DecodeConditionalAccess(doc)
	if err != nil {
		return nil, fmt.Errorf("stored conditional access configuration: %w", err)
	}
	ids, err := change(cfg)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	warnings, err := s.lintForSave(ctx, cfg, ids, override)
	if err != nil {
		return nil, err
	}
	if err := s.putConditionalAccess(ctx, cfg, func(b []byte) error {
		return s.replaceSetting(ctx, signin.ConditionalAccessKey, raw, b)
	}); err != nil {
		return nil, err
	}
	return &CAChange{Config: cfg, Warnings: warnings}, nil
}

// lintOne lints p as if enforced and names the people by UPN.
func lintOne(p policy.ConditionalAccessPolicy, cfg *policy.ConditionalAccessConfig, dir policy.LintDirectory, upns map[string]string) PolicyLint {
	fs := policy.Lint(p, cfg.Policies, cfg.StrengthMap(), dir, 0)
	out := PolicyLint{PolicyID: p.ID, Name: p.Name, State: p.State, Findings: make([]LintFinding, len(fs)),
		Affected: len(policy.AffectedUsers(fs))}
	if !p.Grant.Block {
		out.StrengthName = cfg.StrengthMap()[p.Grant.StrengthID].Name
	}
	for i, f := range fs {
		names := make([]string, len(f.Users))
		for j, id := range f.Users {
			if names[j] = upns[id]; names[j] == "" {
				names[j] = id
			}
		}
		slices.Sort(names)
		if f.Users == nil {
			f.Users = []string{}
		}
		out.Findings[i] = LintFinding{Finding: f, UserPrincipalNames: names}
	}
	return out
}

// lintForSave lints the policies ids of cfg that are not off. Findings of enabled policies
// refuse the change with a *LockoutError unless override equals the number of distinct people
// they name; findings of report-only policies are returned as warnings.
func (s *Service) lintForSave(ctx context.Context, cfg *policy.ConditionalAccessConfig, ids []string, override int) ([]PolicyLint, error) {
	var todo []policy.ConditionalAccessPolicy
	for _, p := range cfg.Policies {
		if slices.Contains(ids, p.ID) && p.State != policy.CAStateDisabled {
			todo = append(todo, p)
		}
	}
	warnings := []PolicyLint{}
	if len(todo) == 0 {
		return warnings, nil
	}
	dir, upns, err := s.lintDirectory(ctx)
	if err != nil {
		return nil, err
	}
	var enforced []policy.Finding
	var enforcedLints []PolicyLint
	for _, p := range todo {
		pl := lintOne(p, cfg, dir, upns)
		if len(pl.Findings) == 0 {
			continue
		}
		warnings = append(warnings, pl)
		if p.State == policy.CAStateEnabled {
			enforcedLints = append(enforcedLints, pl)
			for _, f := range pl.Findings {
				enforced = append(enforced, f.Finding)
			}
		}
	}
	if err := policy.Refuse(enforced, override); err != nil {
		var le *latchkey.Error
		if !errors.As(err, &le) {
			return nil, err
		}
		return nil, &LockoutError{Err: le, Policies: enforcedLints, Affected: len(policy.AffectedUsers(enforced))}
	}
	return warnings, nil
}

// LintAll lints every policy that is not off as if it were enforced, in evaluation order.
func (s *Service) LintAll(ctx context.Context, a latchkey.Actor) ([]PolicyLint, error) {
	if err := decide(a, authz.ActionReadConditionalAccess); err != nil {
		return nil, err
	}
	cfg, err := s.Service.ConditionalAccess(ctx)
	if err != nil {
		return nil, err
	}
	out := []PolicyLint{}
	var linted []policy.ConditionalAccessPolicy
	for _, p := range cfg.Policies {
		if p.State != policy.CAStateDisabled {
			linted = append(linted, p)
		}
	}
	if len(linted) == 0 {
		return out, nil // no need to walk the directory
	}
	dir, upns, err := s.lintDirectory(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range linted {
		out = append(out, lintOne(p, cfg, dir, upns))
	}
	return out, nil
}

// FindCAPolicy returns the stored policy with id.
func (s *Service) FindCAPolicy(ctx context.Context, a latchkey.Actor, id string) (policy.ConditionalAccessPolicy, error) {
	if err := decide(a, authz.ActionReadConditionalAccess); err != nil {
		return policy.ConditionalAccessPolicy{}, err
	}
	cfg, err := s.Service.ConditionalAccess(ctx)
	if err != nil {
		return policy.ConditionalAccessPolicy{}, err
	}
	for _, p := range cfg.Policies {
		if p.ID == id {
			return p, nil
		}
	}
	return policy.ConditionalAccessPolicy{}, errPolicyNotFound(id)
}

// CreateCAPolicy adds p (a new id when p.ID is empty) at the end of the evaluation order.
func (s *Service) CreateCAPolicy(ctx context.Context, a latchkey.Actor, p policy.ConditionalAccessPolicy, override int) (policy.ConditionalAccessPolicy, *CAChange, error) {
	if err := decide(a, authz.ActionWriteConditionalAccess); err != nil {
		return p, nil, err
	}
	if p.ID == "" {
		p.ID = latchkey.NewID()
	} else if err := latchkey.ValidateID("policy id", p.ID); err != nil {
		return p, nil, err
	}
	ctx = latchkey.Audit(ctx, a, "conditionalAccess.create", "conditionalAccessPolicy", p.ID, p.Name, map[string]any{"policy": p})
	if err := latchkey.ValidateName("policy name", p.Name); err != nil {
		return p, nil, err
	}
	p.State = NormalizeCAState(p.State)
	ch, err := s.changeCA(ctx, override, func(cfg *policy.ConditionalAccessConfig) ([]string, error) {
		if slices.ContainsFunc(cfg.Policies, func(o policy.ConditionalAccessPolicy) bool { return o.ID == p.ID }) {
			return nil, latchkey.Errorf(latchkey.ECONFLICT, "policy_exists", "A conditional access policy with this id already exists.", "conditional access policy id %q is taken", p.ID)
		}
		if err := checkCAPolicyName(cfg, p); err != nil {
			return nil, err
		}
		if err := s.resolvePolicyRefs(ctx, cfg, &p); err != nil {
			return nil, err
		}
		cfg.Policies = append(cfg.Policies, p)
		return []string{p.ID}, nil
	})
	if err != nil {
		return p, nil, err
	}
	return findIn(ch.Config, p.ID), ch, nil
}

// UpdateCAPolicy replaces the policy with id by p, keeping its place in the evaluation order.
func (s *Service) UpdateCAPolicy(ctx context.Context, a latchkey.Actor, id string, p policy.ConditionalAccessPolicy, override int) (policy.ConditionalAccessPolicy, *CAChange, error) {
	if err := decide(a, authz.ActionWriteConditionalAccess); err != nil {
		return p, nil, err
	}
	ctx = latchkey.Audit(ctx, a, "conditionalAccess.update", "conditionalAccessPolicy", id, p.Name, map[string]any{"policy": p})
	p.ID = id
	p.State = NormalizeCAState(p.State)
	ch, err := s.changeCA(ctx, override, func(cfg *policy.ConditionalAccessConfig) ([]string, error) {
		i := slices.IndexFunc(cfg.Policies, func(o policy.ConditionalAccessPolicy) bool { return o.ID == id })
		if i < 0 {
			return nil, errPolicyNotFound(id)
		}
		if err := latchkey.ValidateName("policy name", p.Name); err != nil {
			return nil, err
		}
		if err := checkCAPolicyName(cfg, p); err != nil {
			return nil, err
		}
		if err := s.resolvePolicyRefs(ctx, cfg, &p); err != nil {
			return nil, err
		}
		cfg.Policies[i] = p
		return []string{id}, nil
	})
	if err != nil {
		return p, nil, err
	}
	return findIn(ch.Config, id), ch, nil
}

// checkCAPolicyName refuses a name that another policy has regardless of case: commands that
// name a policy by name would otherwise resolve to the older one.
func checkCAPolicyName(cfg *policy.ConditionalAccessConfig, p policy.ConditionalAccessPolicy) error {
	for _, o := range cfg.Policies {
		if o.ID != p.ID && strings.EqualFold(o.Name, p.Name) {
			return latchkey.Errorf(latchkey.ECONFLICT, "policy_exists", "A conditional access policy with this name already exists. Choose another name.",
				"conditional access policy %q already has the name %q", o.ID, o.Name)
		}
	}
	return nil
}

// SetCAPolicyState switches the policy with id on, off or to report-only.
func (s *Service) SetCAPolicyState(ctx context.Context, a latchkey.Actor, id, state string, override int) (policy.ConditionalAccessPolicy, *CAChange, error) {
	if err := decide(a, authz.ActionWriteConditionalAccess); err != nil {
		return policy.ConditionalAccessPolicy{}, nil, err
	}
	ctx = latchkey.Audit(ctx, a, "conditionalAccess.setState", "conditionalAccessPolicy", id, s.caPolicyName(ctx, id), map[string]any{"state": state})
	state = NormalizeCAState(state)
	ch, err := s.changeCA(ctx, override, func(cfg *policy.ConditionalAccessConfig) ([]string, error) {
		i := slices.IndexFunc(cfg.Policies, func(o policy.ConditionalAccessPolicy) bool { return o.ID == id })
		if i < 0 {
			return nil, errPolicyNotFound(id)
		}
		cfg.Policies[i].State = state
		return []string{id}, nil
	})
	if err != nil {
		return policy.ConditionalAccessPolicy{}, nil, err
	}
	return findIn(ch.Config, id), ch, nil
}

// DeleteCAPolicy removes the policy with id.
func (s *Service) DeleteCAPolicy(ctx context.Context, a latchkey.Actor, id string) error {
	if err := decide(a, authz.ActionWriteConditionalAccess); err != nil {
		return err
	}
	ctx = latchkey.Audit(ctx, a, "conditionalAccess.delete", "conditionalAccessPolicy", id, s.caPolicyName(ctx, id), nil)
	_, err := s.changeCA(ctx, 0, func(cfg *policy.ConditionalAccessConfig) ([]string, error) {
		i := slices.IndexFunc(cfg.Policies, func(o policy.ConditionalAccessPolicy) bool { return o.ID == id })
		if i < 0 {
			return nil, errPolicyNotFound(id)
		}
		cfg.Policies = slices.Delete(cfg.Policies, i, i+1)
		return nil, nil
	})
	return err
}

func findIn(cfg *policy.ConditionalAccessConfig, id string) policy.ConditionalAccessPolicy {
	for _, p := range cfg.Policies {
		if p.ID == id {
			return p
		}
	}
	return policy.ConditionalAccessPolicy{}
}

// caPolicyName returns the name of the conditional access policy id, for an audit event.
func (s *Service) caPolicyName(ctx context.Context, id string) string {
	return s.caName(ctx, func(cfg *policy.ConditionalAccessConfig) string { return findIn(cfg, id).Name })
}

// caName returns what name reads from the stored conditional access configuration, for an
// audit event; "" when it cannot be read.
func (s *Service) caName(ctx context.Context, name func(*policy.ConditionalAccessConfig) string) string {
	cfg, err := s.Service.ConditionalAccess(ctx)
	if err != nil {
		return ""
	}
	return name(cfg)
}
