package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// ConditionalAccessKey is where the conditional access configuration (policies, custom
// strengths, named locations) is stored, as one document shared by every node.
const ConditionalAccessKey = "policy.conditionalAccess"

// caCache keeps the last decoded configuration with the bytes it came from.
type caCache struct {
	mu  sync.Mutex
	raw []byte
	cfg *policy.ConditionalAccessConfig
}

// ConditionalAccess returns the stored conditional access configuration (an empty one when
// none is stored), validated. The result is shared and must not be changed; use
// DecodeConditionalAccess on the stored bytes, or Clone, to edit.
func (s *Service) ConditionalAccess(ctx context.Context) (*policy.ConditionalAccessConfig, error) {
	raw, err := s.Store.GetSetting(ctx, ConditionalAccessKey)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		raw = []byte("{}")
	} else if err != nil {
		return nil, err
	}
	c := &s.caCache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg != nil && bytes.Equal(c.raw, raw) {
		return c.cfg, nil
	}
	cfg, err := DecodeConditionalAccess(raw)
	if err != nil {
		return nil, fmt.Errorf("stored conditional access configuration: %w", err)
	}
	c.raw, c.cfg = raw, cfg
	return cfg, nil
}

// DecodeConditionalAccess decodes and validates a configuration document; unknown fields are
// refused so that a typo in a field name does not silently drop a condition.
func DecodeConditionalAccess(raw []byte) (*policy.ConditionalAccessConfig, error) {
	var cfg policy.ConditionalAccessConfig
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "invalid_policy",
			"The conditional access settings could not be read: "+err.Error()+".", "decode conditional access: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// CloneConditionalAccess returns a deep copy of cfg that the caller may change.
func CloneConditionalAccess(cfg *policy.ConditionalAccessConfig) (*policy.ConditionalAccessConfig, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	return DecodeConditionalAccess(b)
}

// PutConditionalAccess validates cfg and stores it as is, in place of whatever is stored. It
// does not lint: callers that turn policies on go through the lint first (see lint in the admin
// surfaces), and callers that edit the stored configuration go through changeCA, which loses no
// concurrent edit.
func (s *Service) PutConditionalAccess(ctx context.Context, cfg *policy.ConditionalAccessConfig) error {
	return s.putConditionalAccess(ctx, cfg, func(b []byte) error {
		_, err := s.Store.UpdateSetting(ctx, ConditionalAccessKey, func([]byte) ([]byte, error) { return b, nil })
		return err
	})
}

// putConditionalAccess validates and encodes cfg, stores the document through store and logs
// the change.
func (s *Service) putConditionalAccess(ctx context.Context, cfg *policy.ConditionalAccessConfig, store func([]byte) error) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode conditional access: %w", err)
	}
	if err := store(b); err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "conditional access configuration changed", "policies", len(cfg.Policies),
		"strengths", len(cfg.Strengths), "locations", len(cfg.NamedLocations))
	return nil
}

// Principal returns who u is to conditional access: id, groups, roles, guest or not.
func (s *Service) Principal(ctx context.Context, u *latchkey.User) (policy.Principal, error) {
	pu, err := s.policyUser(ctx, u)
	if err != nil {
		return policy.Principal{}, err
	}
	return policy.Principal{ID: u.ID, GroupIDs: pu.GroupIDs, Roles: slices.Clone(u.Roles), IsGuest: pu.IsGuest}, nil
}

// RegisteredMethod is one way a user could sign in, as lint and what-if see it.
type RegisteredMethod struct {
	// Description names it for the admin ("passkey: YubiKey 5 (device-bound, attested)").
	Description string                       `json:"description"`
	Context     policy.AuthenticationContext `json:"context"`
}

// RegisteredMethods returns what each of u's usable methods would present at a sign-in: every
// passkey the methods policy lets them sign in with (user verified), and an active or
// not-yet-valid temporary access pass when the TAP method is enabled for them. Methods the
// policy refuses are left out: they cannot satisfy anything.
func (s *Service) RegisteredMethods(ctx context.Context, u *latchkey.User, pu policy.User, mp policy.MethodsPolicy) ([]RegisteredMethod, error) {
	var out []RegisteredMethod
	pks, err := s.Store.ListPasskeysByUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, pk := range pks {
		if v := policy.EvaluatePasskey(mp, pu, policy.PasskeyOf(pk, true), policy.SignIn); !v.Allowed {
			continue
		}
		name := pk.Provider
		if name == "" {
			name = pk.Nickname
		}
		out = append(out, RegisteredMethod{
			Description: fmt.Sprintf("passkey: %s (%s, attestation %s)", name, pk.Kind, pk.AttestationTrust),
			Context: policy.AuthenticationContext{Methods: []string{latchkey.MethodPasskey},
				Passkey: &policy.PresentedPasskey{Kind: pk.Kind, AAGUID: pk.AAGUID, Attestation: pk.AttestationTrust, UserVerified: true}},
		})
	}
	if ok, _ := policy.MethodEnabledForUser(mp, latchkey.MethodTAP, pu); ok {
		ap, err := s.Store.FindAccessPassByUser(ctx, u.ID)
		if err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return nil, err
		}
		if ap != nil {
			switch ap.State(s.now()) {
			case latchkey.TAPUsable, latchkey.TAPNotYetValid:
				out = append(out, RegisteredMethod{Description: "temporary access pass",
					Context: policy.AuthenticationContext{Methods: []string{latchkey.MethodTAP}}})
			}
		}
	}
	legacy, err := s.registeredLegacyMethods(ctx, u, pu, mp)
	if err != nil {
		return nil, err
	}
	return append(out, legacy...), nil
}

// Contexts returns the authentication contexts of ms.
func Contexts(ms []RegisteredMethod) []policy.AuthenticationContext {
	out := make([]policy.AuthenticationContext, len(ms))
	for i, m := range ms {
		out[i] = m.Context
	}
	return out
}

// LintDirectory returns every enabled user with their registered methods, as the lockout lint
// sees the directory, and every user's UPN by id, to name them in findings.
func (s *Service) LintDirectory(ctx context.Context) (policy.LintDirectory, map[string]string, error) {
	mp, err := s.MethodsPolicy(ctx)
	if err != nil {
		return policy.LintDirectory{}, nil, err
	}
	dir := policy.LintDirectory{Users: []policy.DirectoryUser{}}
	upns, err := s.eachEnabledUser(ctx, func(u *latchkey.User, pr policy.Principal) error {
		ms, err := s.RegisteredMethods(ctx, u, policy.User{ID: u.ID, GroupIDs: pr.GroupIDs, IsGuest: pr.IsGuest}, mp)
		if err != nil {
			return err
		}
		dir.Users = append(dir.Users, policy.DirectoryUser{Principal: pr, Registered: Contexts(ms)})
		return nil
	})
	return dir, upns, err
}

// eachEnabledUser calls f with every enabled user and their principal, and returns every user's
// UPN by id (disabled ones included), to name people in lint findings.
func (s *Service) eachEnabledUser(ctx context.Context, f func(*latchkey.User, policy.Principal) error) (map[string]string, error) {
	users, err := s.Store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	upns := make(map[string]string, len(users))
	for _, u := range users {
		upns[u.ID] = u.UserPrincipalName
		if !u.Enabled {
			continue
		}
		pr, err := s.Principal(ctx, u)
		if err != nil {
			return nil, err
		}
		if err := f(u, pr); err != nil {
			return nil, err
		}
	}
	return upns, nil
}
