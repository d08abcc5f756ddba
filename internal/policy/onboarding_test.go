package policy

import (
	"strings"
	"testing"
	"time"
)

// onboardingIn returns the default onboarding at tod in zone.
func onboardingIn(zone, tod string) Onboarding {
	o := DefaultOnboarding()
	o.TimeZone, o.TimeOfDay = zone, tod
	return o
}

// TestOnboardingPassStartInZone: the pass starts on the start date at the time of day in the
// organisation's zone, whatever that is in UTC, across summer time changes; a date-time start
// date is taken by the date as written, whatever its offset.
func TestOnboardingPassStartInZone(t *testing.T) {
	for _, c := range []struct {
		zone, tod, date string
		want            string // RFC 3339, UTC
	}{
		{"UTC", "09:00", "2027-01-04", "2027-01-04T09:00:00Z"},
		{"Europe/Berlin", "09:00", "2027-01-04", "2027-01-04T08:00:00Z"},
		{"Europe/Berlin", "09:00", "2027-07-05", "2027-07-05T07:00:00Z"},
		// The day summer time begins in Berlin (28 March 2027): 09:00 is already CEST.
		{"Europe/Berlin", "09:00", "2027-03-27", "2027-03-27T08:00:00Z"},
		{"Europe/Berlin", "09:00", "2027-03-28", "2027-03-28T07:00:00Z"},
		// 02:30 does not exist that day: the clocks go from 02:00 to 03:00; 03:30 CEST it is.
		{"Europe/Berlin", "02:30", "2027-03-28", "2027-03-28T01:30:00Z"},
		// New York (14 March 2027), where Go's own choice would be an hour early.
		{"America/New_York", "02:30", "2027-03-14", "2027-03-14T07:30:00Z"},
		{"America/New_York", "09:00", "2027-11-07", "2027-11-07T14:00:00Z"},
		// Entra's date-time: the date as written, not converted to the zone first.
		{"Pacific/Auckland", "09:00", "2027-01-04T00:00:00Z", "2027-01-03T20:00:00Z"},
		{"America/Los_Angeles", "08:30", "2027-01-04T00:00:00Z", "2027-01-04T16:30:00Z"},
		{"America/Los_Angeles", "08:30", "2027-01-04T23:00:00-02:00", "2027-01-04T16:30:00Z"},
	} {
		got, err := onboardingIn(c.zone, c.tod).PassStart(c.date)
		if err != nil {
			t.Errorf("%s %s %s: %v", c.zone, c.tod, c.date, err)
			continue
		}
		if got.Format(time.RFC3339) != c.want {
			t.Errorf("%s %s %s: pass starts %s; want %s", c.zone, c.tod, c.date, got.Format(time.RFC3339), c.want)
		}
	}
}

// TestOnboardingSendAt: a future start date is due at the pass's start; today (in the
// organisation's zone, not in UTC) and a few days back are due now; long ago, no date, or
// onboarding off send nothing.
func TestOnboardingSendAt(t *testing.T) {
	tokyo := onboardingIn("Asia/Tokyo", "09:00")
	// 2027-01-03 20:00 UTC is already 2027-01-04 05:00 in Tokyo.
	now := time.Date(2027, 1, 3, 20, 0, 0, 0, time.UTC)
	off := tokyo
	off.State = StateDisabled
	for _, c := range []struct {
		name, date string
		o          Onboarding
		wantOK     bool
		want       time.Time
	}{
		{"tomorrow in Tokyo", "2027-01-05", tokyo, true, time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)},
		{"today in Tokyo, though tomorrow in UTC", "2027-01-04", tokyo, true, now},
		{"yesterday", "2027-01-03", tokyo, true, now},
		{"late by the limit", "2026-12-21", tokyo, true, now},
		{"longer ago than the limit", "2026-12-20", tokyo, false, time.Time{}},
		{"years ago", "2019-05-01", tokyo, false, time.Time{}},
		{"no start date", "", tokyo, false, time.Time{}},
		{"onboarding off", "2027-01-05", off, false, time.Time{}},
		{"date-time taken by date", "2027-01-05T00:00:00Z", tokyo, true, time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)},
	} {
		at, ok, err := c.o.SendAt(c.date, now)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if ok != c.wantOK || !at.Equal(c.want) {
			t.Errorf("%s: due %v %v; want %v %v", c.name, at, ok, c.want, c.wantOK)
		}
	}
	if _, _, err := tokyo.SendAt("4 January", now); err == nil {
		t.Error("an unreadable start date was accepted")
	}
}

// TestOnboardingValidate: unknown zones, times that are not on a 24-hour clock and unknown
// recipients are refused with invalid_onboarding and a sentence naming what was given; the
// lifetime is refused outside the pass bounds.
func TestOnboardingValidate(t *testing.T) {
	good := DefaultOnboarding()
	if err := good.Validate(); err != nil {
		t.Fatalf("default refused: %v", err)
	}
	for name, change := range map[string]func(*Onboarding){
		"unknown zone":              func(o *Onboarding) { o.TimeZone = "Mars/Olympus" },
		"empty zone":                func(o *Onboarding) { o.TimeZone = "" },
		"local zone":                func(o *Onboarding) { o.TimeZone = "Local" },
		"hour 25":                   func(o *Onboarding) { o.TimeOfDay = "25:00" },
		"no minutes":                func(o *Onboarding) { o.TimeOfDay = "9" },
		"am/pm":                     func(o *Onboarding) { o.TimeOfDay = "9am" },
		"state":                     func(o *Onboarding) { o.State = "on" },
		"recipient":                 func(o *Onboarding) { o.Recipient = "hr" },
		"long org name":             func(o *Onboarding) { o.OrganizationName = string(make([]byte, 300)) },
		"two-line helpdesk contact": func(o *Onboarding) { o.HelpdeskContact = "call 0800\nor mail" },
		"long helpdesk contact":     func(o *Onboarding) { o.HelpdeskContact = strings.Repeat("x", 300) },
	} {
		o := DefaultOnboarding()
		change(&o)
		err := o.Validate()
		if err == nil || err.Code != "invalid_onboarding" {
			t.Errorf("%s: %v; want invalid_onboarding", name, err)
		}
	}
	tap := DefaultMethodsPolicy().TemporaryAccessPass
	for lifetime, ok := range map[int]bool{60: true, 480: true, 59: false, 481: false} {
		o := DefaultOnboarding()
		o.LifetimeInMinutes = lifetime
		if err := o.CheckLifetime(tap); (err == nil) != ok {
			t.Errorf("lifetime %d: %v; want accepted %v", lifetime, err, ok)
		}
	}
	o := DefaultOnboarding()
	o.LifetimeInMinutes = 1000
	if got := o.Lifetime(tap); got != 480 {
		t.Errorf("lifetime within bounds: %d; want 480", got)
	}
}

// TestMinutesWords: lifetimes read as people say them.
func TestMinutesWords(t *testing.T) {
	for m, want := range map[int]string{480: "8 hours", 60: "1 hour", 90: "1 hour 30 minutes", 10: "10 minutes",
		1440: "1 day", 43200: "30 days", 1501: "1 day 1 hour 1 minute", 0: "0 minutes"} {
		if got := MinutesWords(m); got != want {
			t.Errorf("%d: %q; want %q", m, got, want)
		}
	}
}
