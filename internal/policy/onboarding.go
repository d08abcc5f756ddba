package policy

import (
	"fmt"
	"strings"
	"time"

	// The time zone database is linked in, so that a zone an admin chose is known on every node
	// whatever its operating system carries.
	_ "time/tzdata"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Who receives a new person's onboarding mail.
const (
	// RecipientManager sends the pass to the person's manager's work address (their mail).
	RecipientManager = "manager"
	// RecipientPersonalMail sends the pass to the person's own personal address (otherMails).
	RecipientPersonalMail = "personalMail"
)

// Onboarding defaults.
const (
	DefaultOnboardingTimeOfDay = "09:00"
	DefaultOnboardingTimeZone  = "UTC"
	// DefaultOnboardingLifetime is a working day, the longest the default policy allows.
	DefaultOnboardingLifetime = 480
	// OnboardingLateDays is how many days after a start date a person created late still gets
	// their pass by mail at once. A start date further back is someone who started long ago
	// (an import of existing staff from HR): no mail is sent for them.
	OnboardingLateDays = 14
)

// Onboarding is the onboarding automation's settings, kept in the temporary access pass
// section of the methods policy (a Latchkey extension of Graph's configuration): when a person
// is created with a start date, their pass is mailed on that day at TimeOfDay in TimeZone, to
// their manager or to their personal address, and works for LifetimeInMinutes.
type Onboarding struct {
	State string `json:"state"` // StateEnabled or StateDisabled
	// TimeOfDay is when the pass starts on the start date, "HH:MM" on a 24-hour clock.
	TimeOfDay string `json:"startTimeOfDay"`
	// TimeZone is the organisation's time zone, an IANA name such as Europe/Berlin.
	TimeZone string `json:"timeZone"`
	// LifetimeInMinutes is how long the pass works; within the pass method's minimum and maximum.
	LifetimeInMinutes int `json:"lifetimeInMinutes"`
	// Recipient is RecipientManager or RecipientPersonalMail.
	Recipient string `json:"recipient"`
	// OrganizationName names the organisation in the mail; empty: the sign-in address's host.
	OrganizationName string `json:"organizationName"`
	// HelpdeskContact says how people reach the IT helpdesk ("call +44 20 7946 0000 or go to
	// room 2.14"), in the mails that tell them of a recovery or a passkey change; empty: the
	// mails say to reach IT the usual way.
	HelpdeskContact string `json:"helpdeskContact,omitempty"`
}

// DefaultOnboarding is the onboarding of a fresh store: on, passes from 09:00 UTC for a working
// day, mailed to the manager.
func DefaultOnboarding() Onboarding {
	return Onboarding{State: StateEnabled, TimeOfDay: DefaultOnboardingTimeOfDay, TimeZone: DefaultOnboardingTimeZone,
		LifetimeInMinutes: DefaultOnboardingLifetime, Recipient: RecipientManager}
}

// invalidOnboarding returns an invalid_onboarding refusal; the admin reads both the sentence
// and the detail.
func invalidOnboarding(format string, args ...any) *latchkey.Error {
	s := fmt.Sprintf(format, args...)
	return latchkey.Errorf(latchkey.EINVALID, "invalid_onboarding", "The onboarding settings are not valid: "+s+".", "%s", s)
}

// Validate checks the settings that do not depend on the rest of the policy: state, time of day,
// time zone and recipient. It trims what was given.
func (o *Onboarding) Validate() *latchkey.Error {
	o.TimeOfDay, o.TimeZone = strings.TrimSpace(o.TimeOfDay), strings.TrimSpace(o.TimeZone)
	o.OrganizationName = strings.TrimSpace(o.OrganizationName)
	o.HelpdeskContact = strings.TrimSpace(o.HelpdeskContact)
	if o.State != StateEnabled && o.State != StateDisabled {
		return invalidOnboarding("the state must be enabled or disabled, not %q", o.State)
	}
	if _, _, err := parseTimeOfDay(o.TimeOfDay); err != nil {
		return invalidOnboarding("write the time the pass starts as hours and minutes on a 24-hour clock, like 09:00, not %q", o.TimeOfDay)
	}
	if _, err := o.location(); err != nil {
		return invalidOnboarding("%q is not a time zone; use a name such as Europe/Berlin, America/New_York or UTC", o.TimeZone)
	}
	if o.Recipient != RecipientManager && o.Recipient != RecipientPersonalMail {
		return invalidOnboarding("the pass goes to the manager or to the personal address (%s or %s), not %q", RecipientManager, RecipientPersonalMail, o.Recipient)
	}
	if len(o.OrganizationName) > latchkey.MaxNameLength {
		return invalidOnboarding("the organisation's name is longer than %d characters", latchkey.MaxNameLength)
	}
	if o.HelpdeskContact != "" {
		if err := latchkey.ValidateName("helpdesk contact", o.HelpdeskContact); err != nil {
			return invalidOnboarding("write how to reach the helpdesk on one line of at most %d characters, without control characters", latchkey.MaxNameLength)
		}
	}
	return nil
}

// CheckLifetime refuses an onboarding lifetime outside the pass method's bounds. It is checked
// when a policy is saved, not when a stored one is read (a policy stored before onboarding
// existed may bound passes below the default lifetime); a pass is issued with the lifetime
// brought within the bounds in force (Lifetime).
func (o Onboarding) CheckLifetime(t TAPMethod) *latchkey.Error {
	if o.LifetimeInMinutes < t.MinimumLifetimeInMinutes || o.LifetimeInMinutes > t.MaximumLifetimeInMinutes {
		return invalidOnboarding("the pass a new person gets must work between %d and %d minutes, as temporary access passes allow, not %d",
			t.MinimumLifetimeInMinutes, t.MaximumLifetimeInMinutes, o.LifetimeInMinutes)
	}
	return nil
}

// Lifetime returns the onboarding lifetime within t's bounds.
func (o Onboarding) Lifetime(t TAPMethod) int {
	return min(max(o.LifetimeInMinutes, t.MinimumLifetimeInMinutes), t.MaximumLifetimeInMinutes)
}

// Location returns the organisation's time zone; UTC when the setting names none known.
func (o Onboarding) Location() *time.Location {
	if loc, err := o.location(); err == nil {
		return loc
	}
	return time.UTC
}

func (o Onboarding) location() (*time.Location, error) {
	if o.TimeZone == "" || strings.EqualFold(o.TimeZone, "local") {
		// "Local" is the node's zone, which differs between nodes; "" is not a choice.
		return nil, fmt.Errorf("no time zone %q", o.TimeZone)
	}
	return time.LoadLocation(o.TimeZone)
}

// parseTimeOfDay reads "HH:MM" (or "H:MM") on a 24-hour clock.
func parseTimeOfDay(s string) (hour, minute int, err error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, 0, err
	}
	return t.Hour(), t.Minute(), nil
}

