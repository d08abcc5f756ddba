package server

import (
	"net/http"
	"strings"
	"testing"

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
