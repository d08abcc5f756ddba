package recovery

import (
	"fmt"
	"strings"
	"time"
)

// pathWords says in plain words how a recovery pass of path was issued, completing "The pass
// was issued ...".
func pathWords(path string) string {
	switch path {
	case PathKiosk:
		return `on a computer where you were already signed in with a passkey (the "I have a new phone" step on My Security Info)`
	case PathManager:
		return "by your manager, on their My Staff page, to hand to you in person"
	case PathIDV:
		return "after an identity check with the organisation's identity-verification service"
	case PathHelpdesk:
		return "by the IT helpdesk, after a second administrator approved the request"
	}
	return "by a way Latchkey does not name (" + path + ")"
}

// letterBase is what every notification mail says about where it comes from and when things
// happened. Notification letters never hold a pass, a code or a key.
type letterBase struct {
	Org       string // the organisation's name
	PublicURL string // where Latchkey is reached, without a trailing slash
	Person    string // the person's display name
	UPN       string // their user name
	Zone      *time.Location
	ZoneName  string
	Helpdesk  string // how people reach the IT helpdesk; "" when the settings do not say
}

// when writes t in the organisation's zone for people: "Thursday 3 December 2026, 10:15
// (Europe/Berlin time)".
func (l letterBase) when(t time.Time) string {
	return fmt.Sprintf("%s (%s time)", t.In(l.Zone).Format("Monday 2 January 2006, 15:04"), l.ZoneName)
}

// helpdesk says how to reach IT, following "contact IT at once".
func (l letterBase) helpdesk() string {
	if l.Helpdesk != "" {
		return ": " + strings.TrimSuffix(l.Helpdesk, ".")
	}
	return ", by phone or in person, the way you usually reach your IT team (not by replying to this mail)"
}

// recoveryLetter is the mail that tells a person (and their manager) that a recovery pass was
// issued for them.
type recoveryLetter struct {
	letterBase
	Path    string
	By      string
	At      time.Time
	To      []string // every address it goes to, as told in the mail
	Manager string   // the manager's name when they are told too
}

// subject names the person and what happened, never the pass.
func (l recoveryLetter) subject() string {
	return fmt.Sprintf("Security notice: a pass to get back into %s's %s account was issued", l.Person, l.Org)
}

// text is the mail's body in plain words.
func (l recoveryLetter) text() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("Hello %s,", l.Person)
	w("")
	w("A one-time pass to get back into your %s account (%s) was issued %s.", l.Org, l.UPN, pathWords(l.Path))
	w("Such a pass lets someone sign in once, without a passkey, and add a new passkey to your account.")
	w("")
	w("  What:     a one-time pass to get back into the account")
	w("  Account:  %s (%s)", l.Person, l.UPN)
	w("  By:       %s", l.By)
	w("  When:     %s", l.when(l.At))
	w("")
	w("If this was you, or you asked for it, there is nothing more to do.")
	w("")
	w("If it was not you, contact IT at once%s.", l.helpdesk())
	w("Someone may be trying to get into your account. The pass works only once and for at most")
	w("15 minutes from the time above: call right away, so that IT can stop it, remove any passkey")
	w("added with it and sign you out everywhere.")
	w("")
	w("This mail never contains the pass. Nobody from IT will ever ask you for a pass or a code.")
	w("")
	told := "It goes to every address on record for you"
	if l.Manager != "" {
		told += fmt.Sprintf(" and to your manager, %s", l.Manager)
	}
	w("%s: %s.", told, strings.Join(l.To, ", "))
	if l.Manager != "" {
		w("%s: you receive it as %s's manager. If you did not expect it, make sure they know, and call IT with them.", l.Manager, l.Person)
	}
	w("Sent by Latchkey, the sign-in service of %s (%s).", l.Org, l.PublicURL)
	return b.String()
}

// passkeyLetter is the mail that tells a person a passkey was added to or removed from their
// account.
type passkeyLetter struct {
	letterBase
	Added    bool
	Name     string // the passkey's name
	Kind     string // what kind of authenticator, in words
	Provider string // who made it, when known
	By       string
	At       time.Time
}

// subject says what happened to the person's account.
func (l passkeyLetter) subject() string {
	if l.Added {
		return fmt.Sprintf("A passkey was added to your %s account", l.Org)
	}
	return fmt.Sprintf("A passkey was removed from your %s account", l.Org)
}

// text is the mail's body in plain words.
func (l passkeyLetter) text() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("Hello %s,", l.Person)
	w("")
	what := "added to"
	if !l.Added {
		what = "removed from"
	}
	w("A passkey was %s your %s account (%s).", what, l.Org, l.UPN)
	w("")
	w("  Passkey:  %s", l.Name)
	kind := l.Kind
	if l.Provider != "" {
		kind += ", " + l.Provider
	}
	w("  Kind:     %s", kind)
	w("  By:       %s", l.By)
	w("  When:     %s", l.when(l.At))
	w("")
	w("If this was you, or you expected it, there is nothing more to do. Your passkeys are listed at")
	w("%s/my/security-info.", l.PublicURL)
	w("")
	if l.Added {
		w("If it was not you, contact IT at once%s. Someone else may be able to sign in as you", l.helpdesk())
		w("with that passkey until IT removes it.")
	} else {
		w("If it was not you, contact IT at once%s. Someone may be changing your account.", l.helpdesk())
	}
	w("")
	w("Sent by Latchkey, the sign-in service of %s (%s). It goes to every address on record for you.", l.Org, l.PublicURL)
	return b.String()
}
