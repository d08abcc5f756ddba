package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// apiCreate creates a person through the API and returns them as answered.
func (c *client) apiCreate(t *testing.T, body map[string]any) *latchkey.User {
	t.Helper()
	r := c.post("/api/v1/users", body)
	if r.status != http.StatusCreated {
		t.Fatalf("create %v: %d %s", body["userPrincipalName"], r.status, r.body)
	}
	var u latchkey.User
	r.decode(t, &u)
	return &u
}

// TestOnboardingPages: the admin home lists the new people whose pass cannot be mailed ("needs a
// pass by hand") with a link to their page, and no one else; a person's page says where their
// onboarding is.
func TestOnboardingPages(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	day := h.clock.Now().AddDate(0, 0, 10).Format("2006-01-02")
	boss := admin.apiCreate(t, map[string]any{"userPrincipalName": "boss@example.com", "mail": "boss@mail.example.com"})
	ada := admin.apiCreate(t, map[string]any{"userPrincipalName": "ada@example.com", "displayName": "Ada Lovelace",
		"employeeHireDate": day + "T00:00:00Z", "managerId": boss.ID})
	lone := admin.apiCreate(t, map[string]any{"userPrincipalName": "lone@example.com", "displayName": "Lone Starter", "employeeHireDate": day})
	if ada.StartDate != day {
		t.Errorf("start date given as a date-time stored as %q; want %q", ada.StartDate, day)
	}

	body := string(admin.get("/admin").body)
	if !strings.Contains(body, `id="att-pass-by-hand" data-count="1"`) || !strings.Contains(body, `href="/admin/users/`+lone.ID+`"`) ||
		!strings.Contains(body, "no manager with a work address") {
		t.Errorf("the admin home does not list lone as needing a pass by hand:\n%s", body)
	}
	if strings.Contains(body, `data-user="ada@example.com"`) {
		t.Error("the admin home lists ada, whose manager has an address")
	}

	body = string(admin.get("/admin/users/" + ada.ID).body)
	if !strings.Contains(body, `id="target-onboarding" data-stage="waiting"`) || !strings.Contains(body, "boss@mail.example.com waits until") {
		t.Errorf("ada's page does not say the mail waits:\n%s", body)
	}
	body = string(admin.get("/admin/users/" + lone.ID).body)
	if !strings.Contains(body, `data-stage="needsPassByHand"`) || !strings.Contains(body, `href="#issue-tap"`) {
		t.Errorf("lone's page does not say a pass is needed by hand")
	}

	// Giving lone a manager with an address takes them off the list.
	if r := admin.send(http.MethodPatch, "/api/v1/users/"+lone.ID, map[string]any{"otherMails": []string{"lone@home.example.net"}}); r.status != http.StatusOK {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if r := admin.send(http.MethodPut, "/api/v1/policies/authenticationMethods", `{"temporaryAccessPass": {"onboarding": {"recipient": "personalMail"}}}`); r.status != http.StatusOK {
		t.Fatalf("recipient: %d %s", r.status, r.body)
	}
	body = string(admin.get("/admin").body)
	if !strings.Contains(body, `id="att-pass-by-hand" data-count="1"`) || !strings.Contains(body, `data-user="ada@example.com"`) ||
		!strings.Contains(body, "no personal address") {
		t.Errorf("with passes to personal addresses, the admin home should list ada only:\n%s", body)
	}
}

// TestOnboardingCreateOnPage: the users page creates a person with a start date, a manager (by
// user name) and addresses, and their onboarding mail is queued; an unknown manager is refused
// and the form keeps what was typed.
func TestOnboardingCreateOnPage(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	boss := h.createUser("boss@example.com", false)
	day := h.clock.Now().AddDate(0, 0, 4).Format("2006-01-02")
	form := url.Values{"upn": {"ada@example.com"}, "displayName": {"Ada Lovelace"}, "userType": {"member"}, "startDate": {day},
		"manager": {"nobody@example.com"}, "mail": {"ada@example.com"}, "personalMail": {"ada@home.example.net"}}
	r := admin.postForm("/admin/users", form)
	if r.status != http.StatusNotFound || !strings.Contains(string(r.body), "That user does not exist.") ||
		!strings.Contains(string(r.body), `value="`+day+`"`) {
		t.Fatalf("unknown manager: %d %.600s", r.status, r.body)
	}
	form.Set("manager", "boss@example.com")
	if r := admin.postForm("/admin/users", form); r.status != http.StatusSeeOther {
		t.Fatalf("create: %d %.600s", r.status, r.body)
	}
	ada, err := h.store.FindUserByUPN(context.Background(), "ada@example.com")
	if err != nil || ada.StartDate != day || ada.ManagerID != boss.ID || ada.PersonalMail != "ada@home.example.net" {
		t.Fatalf("stored %+v, %v", ada, err)
	}
	items, err := h.store.ListMail(context.Background(), latchkey.MailFilter{SubjectID: ada.ID, State: latchkey.MailPending})
	if err != nil || len(items) != 1 || items[0].NotBefore.Format(time.RFC3339) != day+"T09:00:00Z" {
		t.Errorf("queued %+v, %v", items, err)
	}
}
