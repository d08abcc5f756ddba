package directory

import (
	"strings"
	"testing"
	"time"
)

// TestOnboardingLetter: the mail says what the pass is for, who it is for and where to go (the
// full sign-in address with the user name filled in), the pass, from when until when it works in
// the organisation's zone, that it replaces any earlier pass, and what to do when it does not
// work; the subject names the person and never the pass.
func TestOnboardingLetter(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC)
	l := onboardingLetter{Org: "Example Ltd", PublicURL: "https://id.example.com", Person: "Ada Lovelace", UPN: "ada+new@example.com",
		UserID: "u-1", StartDate: "2027-01-04", ToManager: true, Greeting: "Grace Hopper", Pass: "Xy7kPq3m",
		From: from, To: from.Add(8 * time.Hour), Zone: berlin, ZoneName: "Europe/Berlin"}
	text := l.text()
	for _, want := range []string{
		"Hello Grace Hopper,",
		"Ada Lovelace starts at Example Ltd on Monday 4 January 2027",
		"set up a passkey",
		"User name:   ada+new@example.com",
		"Sign in at:  https://id.example.com/signin/tap?username=ada%2Bnew%40example.com",
		"Pass:        Xy7kPq3m",
		"The pass works on Monday 4 January 2027, from 09:00 until 17:00 (Europe/Berlin time).",
		"It replaces any pass given before: an earlier pass no longer works.",
		"ask your IT team for a new pass",
		"https://id.example.com/admin/users/u-1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the letter lacks %q:\n%s", want, text)
		}
	}
	if s := l.subject(); s != "First sign-in for Ada Lovelace at Example Ltd" || strings.Contains(s, l.Pass) {
		t.Errorf("subject %q", s)
	}
	if strings.Contains(text, "`") {
		t.Error("the letter has a backtick")
	}

	// To the person, over midnight, one-time.
	l.ToManager, l.Greeting, l.OneTime = false, "Ada Lovelace", true
	l.From, l.To = time.Date(2027, 1, 4, 20, 0, 0, 0, time.UTC), time.Date(2027, 1, 5, 4, 0, 0, 0, time.UTC)
	text = l.text()
	for _, want := range []string{"Welcome to Example Ltd. You start on Monday 4 January 2027.",
		"from Monday 4 January 2027, 21:00 until Tuesday 5 January 2027, 05:00 (Europe/Berlin time)",
		"It works only once", "a phone or computer you keep with you"} {
		if !strings.Contains(text, want) {
			t.Errorf("the letter to the person lacks %q:\n%s", want, text)
		}
	}
	if s := l.subject(); s != "Welcome to Example Ltd: your first sign-in" {
		t.Errorf("subject to the person %q", s)
	}
}
