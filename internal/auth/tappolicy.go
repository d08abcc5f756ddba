package auth

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// TAP policy bounds (DESIGN §5).
const (
	MinTAPLifetime = 10
	MaxTAPLifetime = 43200
	MinTAPLength   = 8
	MaxTAPLength   = 48
)

// TAPPolicy is the temporary access pass method's settings, shaped like Microsoft Graph's
// temporaryAccessPassAuthenticationMethodConfiguration.
type TAPPolicy struct {
	State                    string `json:"state"` // "enabled" or "disabled"
	DefaultLifetimeInMinutes int    `json:"defaultLifetimeInMinutes"`
	MinimumLifetimeInMinutes int    `json:"minimumLifetimeInMinutes"`
	MaximumLifetimeInMinutes int    `json:"maximumLifetimeInMinutes"`
	IsUsableOnce             bool   `json:"isUsableOnce"`
	DefaultLength            int    `json:"defaultLength"`
}

// DefaultTAPPolicy is the policy of a fresh store.
func DefaultTAPPolicy() TAPPolicy {
	return TAPPolicy{State: "enabled", DefaultLifetimeInMinutes: 60, MinimumLifetimeInMinutes: 60,
		MaximumLifetimeInMinutes: 480, DefaultLength: 8}
}

// Validate checks the policy against DESIGN §5's bounds.
func (p TAPPolicy) Validate() error {
	bad := func(detail string, args ...any) error {
		return latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "The temporary access pass settings are not valid: "+fmt.Sprintf(detail, args...)+".", detail, args...)
	}
	switch {
	case p.State != "enabled" && p.State != "disabled":
		return bad("state must be enabled or disabled")
	case p.MinimumLifetimeInMinutes < MinTAPLifetime || p.MinimumLifetimeInMinutes > MaxTAPLifetime:
		return bad("the minimum lifetime must be between %d and %d minutes", MinTAPLifetime, MaxTAPLifetime)
	case p.MaximumLifetimeInMinutes < MinTAPLifetime || p.MaximumLifetimeInMinutes > MaxTAPLifetime:
		return bad("the maximum lifetime must be between %d and %d minutes", MinTAPLifetime, MaxTAPLifetime)
	case p.MinimumLifetimeInMinutes > p.MaximumLifetimeInMinutes:
		return bad("the minimum lifetime may not exceed the maximum")
	case p.DefaultLifetimeInMinutes < p.MinimumLifetimeInMinutes || p.DefaultLifetimeInMinutes > p.MaximumLifetimeInMinutes:
		return bad("the default lifetime must be between the minimum and the maximum")
	case p.DefaultLength < MinTAPLength || p.DefaultLength > MaxTAPLength:
		return bad("the length must be between %d and %d characters", MinTAPLength, MaxTAPLength)
	}
	return nil
}

const tapPolicyKey = "policy.temporaryAccessPass"

// TAPPolicy returns the stored policy, or the default when none is stored.
func (s *Service) TAPPolicy(ctx context.Context) (TAPPolicy, error) {
	b, err := s.Store.GetSetting(ctx, tapPolicyKey)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return DefaultTAPPolicy(), nil
	} else if err != nil {
		return TAPPolicy{}, err
	}
	p := DefaultTAPPolicy()
	if err := json.Unmarshal(b, &p); err != nil {
		return TAPPolicy{}, fmt.Errorf("decode TAP policy: %w", err)
	}
	return p, nil
}

// SetTAPPolicy validates and stores p.
func (s *Service) SetTAPPolicy(ctx context.Context, p TAPPolicy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode TAP policy: %w", err)
	}
	return s.Store.PutSetting(ctx, tapPolicyKey, b)
}