// StartDay reads a start date as a calendar day: "2027-01-04", or a date-time such as Entra's
// "2027-01-04T00:00:00Z", taken by the date as written whatever its offset.
func StartDay(s string) (year int, month time.Month, day int, err error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		dt, err2 := time.Parse(time.RFC3339, s)
		if err2 != nil {
			return 0, 0, 0, fmt.Errorf("parse start date %q: %w", s, err)
		}
		t, _ = time.Parse(time.DateOnly, dt.Format(time.DateOnly)) // the date as written
	}
	return t.Year(), t.Month(), t.Day(), nil
}

// PassStart returns when the pass of a person starting on startDate starts: the start date at
// TimeOfDay in TimeZone. A time the clocks skip that day (the hour lost when summer time
// begins) is taken as the same time of the clock after the change, an hour later.
func (o Onboarding) PassStart(startDate string) (time.Time, error) {
	y, m, d, err := StartDay(startDate)
	if err != nil {
		return time.Time{}, err
	}
	h, mm, err := parseTimeOfDay(o.TimeOfDay)
	if err != nil {
		h, mm, _ = parseTimeOfDay(DefaultOnboardingTimeOfDay)
	}
	loc := o.Location()
	t := time.Date(y, m, d, h, mm, 0, 0, loc)
	if t.Hour() != h || t.Minute() != mm {
		// The wall time does not exist that day: count it from the midnight before, which the
		// clocks show (no zone moves its clocks at midnight and at the hour after).
		t = time.Date(y, m, d, 0, 0, 0, 0, loc).Add(time.Duration(h)*time.Hour + time.Duration(mm)*time.Minute)
	}
	return t.UTC(), nil
}

// SendAt returns when the onboarding mail of a person starting on startDate is due, seen at now:
// the pass's start on that day (PassStart), or now when the start date is today or has passed
// (a person created on or after their first day). ok is false when no mail is due at all:
// onboarding is off, there is no start date, or it is more than OnboardingLateDays back.
func (o Onboarding) SendAt(startDate string, now time.Time) (at time.Time, ok bool, err error) {
	if o.State != StateEnabled || strings.TrimSpace(startDate) == "" {
		return time.Time{}, false, nil
	}
	y, m, d, err := StartDay(startDate)
	if err != nil {
		return time.Time{}, false, err
	}
	loc := o.Location()
	ny, nm, nd := now.In(loc).Date()
	start, today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC), time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)
	switch {
	case start.Before(today.AddDate(0, 0, -OnboardingLateDays)):
		return time.Time{}, false, nil
	case !start.After(today):
		return now.UTC(), true, nil
	}
	at, err = o.PassStart(startDate)
	return at, err == nil, err
}

// MinutesWords writes a number of minutes as people say it: "8 hours", "1 hour 30 minutes",
// "2 days".
func MinutesWords(m int) string {
	unit := func(n int, word string) string {
		if n == 1 {
			return "1 " + word
		}
		return fmt.Sprintf("%d %ss", n, word)
	}
	var parts []string
	if d := m / 1440; d > 0 {
		parts, m = append(parts, unit(d, "day")), m%1440
	}
	if h := m / 60; h > 0 {
		parts, m = append(parts, unit(h, "hour")), m%60
	}
	if m > 0 || len(parts) == 0 {
		parts = append(parts, unit(m, "minute"))
	}
	return strings.Join(parts, " ")
}
