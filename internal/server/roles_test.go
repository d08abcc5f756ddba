package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestRoleTakesEffectOnNextRequest: a session made before a role was assigned is refused, then
// allowed once the role is assigned, without signing in again, then refused once it is removed;
// on the API and on the pages.
func TestRoleTakesEffectOnNextRequest(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	dir := directory.New(h.svc)
	c, _ := h.signedInClient("rita@example.com", false)

	errorBody(t, c.get("/api/v1/users"), http.StatusForbidden, "not_allowed")
	checkErrorPage(t, c.get("/admin/users"), "not_allowed")
	checkErrorPage(t, c.get("/admin/roles"), "not_allowed")

	if _, err := dir.AssignRole(ctx, latchkey.CLIActor, "rita@example.com", latchkey.RoleReportsReader, ""); err != nil {
		t.Fatal(err)
	}
	if r := c.get("/api/v1/users"); r.status != http.StatusOK || !strings.Contains(string(r.body), "rita@example.com") {
		t.Errorf("users after the role was assigned: %d %s", r.status, r.body)
	}
	r := c.get("/admin/roles")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "reportsReader") || strings.Contains(string(r.body), `id="assign-role"`) {
		t.Errorf("/admin/roles for a reports reader: %d; want the list without the assign form: %.2000s", r.status, r.body)
	}
	// The reader sees users but may not create one, nor assign a role: the forms are hidden, and
	// posting them anyway is refused.
	if r := c.get("/admin/users"); r.status != http.StatusOK || strings.Contains(string(r.body), `id="add-user"`) {
		t.Errorf("/admin/users for a reports reader: %d; want the list without the add form", r.status)
	}
	errorBody(t, c.post("/api/v1/users", map[string]string{"userPrincipalName": "x@example.com"}), http.StatusForbidden, "not_allowed")
	r = c.postForm("/admin/roles", url.Values{"user": {"rita@example.com"}, "role": {latchkey.RoleGlobalAdmin}, "unit": {""}})
	if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "not_allowed") {
		t.Errorf("reader assigns a role on the page: %d %.1000s", r.status, r.body)
	}

	if err := dir.RemoveRole(ctx, latchkey.CLIActor, "rita@example.com", latchkey.RoleReportsReader, ""); err != nil {
		t.Fatal(err)
	}
	errorBody(t, c.get("/api/v1/users"), http.StatusForbidden, "not_allowed")
	checkErrorPage(t, c.get("/admin/users"), "not_allowed")
}

// TestUnitHelpdeskOverHTTP: a helpdesk scoped to a unit issues passes inside it only, and never
// for a global admin without approval; the refusals reach the API as 403 with authz's codes.
func TestUnitHelpdeskOverHTTP(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	dir := directory.New(h.svc)
	for _, upn := range []string{"ben@example.com", "nora@example.com"} {
		h.createUser(upn, false)
	}
	ga := h.createUser("ga@example.com", true)
	if _, err := dir.CreateUnit(ctx, latchkey.CLIActor, "Berlin"); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"ben@example.com", "ga@example.com"} {
		if _, err := dir.AddUnitMember(ctx, latchkey.CLIActor, "Berlin", m); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := h.signedInClient("help@example.com", false)
	if _, err := dir.AssignRole(ctx, latchkey.CLIActor, "help@example.com", latchkey.RoleAuthenticationAdmin, "Berlin"); err != nil {
		t.Fatal(err)
	}
	tap := func(upn string) *response {
		return c.post("/api/v1/users/"+upn+"/authentication/temporaryAccessPassMethods", nil)
	}
	if r := tap("ben@example.com"); r.status != http.StatusCreated || !strings.Contains(string(r.body), `"createdBy":"help@example.com"`) {
		t.Errorf("pass for ben inside the unit: %d %s", r.status, r.body)
	}
	errorBody(t, tap("nora@example.com"), http.StatusForbidden, "outside_unit")
	errorBody(t, tap("ga@example.com"), http.StatusForbidden, "approval_required")
	errorBody(t, tap("help@example.com"), http.StatusForbidden, "not_for_yourself")
	errorBody(t, c.get("/api/v1/users/nora@example.com"), http.StatusForbidden, "outside_unit")
	if r := c.get("/api/v1/users"); r.status != http.StatusOK || !strings.Contains(string(r.body), "ben@example.com") || strings.Contains(string(r.body), "nora@example.com") {
		t.Errorf("unit helpdesk's user list: %d %s; want ben, not nora", r.status, r.body)
	}
	// The page of a global admin in the unit shows who they are but not their methods, nor the
	// pass form.
	r := c.get("/admin/users/" + ga.ID)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `id="methods-hidden"`) || strings.Contains(string(r.body), `id="issue-tap"`) {
		t.Errorf("global admin's page for the unit helpdesk: %d %.2000s", r.status, r.body)
	}
	if _, err := h.store.FindAccessPassByUser(ctx, ga.ID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("a refused pass was stored: %v", err)
	}
}

