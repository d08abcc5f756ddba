package directory

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/policy"
)

// onboardingLetter is what an onboarding mail says. It holds the pass, so it is built in memory
// at the moment of sending and never stored or logged.
type onboardingLetter struct {
	Org       string // the organisation's name
	PublicURL string // where Latchkey is reached, without a trailing slash
	Person    string // the new person's display name
	UPN       string // their user name
	UserID    string
	StartDate string // their first day, as stored
	ToManager bool   // the letter goes to their manager (else to the person)
	Greeting  string // the name of whom it goes to
	Pass      string
	From, To  time.Time // when the pass works
	OneTime   bool
	Zone      *time.Location
	ZoneName  string
}

// signInURL is the pass page with the person's user name filled in, as `tap issue` prints it.
func (l onboardingLetter) signInURL() string {
	return l.PublicURL + "/signin/tap?" + url.Values{"username": {l.UPN}}.Encode()
}

// when writes t in the organisation's zone for people: "Monday 4 January 2027, 09:00".
func (l onboardingLetter) when(t time.Time) string {
	return t.In(l.Zone).Format("Monday 2 January 2006, 15:04")
}

// window says from when until when the pass works, the day said once when it is the same.
func (l onboardingLetter) window() string {
	from, to := l.From.In(l.Zone), l.To.In(l.Zone)
	zone := fmt.Sprintf("%s time", l.ZoneName)
	fy, fm, fd := from.Date()
	if ty, tm, td := to.Date(); fy == ty && fm == tm && fd == td {
		return fmt.Sprintf("on %s, from %s until %s (%s)", from.Format("Monday 2 January 2006"), from.Format("15:04"), to.Format("15:04"), zone)
	}
	return fmt.Sprintf("from %s until %s (%s)", l.when(from), l.when(to), zone)
}

// subject is the mail's subject line; it names the person, never the pass.
func (l onboardingLetter) subject() string {
	if l.ToManager {
		return fmt.Sprintf("First sign-in for %s at %s", l.Person, l.Org)
	}
	return fmt.Sprintf("Welcome to %s: your first sign-in", l.Org)
}

// text is the mail's body in plain words.
func (l onboardingLetter) text() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	day := l.StartDate
	if y, m, d, err := policy.StartDay(l.StartDate); err == nil {
		day = time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format("Monday 2 January 2006")
	}
	w("Hello %s,", l.Greeting)
	w("")
	if l.ToManager {
		w("%s starts at %s on %s. Below is their temporary access pass: a code that lets them sign in", l.Person, l.Org, day)
		w("for the first time and set up a passkey, which they then use to sign in to %s. They never need a password.", l.Org)
		w("")
		w("Please give them the pass yourself, in person or over a channel you trust. Anyone who has it can sign in as them while it works.")
	} else {
		w("Welcome to %s. You start on %s. Below is your temporary access pass: a code that lets you sign in", l.Org, day)
		w("for the first time and set up a passkey, which you then use to sign in to %s. You never need a password.", l.Org)
		w("")
		w("Keep the pass to yourself. Anyone who has it can sign in as you while it works.")
	}
	w("")
	w("  Name:        %s", l.Person)
	w("  User name:   %s", l.UPN)
	w("  Sign in at:  %s", l.signInURL())
	w("  Pass:        %s", l.Pass)
	w("")
	once := ""
	if l.OneTime {
		once = " It works only once: set up the passkey in that one sign-in."
	}
	w("The pass works %s.%s", l.window(), once)
	w("It replaces any pass given before: an earlier pass no longer works.")
	w("")
	keeps := "you keep with you"
	if l.ToManager {
		keeps = "they keep with them"
	}
	w("What to do: open the sign-in address above, enter the pass, and follow the steps to set up a passkey")
	w("on a phone or computer %s.", keeps)
	w("")
	w("If the pass does not work, or this mail came too late: ask your IT team for a new pass. They find %s at", l.Person)
	w("%s/admin/users/%s and can issue one there (Latchkey's admin home is %s/admin).", l.PublicURL, url.PathEscape(l.UserID), l.PublicURL)
	w("")
	w("This mail was sent by Latchkey, the sign-in service of %s. Nobody will ever ask you to send the pass back by mail.", l.Org)
	return b.String()
}
