package signin

import (
	"context"
	"fmt"
	"slices"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/policydoc"
)

// ConditionalAccessKey is where the conditional access configuration is stored
// (policydoc.ConditionalAccessKey).
const ConditionalAccessKey = policydoc.ConditionalAccessKey

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
	return s.policies.ConditionalAccess(raw)
}

// DecodeConditionalAccess decodes and validates a configuration document
// (policydoc.DecodeConditionalAccess).
func DecodeConditionalAccess(raw []byte) (*policy.ConditionalAccessConfig, error) {
	return policydoc.DecodeConditionalAccess(raw)
}

// CloneConditionalAccess returns a deep copy of cfg that the caller may change.
func CloneConditionalAccess(cfg *policy.ConditionalAccessConfig) (*policy.ConditionalAccessConfig, error) {
	return policydoc.CloneConditionalAccess(cfg)
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
