package auth

import (
	"context"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// TAP policy bounds (DESIGN §5), as the policy package defines them.
const (
	MinTAPLifetime = policy.MinTAPLifetime
	MaxTAPLifetime = policy.MaxTAPLifetime
	MinTAPLength   = policy.MinTAPLength
	MaxTAPLength   = policy.MaxTAPLength
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

// DefaultTAPPolicy is the policy of a fresh store (policy.DefaultMethodsPolicy's TAP settings).
func DefaultTAPPolicy() TAPPolicy {
	return tapPolicyOf(policy.DefaultMethodsPolicy().TemporaryAccessPass)
}

func tapPolicyOf(t policy.TAPMethod) TAPPolicy {
	return TAPPolicy{State: t.State, DefaultLifetimeInMinutes: t.DefaultLifetimeInMinutes, MinimumLifetimeInMinutes: t.MinimumLifetimeInMinutes,
		MaximumLifetimeInMinutes: t.MaximumLifetimeInMinutes, IsUsableOnce: t.IsUsableOnce, DefaultLength: t.DefaultLength}
}

// Validate checks the policy against DESIGN §5's bounds.
func (p TAPPolicy) Validate() error {
	if p.State != policy.StateEnabled && p.State != policy.StateDisabled {
		return latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "The temporary access pass settings are not valid: the state must be enabled or disabled.",
			"state %q is not enabled or disabled", p.State)
	}
	m := policy.TAPMethod{DefaultLifetimeInMinutes: p.DefaultLifetimeInMinutes, MinimumLifetimeInMinutes: p.MinimumLifetimeInMinutes,
		MaximumLifetimeInMinutes: p.MaximumLifetimeInMinutes, DefaultLength: p.DefaultLength}
	if err := m.ValidateSettings(); err != nil {
		return err
	}
	return nil
}

// TAPPolicy returns the temporary access pass settings of the authentication methods policy.
func (s *Service) TAPPolicy(ctx context.Context) (TAPPolicy, error) {
	p, err := s.MethodsPolicy(ctx)
	if err != nil {
		return TAPPolicy{}, err
	}
	return tapPolicyOf(p.TemporaryAccessPass), nil
}

// SetTAPPolicy validates t and stores it as the methods policy's TAP settings, keeping the rest
// of the stored policy.
func (s *Service) SetTAPPolicy(ctx context.Context, t TAPPolicy) error {
	if err := t.Validate(); err != nil {
		return err
	}
	// Through ChangeMethodsPolicy, so that an edit of the rest of the policy made meanwhile stays.
	_, err := s.ChangeMethodsPolicy(ctx, 0, func(p *policy.MethodsPolicy) error {
		m := &p.TemporaryAccessPass
		m.State, m.DefaultLifetimeInMinutes, m.MinimumLifetimeInMinutes = t.State, t.DefaultLifetimeInMinutes, t.MinimumLifetimeInMinutes
		m.MaximumLifetimeInMinutes, m.IsUsableOnce, m.DefaultLength = t.MaximumLifetimeInMinutes, t.IsUsableOnce, t.DefaultLength
		return nil
	})
	return err
}
