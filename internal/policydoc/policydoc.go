// Package policydoc is the stored form of the shared policy documents, the authentication
// methods policy and the conditional access configuration: the settings keys they are kept
// under, how they are decoded and validated, deep copies to edit, and a cache that decodes a
// document again only when its stored bytes change. Every node reads them from the store, so a
// change takes effect at once everywhere.
package policydoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// MethodsKey is where the authentication methods policy is stored.
const MethodsKey = "policy.authenticationMethods"

// ConditionalAccessKey is where the conditional access configuration (policies, custom
// strengths, named locations) is stored, as one document shared by every node.
const ConditionalAccessKey = "policy.conditionalAccess"

// Cache keeps the last decoded documents with the stored bytes they came from, so that a
// sign-in pays for a read of the store, not for decoding, while nothing changes. Its zero value
// is ready to use.
type Cache struct {
	mu      sync.Mutex
	raw     []byte
	methods policy.MethodsPolicy

	caMu  sync.Mutex
	caRaw []byte
	ca    *policy.ConditionalAccessConfig
}

// Methods decodes the stored methods policy (nil: none stored, the default), from the cache
// while it is unchanged. The result is the caller's to change.
func (c *Cache) Methods(raw []byte) (policy.MethodsPolicy, error) {
	if raw == nil {
		return policy.DefaultMethodsPolicy(), nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.raw != nil && bytes.Equal(c.raw, raw) {
		return CloneMethods(c.methods), nil
	}
	p, err := DecodeMethods(raw)
	if err != nil {
		return policy.MethodsPolicy{}, err
	}
	c.raw, c.methods = raw, p
	return CloneMethods(p), nil
}

// DecodeMethods decodes a stored or submitted policy over the default, so that fields it leaves
// out keep their defaults, and validates it.
func DecodeMethods(raw []byte) (policy.MethodsPolicy, error) {
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

// CloneMethods returns a deep copy, so that callers may change what they get without touching
// the cache (a sign-in reads the policy; copying its few slices is cheaper than decoding).
func CloneMethods(p policy.MethodsPolicy) policy.MethodsPolicy {
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

// ConditionalAccess decodes the stored conditional access configuration (raw: its bytes, "{}"
// when none is stored), validated, from the cache while it is unchanged. The result is shared
// and must not be changed; use DecodeConditionalAccess on the stored bytes, or
// CloneConditionalAccess, to edit.
func (c *Cache) ConditionalAccess(raw []byte) (*policy.ConditionalAccessConfig, error) {
	c.caMu.Lock()
	defer c.caMu.Unlock()
	if c.ca != nil && bytes.Equal(c.caRaw, raw) {
		return c.ca, nil
	}
	cfg, err := DecodeConditionalAccess(raw)
	if err != nil {
		return nil, fmt.Errorf("stored conditional access configuration: %w", err)
	}
	c.caRaw, c.ca = raw, cfg
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
