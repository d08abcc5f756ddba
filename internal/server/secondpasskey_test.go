package server

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

var secondCountRE = regexp.MustCompile(`id="att-second-passkey" data-count="(\d+)"`)

// TestSecondPasskeyNudge: a person with one passkey sees "Add a second passkey" on My Security
// Info, and someone with two does not until neither was used for the days the policy sets; the
// admin home counts them and links to the users list filtered to them; with the reminder off,
// neither the card nor the count appears.
func TestSecondPasskeyNudge(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	alice, _ := h.signedInClient("alice@example.com", false)
	alice.mustRegister(h.newDevice())
	bob, bu := h.signedInClient("bob@example.com", false)
	bob.mustRegister(h.newDevice())
	bob.mustRegister(h.newDevice())

	page := string(alice.get("/my/security-info").body)
	if !strings.Contains(page, `id="second-passkey-card" data-reason="one-device"`) || !strings.Contains(page, "Add a second passkey") {
		t.Errorf("one passkey: no second-passkey card: %.3000s", page)
	}
	if strings.Contains(string(bob.get("/my/security-info").body), `id="second-passkey-card"`) {
		t.Error("two passkeys used recently: the card is shown")
	}
	homeCount := func(c *client) string {
		t.Helper()
		r := c.get("/admin")
		if r.status != http.StatusOK {
			t.Fatalf("GET /admin: %d", r.status)
		}
		m := secondCountRE.FindSubmatch(r.body)
		if m == nil {
			return ""
		}
		if !strings.Contains(string(r.body), `href="/admin/users?show=secondpasskey"`) {
			t.Error("the admin home's count links nowhere")
		}
		return string(m[1])
	}
	if got := homeCount(admin); got != "1" {
		t.Errorf("admin home counts %q, want 1 (alice)", got)
	}
	list := string(admin.get("/admin/users?show=secondpasskey").body)
	if !strings.Contains(list, "alice@example.com") || strings.Contains(list, "bob@example.com") {
		t.Errorf("filtered users list: %.4000s", list)
	}

	// 91 days later neither of Bob's passkeys was used: he is reminded too.
	h.clock.Advance(91 * 24 * time.Hour)
	// (on his own browser: on a fresh one, the offer of a passkey on that device takes the card's place)
	bob2 := bob
	bob2.mustSignInTAP(bu.UserPrincipalName, h.issueTAP(bu.ID, signin.IssueOptions{}))
	if page := string(bob2.get("/my/security-info").body); !strings.Contains(page, `data-reason="unused"`) || !strings.Contains(page, "more than 90 days") {
		t.Errorf("unused passkeys: no reminder: %.3000s", page)
	}
	admin2, _ := h.signedInClient("admin2@example.com", true)
	if got := homeCount(admin2); got != "2" {
		t.Errorf("admin home counts %q after 91 days, want 2", got)
	}

	// A longer period, then the reminder off.
	p := h.storedPolicy()
	p.RegistrationCampaign.SecondPasskey.UnusedDays = 120
	h.setPolicy(p)
	if got := homeCount(admin2); got != "1" {
		t.Errorf("admin home counts %q with 120 days, want 1", got)
	}
	p.RegistrationCampaign.SecondPasskey.State = policy.StateDisabled
	h.setPolicy(p)
	if got := homeCount(admin2); got != "" {
		t.Errorf("reminder off: the admin home still counts %q", got)
	}
	if strings.Contains(string(bob2.get("/my/security-info").body), `id="second-passkey-card"`) {
		t.Error("reminder off: the card is shown")
	}
}

// TestSecondPasskeySettingOnPolicyPage: the policy page shows the reminder and changes it; a bad
// number of days is refused with the setting unchanged.
func TestSecondPasskeySettingOnPolicyPage(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	if page := string(admin.get("/admin/policy").body); !strings.Contains(page, `<dd id="second-passkey-state">enabled; passkeys count as unused after 90 days</dd>`) ||
		!strings.Contains(page, `name="unusedDays" value="90"`) {
		t.Fatalf("policy page: %.500s", page)
	}
	form := url.Values{"passwordState": {"disabled"}, "totpState": {"disabled"}, "passwordMinLength": {"15"}, "snoozesAllowed": {"3"}, "campaign": {"yes"},
		"unusedDays": {"30"}}
	if r := admin.postForm("/admin/policy/legacy", form); r.status != http.StatusSeeOther {
		t.Fatalf("save: %d %.2000s", r.status, r.body)
	}
	if sp := h.storedPolicy().RegistrationCampaign.SecondPasskey; sp != (policy.SecondPasskey{State: policy.StateDisabled, UnusedDays: 30}) {
		t.Errorf("stored %+v, want off after 30 days", sp)
	}
	form.Set("secondPasskey", "yes")
	form.Set("unusedDays", "0")
	if r := admin.postForm("/admin/policy/legacy", form); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "The second-passkey reminder is not valid") {
		t.Errorf("0 days: %d %.2000s", r.status, r.body)
	}
	form.Set("unusedDays", "120")
	if r := admin.postForm("/admin/policy/legacy", form); r.status != http.StatusSeeOther {
		t.Fatalf("save: %d", r.status)
	}
	if sp := h.storedPolicy().RegistrationCampaign.SecondPasskey; sp != (policy.SecondPasskey{State: policy.StateEnabled, UnusedDays: 120}) {
		t.Errorf("stored %+v, want on after 120 days", sp)
	}
}
