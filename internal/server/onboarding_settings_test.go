package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/policy"
)

// TestOnboardingSettingsAPI: the onboarding settings are part of the pass section of the
// methods policy; an unknown zone, a bad time or a lifetime outside the pass bounds is refused
// with 400 and a sentence that names what was given; a good change is stored.
func TestOnboardingSettingsAPI(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	r := admin.get("/api/v1/policies/authenticationMethods")
	var p policy.MethodsPolicy
	r.decode(t, &p)
	if o := p.TemporaryAccessPass.Onboarding; o != policy.DefaultOnboarding() {
		t.Errorf("default onboarding %+v", o)
	}
	for _, c := range []struct{ body, words string }{
		{`{"timeZone": "Mars/Olympus"}`, `"Mars/Olympus" is not a time zone`},
		{`{"startTimeOfDay": "9am"}`, `24-hour clock, like 09:00, not "9am"`},
		{`{"startTimeOfDay": "24:30"}`, `not "24:30"`},
		{`{"lifetimeInMinutes": 600}`, "between 60 and 480 minutes"},
		{`{"recipient": "hr"}`, `not "hr"`},
	} {
		r := admin.send(http.MethodPut, "/api/v1/policies/authenticationMethods", `{"temporaryAccessPass": {"onboarding": `+c.body+`}}`)
		m := r.object(t)
		if msg, _ := m["message"].(string); r.status != http.StatusBadRequest || !strings.Contains(msg, c.words) || m["error"] != "invalid_onboarding" {
			t.Errorf("%s: %d %s; want 400 saying %q", c.body, r.status, r.body, c.words)
		}
	}
	if got := h.storedPolicy().TemporaryAccessPass.Onboarding; got != policy.DefaultOnboarding() {
		t.Errorf("a refused change was stored: %+v", got)
	}
	r = admin.send(http.MethodPut, "/api/v1/policies/authenticationMethods", `{"temporaryAccessPass": {"onboarding": {"state": "enabled",
		"startTimeOfDay": "08:30", "timeZone": "Europe/Berlin", "lifetimeInMinutes": 240, "recipient": "personalMail", "organizationName": "Example Ltd"}}}`)
	if r.status != http.StatusOK {
		t.Fatalf("good change: %d %s", r.status, r.body)
	}
	want := policy.Onboarding{State: policy.StateEnabled, TimeOfDay: "08:30", TimeZone: "Europe/Berlin", LifetimeInMinutes: 240,
		Recipient: policy.RecipientPersonalMail, OrganizationName: "Example Ltd"}
	if got := h.storedPolicy().TemporaryAccessPass.Onboarding; got != want {
		t.Errorf("stored %+v; want %+v", got, want)
	}
}

// TestOnboardingSettingsPage: the policy page shows the onboarding settings in plain words and
// changes them; a bad zone is refused on the page with the sentence, and nothing is stored.
func TestOnboardingSettingsPage(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	body := string(admin.get("/admin/policy").body)
	for _, want := range []string{`id="policy-onboarding"`, "the person's manager (their work address)", "09:00 on the start date, time zone UTC", "8 hours"} {
		if !strings.Contains(body, want) {
			t.Errorf("the policy page lacks %q", want)
		}
	}
	form := url.Values{"onboardingOn": {"yes"}, "recipient": {"personalMail"}, "timeOfDay": {"10:15"}, "timeZone": {"Mars/Olympus"},
		"onboardingLifetime": {"120"}, "helpdeskContact": {" call 020 7946 0000 or go to room 2.14 "}}
	r := admin.postForm("/admin/policy/onboarding", form)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "is not a time zone") {
		t.Fatalf("bad zone: %d %.600s", r.status, r.body)
	}
	form.Set("timeZone", "America/New_York")
	if r := admin.postForm("/admin/policy/onboarding", form); r.status != http.StatusSeeOther {
		t.Fatalf("good change: %d %.600s", r.status, r.body)
	}
	o := h.storedPolicy().TemporaryAccessPass.Onboarding
	if o.State != policy.StateEnabled || o.Recipient != policy.RecipientPersonalMail || o.TimeOfDay != "10:15" ||
		o.TimeZone != "America/New_York" || o.LifetimeInMinutes != 120 || o.HelpdeskContact != "call 020 7946 0000 or go to room 2.14" {
		t.Errorf("stored %+v", o)
	}
	body = string(admin.get("/admin/policy").body)
	for _, want := range []string{"the person's personal address", "10:15 on the start date, time zone America/New_York", "2 hours",
		`<dd id="onboarding-helpdesk">call 020 7946 0000 or go to room 2.14</dd>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the policy page lacks %q after the change", want)
		}
	}
	form.Del("onboardingOn")
	if r := admin.postForm("/admin/policy/onboarding", form); r.status != http.StatusSeeOther {
		t.Fatalf("turn off: %d %.600s", r.status, r.body)
	}
	if o := h.storedPolicy().TemporaryAccessPass.Onboarding; o.State != policy.StateDisabled {
		t.Errorf("turned off, stored %+v", o)
	}
}
