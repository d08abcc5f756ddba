package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// methodsPolicyKey is where the authentication methods policy is stored; every node reads it
// from the store, so a change takes effect at once everywhere.
const methodsPolicyKey = "policy.authenticationMethods"

// policyCache keeps the last decoded policy and metadata with the stored bytes they came from,
// so that a sign-in pays for a read of the store, not for decoding, while nothing changes.
type policyCache struct {
	mu         sync.Mutex
	raw        []byte
	methods    policy.MethodsPolicy
	mdsVersion []byte
	mds        *passkey.Metadata
}

// MethodsPolicy returns the stored authentication methods policy, or the default.
func (s *Service) MethodsPolicy(ctx context.Context) (policy.MethodsPolicy, error) {
	raw, err := s.Store.GetSetting(ctx, methodsPolicyKey)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		raw = nil
	} else if err != nil {
		return policy.MethodsPolicy{}, err
	}
	return s.methodsPolicyFrom(raw)
}

// methodsPolicyFrom decodes the stored policy (nil: none stored), from the cache while it is
// unchanged.
func (s *Service) methodsPolicyFrom(raw []byte) (policy.MethodsPolicy, error) {
	if raw == nil {
		return policy.DefaultMethodsPolicy(), nil
	}
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.raw != nil && bytes.Equal(c.raw, raw) {
		return clonePolicy(c.methods), nil
	}
	p, err := decodeMethodsPolicy(raw)
	if err != nil {
		return policy.MethodsPolicy{}, err
	}
	c.raw, c.methods = raw, p
	return clonePolicy(p), nil
}

// decodeMethodsPolicy decodes a stored or submitted policy over the default, so that fields
// it leaves out keep their defaults, and validates it.
func decodeMethodsPolicy(raw []byte) (policy.MethodsPolicy, error) {
	if err := latchkey.CheckJSONObject(raw); err != nil {
		return policy.MethodsPolicy{}, err
	}
	p := policy.DefaultMethodsPolicy()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return policy.MethodsPolicy{}, latchkey.Errorf(latchkey.EINVALID, "invalid_policy",
			"The authentication methods policy could not be read: "+err.Error()+".", "decode policy: %v", err)
	}
	if err := p.Validate(); err != nil {
		return policy.MethodsPolicy{}, err
	}
	return p, nil
}

// clonePolicy returns a deep copy, so that callers may change what they get without touching
// the cache (a sign-in reads the policy; copying its few slices is cheaper than decoding).
func clonePolicy(p policy.MethodsPolicy) policy.MethodsPolicy {
	out := p
	out.Passkey.IncludeTargets = slices.Clone(p.Passkey.IncludeTargets)
	out.Passkey.ExcludeTargets = slices.Clone(p.Passkey.ExcludeTargets)
	out.TemporaryAccessPass.IncludeTargets = slices.Clone(p.TemporaryAccessPass.IncludeTargets)
	out.TemporaryAccessPass.ExcludeTargets = slices.Clone(p.TemporaryAccessPass.ExcludeTargets)
	out.Password.IncludeTargets = slices.Clone(p.Password.IncludeTargets)
	out.Password.ExcludeTargets = slices.Clone(p.Password.ExcludeTargets)
	out.TOTP.IncludeTargets = slices.Clone(p.TOTP.IncludeTargets)
	out.TOTP.ExcludeTargets = slices.Clone(p.TOTP.ExcludeTargets)
	out.Passkey.Profiles = slices.Clone(p.Passkey.Profiles)
	for i := range out.Passkey.Profiles {
		pr := &out.Passkey.Profiles[i]
		pr.TargetGroupIDs = slices.Clone(pr.TargetGroupIDs)
		pr.KeyRestrictions.AAGUIDs = slices.Clone(pr.KeyRestrictions.AAGUIDs)
	}
	return out
}

// SetMethodsPolicy replaces the stored policy by p (see ChangeMethodsPolicy), with no lockout
// override: a change that leaves anyone with no way to sign in is refused.
func (s *Service) SetMethodsPolicy(ctx context.Context, p policy.MethodsPolicy) error {
	_, err := s.ChangeMethodsPolicy(ctx, 0, func(cur *policy.MethodsPolicy) error {
		*cur = p
		return nil
	})
	return err
}

// SetMethodsPolicyJSON decodes a policy document (missing fields keep their defaults) and
// stores it in place of the stored one (see ChangeMethodsPolicy).
func (s *Service) SetMethodsPolicyJSON(ctx context.Context, raw []byte, override int) (policy.MethodsPolicy, error) {
	p, err := decodeMethodsPolicy(raw)
	if err != nil {
		return p, err
	}
	return s.ChangeMethodsPolicy(ctx, override, func(cur *policy.MethodsPolicy) error {
		*cur = p
		return nil
	})
}