// TestRolesAndUnitsPages: a global admin assigns a role with the form, removes it only through
// the confirmation page, creates a unit, adds a member, and sets a manager.
func TestRolesAndUnitsPages(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	pat := h.createUser("pat@example.com", false)

	if r := admin.postForm("/admin/units", url.Values{"name": {"Berlin"}}); r.status != http.StatusSeeOther {
		t.Fatalf("create unit: %d %.1000s", r.status, r.body)
	}
	units, err := h.store.ListUnits(context.Background())
	if err != nil || len(units) != 1 {
		t.Fatalf("units %v, %v", units, err)
	}
	berlin := units[0]
	if r := admin.postForm("/admin/units/members", url.Values{"unit": {berlin.ID}, "member": {"pat@example.com"}}); r.status != http.StatusSeeOther {
		t.Fatalf("add unit member: %d %.1000s", r.status, r.body)
	}
	if r := admin.get("/admin/units"); !strings.Contains(string(r.body), "pat@example.com") || !strings.Contains(string(r.body), `id="add-unit"`) {
		t.Errorf("/admin/units: %d %.2000s", r.status, r.body)
	}
	r := admin.get("/admin/roles")
	for _, want := range []string{`id="assign-role"`, `<option value="` + latchkey.RoleAuthenticationAdmin + `"`, `<option value="` + berlin.ID + `"`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/admin/roles lacks %s", want)
		}
	}
	checkErrorPage(t, admin.postForm("/admin/roles", url.Values{"user": {"pat@example.com"}, "role": {"helpdesk"}, "unit": {""}}), "invalid_choice")
	if r := admin.postForm("/admin/roles", url.Values{"user": {"pat@example.com"}, "role": {latchkey.RoleAuthenticationAdmin}, "unit": {berlin.ID}}); r.status != http.StatusSeeOther {
		t.Fatalf("assign: %d %.1000s", r.status, r.body)
	}
	if r := admin.get("/admin/users/" + pat.ID); !strings.Contains(string(r.body), "Authentication admin (helpdesk) · unit Berlin") {
		t.Errorf("pat's page does not show the role with its scope: %.3000s", r.body)
	}
	// Removing asks first; the form without the box ticked removes nothing.
	confirm := admin.get("/admin/roles/remove?user=" + pat.ID + "&role=" + latchkey.RoleAuthenticationAdmin + "&unit=" + berlin.ID)
	if confirm.status != http.StatusOK || !strings.Contains(string(confirm.body), `id="remove-role"`) {
		t.Fatalf("confirmation page: %d %.1000s", confirm.status, confirm.body)
	}
	fields := url.Values{"user": {pat.ID}, "role": {latchkey.RoleAuthenticationAdmin}, "unit": {berlin.ID}}
	checkErrorPage(t, admin.postForm("/admin/roles/remove", fields), "confirmation_required")
	if asgs, _ := h.store.ListRoleAssignments(context.Background(), pat.ID); len(asgs) != 1 {
		t.Fatalf("an unconfirmed removal removed the role: %v", asgs)
	}
	fields.Set("confirm", "yes")
	if r := admin.postForm("/admin/roles/remove", fields); r.status != http.StatusSeeOther {
		t.Fatalf("remove: %d %.1000s", r.status, r.body)
	}
	if asgs, _ := h.store.ListRoleAssignments(context.Background(), pat.ID); len(asgs) != 0 {
		t.Errorf("role not removed: %v", asgs)
	}

	if r := admin.postForm("/admin/users/"+pat.ID+"/manager", url.Values{"manager": {"admin@example.com"}}); r.status != http.StatusSeeOther {
		t.Fatalf("set manager: %d %.1000s", r.status, r.body)
	}
	if r := admin.get("/admin/users/" + pat.ID); !strings.Contains(string(r.body), `id="target-manager"><a href="/admin/users/`) {
		t.Errorf("pat's page does not show the manager: %.3000s", r.body)
	}
	r = admin.postForm("/admin/users/"+pat.ID+"/manager", url.Values{"manager": {"pat@example.com"}})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "cannot be their own manager") {
		t.Errorf("own manager on the page: %d %.1000s", r.status, r.body)
	}
}
