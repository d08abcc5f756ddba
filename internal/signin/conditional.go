package signin

import (
	"context"
	"slices"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/policydoc"
	"github.com/latchkey/latchkey/internal/registered"
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

// RegisteredMethod is one way a user could sign in, as lint and what-if see it
// (registered.Method).
type RegisteredMethod = registered.Method

// RegisteredMethods returns what each of u's usable methods would present at a sign-in; see
// registered.Methods.
func (s *Service) RegisteredMethods(ctx context.Context, u *latchkey.User, pu policy.User, mp policy.MethodsPolicy) ([]RegisteredMethod, error) {
	return registered.Methods(ctx, s.Store, u, pu, mp, s.now())
}

// Contexts returns the authentication contexts of ms.
func Contexts(ms []RegisteredMethod) []policy.AuthenticationContext { return registered.Contexts(ms) }
