package signin

import (
	"context"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/policydoc"
)

// This file is the read side that policy administration (internal/policyadmin) builds on: the
// same decoding, caching and lookups that sign-in uses, so that a change is linted against what
// is enforced.

// MethodsPolicyKey is where the authentication methods policy is stored.
const MethodsPolicyKey = policydoc.MethodsKey

// MethodsPolicyFrom decodes a stored methods policy (nil: none stored), from the cache while it
// is unchanged.
func (s *Service) MethodsPolicyFrom(raw []byte) (policy.MethodsPolicy, error) {
	return s.policies.Methods(raw)
}

// DecodeMethodsPolicy decodes a stored or submitted policy over the default, so that fields it
// leaves out keep their defaults, and validates it.
func DecodeMethodsPolicy(raw []byte) (policy.MethodsPolicy, error) {
	return policydoc.DecodeMethods(raw)
}

// CloneMethodsPolicy returns a deep copy of p that the caller may change.
func CloneMethodsPolicy(p policy.MethodsPolicy) policy.MethodsPolicy {
	return policydoc.CloneMethods(p)
}

// PolicyUser returns what the policy needs to know about u: their groups and whether a guest.
func (s *Service) PolicyUser(ctx context.Context, u *latchkey.User) (policy.User, error) {
	return s.policyUser(ctx, u)
}

// PolicyFor returns the methods policy and what it needs to know about user.
func (s *Service) PolicyFor(ctx context.Context, user *latchkey.User) (policy.MethodsPolicy, policy.User, error) {
	return s.policyFor(ctx, user)
}

// Metadata returns the imported FIDO metadata, nil when none is imported or usable.
func (s *Service) Metadata(ctx context.Context) (*passkey.Metadata, error) { return s.metadata(ctx) }

// RevokedNow reports whether the imported metadata (at mdsVersion) revokes pk's model.
func (s *Service) RevokedNow(ctx context.Context, pk *latchkey.Passkey, mdsVersion []byte) (bool, error) {
	return s.revokedNow(ctx, pk, mdsVersion)
}
