package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// wantSCIMError fails the test unless r is a SCIM Error answer with status.
func wantSCIMError(t *testing.T, what string, r *response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Errorf("%s: Content-Type %q, want application/scim+json", what, ct)
	}
	var e struct {
		Schemas []string `json:"schemas"`
		Status  string   `json:"status"`
		Detail  string   `json:"detail"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || len(e.Schemas) != 1 || e.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" ||
		e.Status != itoa(status) || e.Detail == "" {
		t.Errorf("%s: not a SCIM Error with status %q: %s", what, itoa(status), r.body)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSCIMMount: the server answers everything under /scim/v2 as SCIM (404, 405 and 401
// included), takes a provisioning token without cross-origin trouble, and a session cookie,
// even a global admin's, counts for nothing there.
func TestSCIMMount(t *testing.T) {
	h := newHarness(t)
	h.srv.MountSCIM(h.srv.SCIM())
	secret, _ := h.createToken("HR", directory.TokenExpiry{Never: true}, latchkey.ScopeUserReadWriteAll, latchkey.ScopeGroupReadWriteAll)
	c := h.newClient()
	r := c.bearer("GET", "/scim/v2/ServiceProviderConfig", "Bearer "+secret, "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/scim+json") {
		t.Fatalf("ServiceProviderConfig: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	wantSCIMError(t, "no such route", c.bearer("GET", "/scim/v2/Nope", "Bearer "+secret, ""), http.StatusNotFound)
	wantSCIMError(t, "no such method", c.bearer("DELETE", "/scim/v2/Users", "Bearer "+secret, ""), http.StatusMethodNotAllowed)
	wantSCIMError(t, "no token", c.bearer("GET", "/scim/v2/Users", "", ""), http.StatusUnauthorized)
	r = c.bearer("POST", "/scim/v2/Users", "Bearer "+secret, `{"userName":"new@example.com"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create by SCIM through the server: %d %s", r.status, r.body)
	}
	admin, _ := h.signedInClient("admin@example.com", true)
	r = admin.do("GET", "/scim/v2/Users", "", nil)
	wantSCIMError(t, "an admin's session cookie", r, http.StatusUnauthorized)
}

// TestSCIMActiveFalseEndsLiveSession: a person signed in in a browser is cut off by HR's
// active false at once, and the audit log names the token as the actor.
func TestSCIMActiveFalseEndsLiveSession(t *testing.T) {
	h := newHarness(t)
	h.srv.MountSCIM(h.srv.SCIM())
	secret, tok := h.createToken("HR", directory.TokenExpiry{Never: true}, latchkey.ScopeUserReadWriteAll)
	person, u := h.signedInClient("leaver@example.com", false)
	if r := person.get("/api/v1/me"); r.status != http.StatusOK {
		t.Fatalf("me before: %d %s", r.status, r.body)
	}
	hr := h.newClient()
	r := hr.bearer("PATCH", "/scim/v2/Users/"+u.ID, "Bearer "+secret,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	if r.status != http.StatusOK {
		t.Fatalf("SCIM disable: %d %s", r.status, r.body)
	}
	if r := person.get("/api/v1/me"); r.status != http.StatusUnauthorized {
		t.Errorf("me after active false: %d %s, want 401", r.status, r.body)
	}
	events, err := h.store.ListAuditEvents(t.Context(), latchkey.AuditFilter{Action: "user.disable", Target: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].ActorKind != latchkey.ActorToken || events[0].ActorID != tok.ID {
		t.Errorf("audit events %+v, want one user.disable by token %s", events, tok.ID)
	}
}
