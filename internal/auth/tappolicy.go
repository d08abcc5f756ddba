package auth

import (
	"context"
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

// TAPPolicy returns the temporary access pass settings of the authentication methods policy.
func (s *Service) TAPPolicy(ctx context.Context) (TAPPolicy, error) {
	p, err := s.MethodsPolicy(ctx)
	if err != nil {
		return TAPPolicy{}, err
	}
	t := p.TemporaryAccessPass
	return TAPPolicy{State: t.State, DefaultLifetimeInMinutes: t.DefaultLifetimeInMinutes, MinimumLifetimeInMinutes: t.MinimumLifetimeInMinutes,
		MaximumLifetimeInMinutes: t.MaximumLifetimeInMinutes, IsUsableOnce: t.IsUsableOnce, DefaultLength: t.DefaultLength}, nil
}

// SetTAPPolicy validates t and stores it as the methods policy's TAP settings.
func (s *Service) SetTAPPolicy(ctx context.Context, t TAPPolicy) error {
	if err := t.Validate(); err != nil {
		return err
	}
	p, err := s.MethodsPolicy(ctx)
	if err != nil {
		return err
	}
	m := &p.TemporaryAccessPass
	m.State, m.DefaultLifetimeInMinutes, m.MinimumLifetimeInMinutes = t.State, t.DefaultLifetimeInMinutes, t.MinimumLifetimeInMinutes
	m.MaximumLifetimeInMinutes, m.IsUsableOnce, m.DefaultLength = t.MaximumLifetimeInMinutes, t.IsUsableOnce, t.DefaultLength
	return s.SetMethodsPolicy(ctx, p)
}
