package policy

import (
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Second-passkey nudge bounds: after how many days without a passkey sign-in a person is asked
// to check their passkeys and add a second one.
const (
	DefaultSecondPasskeyUnusedDays = 90
	MaxSecondPasskeyUnusedDays     = 3650
)

// Why a person is nudged to add a second passkey (SecondPasskey.Reason).
const (
	// ReasonOneDevice: the person's only passkey is on one device; losing it locks them out.
	ReasonOneDevice = "one-device"
	// ReasonUnused: none of the person's passkeys was used for UnusedDays.
	ReasonUnused = "unused"
)

// SecondPasskey is the nudge to add a second passkey, kept in the registration campaign of the
// methods policy (a Latchkey extension): people whose only passkey sits on one device, or whose
// passkeys were not used for UnusedDays, see a card on My Security Info, and the admin home
// counts them.
type SecondPasskey struct {
	State      string `json:"state"` // StateEnabled or StateDisabled
	UnusedDays int    `json:"unusedDays"`
}

// DefaultSecondPasskey is the nudge of a fresh store: on, after 90 days without use.
func DefaultSecondPasskey() SecondPasskey {
	return SecondPasskey{State: StateEnabled, UnusedDays: DefaultSecondPasskeyUnusedDays}
}

// Validate checks the state and the number of days.
func (sp SecondPasskey) Validate() *latchkey.Error {
	if sp.State != StateEnabled && sp.State != StateDisabled {
		return invalidSecondPasskey("the state must be enabled or disabled, not %q", sp.State)
	}
	if sp.UnusedDays < 1 || sp.UnusedDays > MaxSecondPasskeyUnusedDays {
		return invalidSecondPasskey("the days without use must be between 1 and %d, not %d", MaxSecondPasskeyUnusedDays, sp.UnusedDays)
	}
	return nil
}

func invalidSecondPasskey(format string, args ...any) *latchkey.Error {
	s := fmt.Sprintf(format, args...)
	return latchkey.Errorf(latchkey.EINVALID, "invalid_policy", "The second-passkey reminder is not valid: "+s+".", "registrationCampaign.secondPasskey: %s", s)
}

// UnusedBefore is the time before which a person's passkeys count as unused, seen at now.
func (sp SecondPasskey) UnusedBefore(now time.Time) time.Time {
	return now.AddDate(0, 0, -sp.UnusedDays)
}

// Reason returns why a person with passkeys pks is nudged to add one, seen at now: ReasonOneDevice
// when they have exactly one (two passkeys of one person are always on two authenticators, since
// registration excludes the ones they have), ReasonUnused when the last use (or creation) of every
// one is before UnusedBefore, and "" otherwise, when the nudge is off, or when they have none
// (that is the registration campaign's business).
func (sp SecondPasskey) Reason(pks []*latchkey.Passkey, now time.Time) string {
	if sp.State != StateEnabled || len(pks) == 0 {
		return ""
	}
	if len(pks) == 1 {
		return ReasonOneDevice
	}
	cutoff := sp.UnusedBefore(now)
	for _, pk := range pks {
		last := pk.CreatedAt
		if pk.LastUsedAt != nil && pk.LastUsedAt.After(last) {
			last = *pk.LastUsedAt
		}
		if !last.Before(cutoff) {
			return ""
		}
	}
	return ReasonUnused
}
