package policyadmin

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// SetMethodsPolicy replaces the stored policy by p (see ChangeMethodsPolicy), with no lockout
// override: a change that leaves anyone with no way to sign in is refused.
func (s *Service) SetMethodsPolicy(ctx context.Context, a latchkey.Actor, p policy.MethodsPolicy) error {
	if err := decide(a, authz.ActionWriteMethodsPolicy); err != nil {
		return err
	}
	ctx = latchkey.Audit(ctx, a, "methodsPolicy.update", "policy", "authenticationMethodsPolicy", "Authentication methods policy", nil)
	_, err := s.changeMethodsPolicy(ctx, 0, func(cur *policy.MethodsPolicy) error {
		*cur = p
		return nil
	})
	return err
}

// SetMethodsPolicyJSON decodes a policy document (missing fields keep their defaults) and
// stores it in place of the stored one (see ChangeMethodsPolicy).
func (s *Service) SetMethodsPolicyJSON(ctx context.Context, a latchkey.Actor, raw []byte, override int) (policy.MethodsPolicy, error) {
	if err := decide(a, authz.ActionWriteMethodsPolicy); err != nil {
		return policy.MethodsPolicy{}, err
	}
	ctx = latchkey.Audit(ctx, a, "methodsPolicy.update", "policy", "authenticationMethodsPolicy", "Authentication methods policy", nil)
	p, err := signin.DecodeMethodsPolicy(raw)
	if err != nil {
		return p, err
	}
	return s.changeMethodsPolicy(ctx, override, func(cur *policy.MethodsPolicy) error {
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
func (s *Service) ChangeMethodsPolicy(ctx context.Context, a latchkey.Actor, override int, change func(*policy.MethodsPolicy) error) (policy.MethodsPolicy, error) {
	if err := decide(a, authz.ActionWriteMethodsPolicy); err != nil {
		return policy.MethodsPolicy{}, err
	}
	ctx = latchkey.Audit(ctx, a, "methodsPolicy.update", "policy", "authenticationMethodsPolicy", "Authentication methods policy", nil)
	return s.changeMethodsPolicy(ctx, override, change)
}

// changeMethodsPolicy is ChangeMethodsPolicy once the actor has been allowed.
func (s *Service) changeMethodsPolicy(ctx context.Context, override int, change func(*policy.MethodsPolicy) error) (policy.MethodsPolicy, error) {
	return retryChanged(ctx, func() (policy.MethodsPolicy, error) { return s.changeMethodsPolicyOnce(ctx, override, change) },
		latchkey.Errorf(latchkey.ECONFLICT, "policy_changed_meanwhile",
			"Someone else changed the authentication methods policy at the same time. Reload and make your change again.",
			"the stored methods policy changed between read and write %d times in a row; nothing was stored", settingAttempts))
}

// changeMethodsPolicyOnce is one attempt of ChangeMethodsPolicy; errSettingChanged when the
// stored policy changed after it was read.
func (s *Service) changeMethodsPolicyOnce(ctx context.Context, override int, change func(*policy.MethodsPolicy) error) (policy.MethodsPolicy, error) {
	change = recordMethodsPolicy(ctx, change)
	raw, err := s.Store.GetSetting(ctx, signin.MethodsPolicyKey)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		raw = nil
	} else if err != nil {
		return policy.MethodsPolicy{}, err
	}
	before, err := s.MethodsPolicyFrom(raw)
	if err != nil {
		return policy.MethodsPolicy{}, fmt.Errorf("stored methods policy: %w", err)
	}
	p := signin.CloneMethodsPolicy(before)
	if err := change(&p); err != nil {
		return p, err
	}
	if err := p.CheckNames(); err != nil {
		return p, err
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	if err := checkOnboardingLifetime(before.TemporaryAccessPass, &p.TemporaryAccessPass); err != nil {
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
	if err := s.replaceSetting(ctx, signin.MethodsPolicyKey, raw, b); err != nil {
		return p, err
	}
	s.Logger.InfoContext(ctx, "authentication methods policy changed", "profiles", len(p.Passkey.Profiles), "lockoutOverride", override)
	return p, nil
}

// SetTAPPolicy validates t and stores it as the methods policy's TAP settings, keeping the rest
// of the stored policy.
func (s *Service) SetTAPPolicy(ctx context.Context, a latchkey.Actor, t signin.TAPPolicy) error {
	if err := decide(a, authz.ActionWriteMethodsPolicy); err != nil {
		return err
	}
	ctx = latchkey.Audit(ctx, a, "methodsPolicy.update", "policy", "authenticationMethodsPolicy", "Authentication methods policy", map[string]any{"temporaryAccessPass": t})
	if err := t.Validate(); err != nil {
		return err
	}
	// Through ChangeMethodsPolicy, so that an edit of the rest of the policy made meanwhile stays.
	_, err := s.changeMethodsPolicy(ctx, 0, func(p *policy.MethodsPolicy) error {
		m := &p.TemporaryAccessPass
		m.State, m.DefaultLifetimeInMinutes, m.MinimumLifetimeInMinutes = t.State, t.DefaultLifetimeInMinutes, t.MinimumLifetimeInMinutes
		m.MaximumLifetimeInMinutes, m.IsUsableOnce, m.DefaultLength = t.MaximumLifetimeInMinutes, t.IsUsableOnce, t.DefaultLength
		return nil
	})
	return err
}

// checkOnboardingLifetime refuses an onboarding lifetime that the change sets outside the pass
// bounds. A change of the bounds alone brings the onboarding lifetime within them instead (so
// that narrowing the bounds is not refused for a setting the admin did not touch, and a policy
// stored before onboarding existed keeps working).
func checkOnboardingLifetime(before policy.TAPMethod, after *policy.TAPMethod) error {
	if before.Onboarding.LifetimeInMinutes != after.Onboarding.LifetimeInMinutes {
		if err := after.Onboarding.CheckLifetime(*after); err != nil {
			return err
		}
	}
	after.Onboarding.LifetimeInMinutes = after.Onboarding.Lifetime(*after)
	return nil
}

// recordMethodsPolicy wraps change so that the context's methods-policy audit event (if any)
// records the policy as change leaves it.
func recordMethodsPolicy(ctx context.Context, change func(*policy.MethodsPolicy) error) func(*policy.MethodsPolicy) error {
	return func(p *policy.MethodsPolicy) error {
		if err := change(p); err != nil {
			return err
		}
		for _, e := range latchkey.AuditEvents(ctx) {
			if e.Action == "methodsPolicy.update" {
				e.Summary = map[string]any{"policy": *p}
			}
		}
		return nil
	}
}