// ChangeMethodsPolicy reads the stored policy, lets change edit a copy of it, validates the
// result, checks that the groups it names exist, runs the lockout lint on the stored policy and
// the result, and stores the result. The lint refuses, with a *LockoutError, a change that
// leaves people who could sign in with no way in, unless override equals their number (see
// policy.LintMethodsChange). It returns the policy as changed, also when refused, so that a page
// can show what was entered; nothing is stored then. When another change (from this node or
// another) is stored between the read and the write, it starts again from the read, calling
// change again on the new policy, a few times; then it refuses with policy_changed_meanwhile.
func (s *Service) ChangeMethodsPolicy(ctx context.Context, override int, change func(*policy.MethodsPolicy) error) (policy.MethodsPolicy, error) {
	return retryChanged(ctx, func() (policy.MethodsPolicy, error) { return s.changeMethodsPolicyOnce(ctx, override, change) },
		latchkey.Errorf(latchkey.ECONFLICT, "policy_changed_meanwhile",
			"Someone else changed the authentication methods policy at the same time. Reload and make your change again.",
			"the stored methods policy changed between read and write %d times in a row; nothing was stored", settingAttempts))
}

// changeMethodsPolicyOnce is one attempt of ChangeMethodsPolicy; errSettingChanged when the
// stored policy changed after it was read.
func (s *Service) changeMethodsPolicyOnce(ctx context.Context, override int, change func(*policy.MethodsPolicy) error) (policy.MethodsPolicy, error) {
	raw, err := s.Store.GetSetting(ctx, methodsPolicyKey)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		raw = nil
	} else if err != nil {
		return policy.MethodsPolicy{}, err
	}
	before, err := s.methodsPolicyFrom(raw)
	if err != nil {
		return policy.MethodsPolicy{}, fmt.Errorf("stored methods policy: %w", err)
	}
	p := clonePolicy(before)
	if err := change(&p); err != nil {
		return p, err
	}
	if err := p.CheckNames(); err != nil {
		return p, err
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	groups := map[string]bool{}
	for _, t := range p.Targets() {
		groups[t.ID] = true
	}
	for _, pr := range p.Passkey.Profiles {
		for _, g := range pr.TargetGroupIDs {
			groups[g] = true
		}
	}
	delete(groups, policy.AllUsers)
	for id := range groups {
		if _, err := s.Store.FindGroupByID(ctx, id); latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return p, latchkey.Errorf(latchkey.EINVALID, "unknown_group", "The policy names a group that does not exist. Choose an existing group.",
				"no group with id %q", id)
		} else if err != nil {
			return p, err
		}
	}
	if err := s.lintMethodsChange(ctx, before, p, override); err != nil {
		return p, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return p, fmt.Errorf("encode methods policy: %w", err)
	}
	if err := s.replaceSetting(ctx, methodsPolicyKey, raw, b); err != nil {
		return p, err
	}
	s.Logger.InfoContext(ctx, "authentication methods policy changed", "profiles", len(p.Passkey.Profiles), "lockoutOverride", override)
	return p, nil
}

// policyUser returns what the policy needs to know about u: their groups and whether a guest.
func (s *Service) policyUser(ctx context.Context, u *latchkey.User) (policy.User, error) {
	groups, err := s.Store.ListUserGroups(ctx, u.ID)
	if err != nil {
		return policy.User{}, err
	}
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	return policy.UserOf(u, ids), nil
}

// metadata returns the imported FIDO metadata (nil when none). Each call reads only the small
// version key; the BLOB is read and verified again only after an import. Metadata that no longer
// loads (its next-update date has passed) counts as none, with a warning, rather than failing
// every ceremony: attestation then reads "untrusted" until a newer BLOB is imported.
func (s *Service) metadata(ctx context.Context) (*passkey.Metadata, error) {
	version, err := s.Store.GetSetting(ctx, passkey.MDSVersionKey)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return s.metadataAt(ctx, version)
}

// metadataAt returns the metadata of the stored version (nil: none imported), from the cache
// while the version is unchanged.
func (s *Service) metadataAt(ctx context.Context, version []byte) (*passkey.Metadata, error) {
	if version == nil {
		return nil, nil
	}
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mdsVersion != nil && bytes.Equal(c.mdsVersion, version) {
		return c.mds, nil
	}
	md, err := passkey.LoadMetadata(ctx, s.Store, s.now())
	if err != nil {
		if !latchkey.IsKind(err, latchkey.EINVALID) {
			return nil, err
		}
		s.Logger.WarnContext(ctx, "imported FIDO metadata cannot be used; import a newer BLOB with `latchkey mds import`", "err", err)
		md = nil
	}
	c.mdsVersion, c.mds = version, md
	return md, nil
}
