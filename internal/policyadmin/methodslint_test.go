package policyadmin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// TestMethodsLintPassUsableNow: a pass counts as a way in only while it is usable; a disabled
// user is not counted; the refusal names people by UPN.
func TestMethodsLintPassUsableNow(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	carol := addUser(t, svc, "carol@example.com")
	off := addUser(t, svc, "off@example.com")
	for _, u := range []*latchkey.User{carol, off} {
		if _, _, err := svc.IssueAccessPass(ctx, u.ID, signin.IssueOptions{LifetimeMinutes: 60}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Store.UpdateUser(ctx, off.ID, func(u *latchkey.User) error { u.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	passesOff := func(p *policy.MethodsPolicy) error {
		p.TemporaryAccessPass.State = policy.StateDisabled
		return nil
	}
	_, err := svc.ChangeMethodsPolicy(ctx, latchkey.SystemActor, 0, passesOff)
	var le *LockoutError
	if !errors.As(err, &le) || le.Err.Code != policy.CodeLockoutOverrideNeeded || le.Affected != 1 ||
		len(le.Policies) != 1 || !slices.Equal(le.Policies[0].Findings[0].UserPrincipalNames, []string{"carol@example.com"}) {
		t.Fatalf("refusal %v %+v", err, le)
	}
	// An hour later carol's pass has expired: she has no way in either way, and nobody is counted.
	clock.Add(61 * time.Minute)
	if _, err := svc.ChangeMethodsPolicy(ctx, latchkey.SystemActor, 0, passesOff); err != nil {
		t.Fatalf("with the pass expired: %v", err)
	}
}

// TestChangeMethodsPolicyChangedMeanwhile: a change that finds the stored policy changed by
// another node between its read and its write, at every attempt, is refused in the end, and the
// other node's policy stays.
func TestChangeMethodsPolicyChangedMeanwhile(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	calls := 0
	var other []byte
	_, err := svc.ChangeMethodsPolicy(ctx, latchkey.SystemActor, 0, func(p *policy.MethodsPolicy) error {
		calls++
		p.RegistrationCampaign.SnoozesAllowed = 5
		// Another node writes the policy while this change is being made, every time.
		other = fmt.Appendf(nil, `{"registrationCampaign": {"state": "disabled", "snoozesAllowed": %d}}`, calls%2)
		_, err := svc.Store.UpdateSetting(ctx, signin.MethodsPolicyKey, func([]byte) ([]byte, error) { return other, nil })
		return err
	})
	wantCode(t, err, "policy_changed_meanwhile")
	if calls != settingAttempts {
		t.Errorf("change made %d times, want %d (every attempt)", calls, settingAttempts)
	}
	if stored, err := svc.Store.GetSetting(ctx, signin.MethodsPolicyKey); err != nil || !bytes.Equal(stored, other) {
		t.Errorf("stored %s (%v), want the other node's policy", stored, err)
	}
}
