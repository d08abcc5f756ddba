package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// TestHelpdeskPages: over HTTP, a helpdesk admin's request for an admin's pass; an approver
// whose session came from a pass is told to sign in again with a passkey and cannot approve;
// a reports reader has no helpdesk page; and after the hour the list says the request expired,
// and creating its pass is refused.
func TestHelpdeskPages(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	hal := h.roleClient("hal@example.com", latchkey.RoleAuthenticationAdmin)
	pat := h.roleClient("pat@example.com", latchkey.RolePrivilegedAuthenticationAdmin)
	reader := h.roleClient("reader@example.com", latchkey.RoleReportsReader)
	ada := h.createUser("ada@example.com", false)
	if err := h.store.AssignRole(ctx, &latchkey.RoleAssignment{UserID: ada.ID, Role: latchkey.RoleAuthenticationPolicyAdmin}); err != nil {
		t.Fatal(err)
	}

	if r := hal.get("/admin/users/" + ada.ID); r.status != http.StatusOK || !strings.Contains(string(r.body), `href="/admin/helpdesk/new?user=`+ada.ID+`"`) {
		t.Fatalf("ada's page for the helpdesk: %d, no request link", r.status)
	}
	bad := hal.postForm("/admin/helpdesk", url.Values{"user": {ada.ID}, "reason": {"lost phone"}, "ticket": {"INC-1"}, "identityCheck": {"other"}})
	if bad.status != http.StatusBadRequest || !strings.Contains(string(bad.body), "Describe how you checked") {
		t.Errorf("request without the other check's description: %d %.300s", bad.status, bad.body)
	}
	r := hal.postForm("/admin/helpdesk", url.Values{"user": {ada.ID}, "reason": {"lost phone"}, "ticket": {"INC-1"},
		"identityCheck": {latchkey.IdentityCheckCallback}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/helpdesk?done=requested" {
		t.Fatalf("request: %d %s", r.status, r.header.Get("Location"))
	}
	reqs, err := h.store.ListHelpdeskRequests(ctx, time.Time{})
	if err != nil || len(reqs) != 1 {
		t.Fatalf("requests %v, %v; want 1", reqs, err)
	}
	id := reqs[0].ID

	list := pat.get("/admin/helpdesk")
	if list.status != http.StatusOK || !strings.Contains(string(list.body), "sign in again with a passkey") ||
		strings.Contains(string(list.body), `/admin/helpdesk/`+id+`/approve"`) {
		t.Errorf("a pass-signed-in approver's list: %d; want the passkey sign-in note and no approve link", list.status)
	}
	if r := pat.postForm("/admin/helpdesk/"+id+"/approve", url.Values{"confirm": {"yes"}}); r.status != http.StatusForbidden ||
		!strings.Contains(string(r.body), "fresh_signin_required") {
		t.Errorf("approval after a pass sign-in: %d %.300s", r.status, r.body)
	}
	if r := reader.get("/admin/helpdesk"); r.status != http.StatusForbidden {
		t.Errorf("a reports reader's helpdesk page: %d, want 403", r.status)
	}

	h.clock.Advance(latchkey.HelpdeskRequestLifetime + time.Minute)
	// Sessions are shorter than the hour: the requester signs in again.
	halUser, err := h.store.FindUserByUPN(ctx, "hal@example.com")
	if err != nil {
		t.Fatal(err)
	}
	hal = h.newClient()
	hal.mustSignInTAP("hal@example.com", h.issueTAP(halUser.ID, signin.IssueOptions{}))
	if r := hal.get("/admin/helpdesk"); !strings.Contains(string(r.body), `data-state="expired"`) || !strings.Contains(string(r.body), "file a new request") {
		t.Errorf("the requester's list after the hour does not say the request expired: %.600s", r.body)
	}
	if r := hal.postForm("/admin/helpdesk/"+id+"/execute", nil); r.status != http.StatusConflict || !strings.Contains(string(r.body), "request_expired") {
		t.Errorf("creating an expired request's pass: %d %.300s", r.status, r.body)
	}
	if _, err := h.store.FindAccessPassByUser(ctx, ada.ID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("ada has a pass: %v", err)
	}
}
