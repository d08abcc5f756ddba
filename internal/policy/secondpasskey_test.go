package policy

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestSecondPasskeyReason: one passkey is on one device; several are nudged only when none was
// used (or created) within the days the admin set; none, or the nudge off, is no reason.
func TestSecondPasskeyReason(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	sp := DefaultSecondPasskey()
	pk := func(created time.Time, used *time.Time) *latchkey.Passkey {
		return &latchkey.Passkey{CreatedAt: created, LastUsedAt: used}
	}
	old := now.AddDate(0, 0, -200)
	recent := now.AddDate(0, 0, -10)
	edge := now.AddDate(0, 0, -90)
	cases := []struct {
		name string
		sp   SecondPasskey
		pks  []*latchkey.Passkey
		want string
	}{
		{"none", sp, nil, ""},
		{"one, used today", sp, []*latchkey.Passkey{pk(old, &now)}, ReasonOneDevice},
		{"two, one used recently", sp, []*latchkey.Passkey{pk(old, nil), pk(old, &recent)}, ""},
		{"two, one created recently", sp, []*latchkey.Passkey{pk(old, nil), pk(recent, nil)}, ""},
		{"two, both unused", sp, []*latchkey.Passkey{pk(old, nil), pk(old, &old)}, ReasonUnused},
		{"two, last used exactly at the cutoff", sp, []*latchkey.Passkey{pk(old, nil), pk(old, &edge)}, ""},
		{"off", SecondPasskey{State: StateDisabled, UnusedDays: 90}, []*latchkey.Passkey{pk(old, nil)}, ""},
		{"shorter period", SecondPasskey{State: StateEnabled, UnusedDays: 5}, []*latchkey.Passkey{pk(old, nil), pk(old, &recent)}, ReasonUnused},
	}
	for _, tc := range cases {
		if got := tc.sp.Reason(tc.pks, now); got != tc.want {
			t.Errorf("%s: reason %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestSecondPasskeyValidate: the state is enabled or disabled; the days 1 to 3650; a policy
// refuses a bad setting with invalid_policy.
func TestSecondPasskeyValidate(t *testing.T) {
	for _, sp := range []SecondPasskey{{State: "on", UnusedDays: 90}, {State: StateEnabled, UnusedDays: 0}, {State: StateEnabled, UnusedDays: 3651}} {
		p := DefaultMethodsPolicy()
		p.RegistrationCampaign.SecondPasskey = sp
		if err := p.Validate(); latchkey.ErrorCode(err) != "invalid_policy" {
			t.Errorf("%+v: %v, want invalid_policy", sp, err)
		}
	}
	p := DefaultMethodsPolicy()
	p.RegistrationCampaign.SecondPasskey = SecondPasskey{State: StateDisabled, UnusedDays: 3650}
	if err := p.Validate(); err != nil {
		t.Errorf("a valid setting is refused: %v", err)
	}
}
