package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// directoryState is everything an admin surface could change, as JSON, to compare before and
// after a series of refused requests.
func (h *harness) directoryState() string {
	h.t.Helper()
	ctx := context.Background()
	var state []any
	users, err := h.store.ListUsers(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, u := range users {
		asgs, err := h.store.ListRoleAssignments(ctx, u.ID)
		if err != nil {
			h.t.Fatal(err)
		}
		ap, err := h.store.FindAccessPassByUser(ctx, u.ID)
		if err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND) {
			h.t.Fatal(err)
		}
		state = append(state, u, asgs, ap)
	}
	apps, err := h.store.ListClients(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	tokens, err := h.store.ListAPITokens(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	units, err := h.store.ListUnits(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	mp, err := h.svc.MethodsPolicy(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	ca, err := h.svc.ConditionalAccess(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	state = append(state, apps, tokens, units, mp, ca)
	b, err := json.Marshal(state)
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

// TestRolesEndToEnd holds the roles of DESIGN §5 through the API and the pages alike, each
// refusal performed as the person would try it: the helpdesk cannot reach a global admin's
// methods, a policy admin cannot issue a pass, a reports reader changes nothing, and an admin
// scoped to a unit stays in it.
func TestRolesEndToEnd(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	dir := directory.New(h.svc)
	ga := h.createUser("ga@example.com", true)
	plain := h.createUser("plain@example.com", false)
	inUnit := h.createUser("in-unit@example.com", false)
	if _, err := dir.CreateUnit(ctx, latchkey.CLIActor, "Lyon"); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.AddUnitMember(ctx, latchkey.CLIActor, "Lyon", inUnit.UserPrincipalName); err != nil {
		t.Fatal(err)
	}
	tapPath := func(u *latchkey.User) string {
		return "/api/v1/users/" + u.ID + "/authentication/temporaryAccessPassMethods"
	}

	t.Run("helpdesk cannot reach a global admin's methods", func(t *testing.T) {
		c := h.roleClient("helpdesk@example.com", latchkey.RoleAuthenticationAdmin)
		before := h.directoryState()
		errorBody(t, c.get("/api/v1/users/"+ga.ID+"/authentication/fido2Methods"), http.StatusForbidden, "privileged_target")
		errorBody(t, c.post(tapPath(ga), nil), http.StatusForbidden, "approval_required")
		checkErrorPage(t, c.postForm("/admin/users/"+ga.ID+"/tap", url.Values{"lifetime": {"60"}}), "approval_required")
		if r := c.get("/admin/users/" + ga.ID); r.status != http.StatusOK || strings.Contains(string(r.body), `id="issue-tap"`) {
			t.Errorf("the global admin's page for the helpdesk: %d, want it without the pass form", r.status)
		}
		if after := h.directoryState(); after != before {
			t.Errorf("refused requests changed the directory")
		}
		// The same helpdesk does its job for a person with no role.
		if r := c.post(tapPath(plain), nil); r.status != http.StatusCreated {
			t.Errorf("helpdesk pass for a person with no role: %d %s", r.status, r.body)
		}
	})

	t.Run("policy admin cannot issue a pass", func(t *testing.T) {
		c := h.roleClient("policy@example.com", latchkey.RoleAuthenticationPolicyAdmin)
		before := h.directoryState()
		errorBody(t, c.post(tapPath(plain), nil), http.StatusForbidden, "not_allowed")
		checkErrorPage(t, c.postForm("/admin/users/"+plain.ID+"/tap", url.Values{"lifetime": {"60"}}), "not_allowed")
		if after := h.directoryState(); after != before {
			t.Errorf("refused requests changed the directory")
		}
		if r := c.get("/admin/users/" + plain.ID); strings.Contains(string(r.body), `id="issue-tap"`) {
			t.Errorf("the policy admin is offered the pass form")
		}
	})

	t.Run("reports reader changes nothing", func(t *testing.T) {
		c := h.roleClient("reader@example.com", latchkey.RoleReportsReader)
		before := h.directoryState()
		for _, rq := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/users", map[string]string{"userPrincipalName": "new@example.com"}},
			{"POST", tapPath(plain), nil},
			{"PUT", "/api/v1/policies/authenticationMethods", map[string]any{}},
			{"POST", "/api/v1/identity/conditionalAccess/policies", map[string]any{"displayName": "x"}},
			{"POST", "/api/v1/identity/conditionalAccess/namedLocations", map[string]any{"displayName": "x"}},
			{"POST", "/api/v1/applications", map[string]any{"name": "x", "redirectUris": []string{"https://app.example.com/cb"}}},
		} {
			r := c.send(rq.method, rq.path, rq.body)
			if r.status != http.StatusForbidden {
				t.Errorf("reports reader %s %s: %d %s, want 403", rq.method, rq.path, r.status, r.body)
			}
		}
		for _, f := range []struct {
			path   string
			fields url.Values
		}{
			{"/admin/users", url.Values{"upn": {"new@example.com"}, "displayName": {"New"}}},
			{"/admin/users/" + plain.ID + "/tap", url.Values{"lifetime": {"60"}}},
			{"/admin/users/" + plain.ID + "/manager", url.Values{"manager": {"ga@example.com"}}},
			{"/admin/roles", url.Values{"user": {"reader@example.com"}, "role": {latchkey.RoleGlobalAdmin}}},
			{"/admin/units", url.Values{"name": {"Paris"}}},
			{"/admin/tokens", url.Values{"name": {"mine"}, "scopes": {latchkey.ScopeUserReadWriteAll}, "expires": {"90"}}},
			{"/admin/apps", url.Values{"name": {"x"}, "redirectUris": {"https://app.example.com/cb"}}},
			{"/admin/locations", url.Values{"name": {"Office"}, "cidrs": {"192.0.2.0/24"}}},
			{"/admin/policy/default", url.Values{"profile": {"x"}}},
		} {
			r := c.postForm(f.path, f.fields)
			if r.status != http.StatusForbidden {
				t.Errorf("reports reader posts %s: %d, want 403 (%.300s)", f.path, r.status, r.body)
			}
		}
		if after := h.directoryState(); after != before {
			t.Errorf("a reports reader's requests changed the directory")
		}
		// What the role is for works.
		if r := c.get("/admin/signins"); r.status != http.StatusOK {
			t.Errorf("reports reader's sign-in log: %d", r.status)
		}
		if r := c.get("/api/v1/auditLogs/signIns"); r.status != http.StatusOK {
			t.Errorf("reports reader's sign-in log API: %d", r.status)
		}
	})

	t.Run("nobody learns who exists without the right to look", func(t *testing.T) {
		c := h.roleClient("nobody@example.com", "")
		for _, ref := range []string{plain.ID, "plain@example.com", "no-such-person@example.com"} {
			errorBody(t, c.get("/api/v1/users/"+url.PathEscape(ref)), http.StatusForbidden, "not_allowed")
			errorBody(t, c.post("/api/v1/users/"+url.PathEscape(ref)+"/authentication/temporaryAccessPassMethods", nil), http.StatusForbidden, "not_allowed")
		}
		p := h.roleClient("policy2@example.com", latchkey.RoleAuthenticationPolicyAdmin)
		for _, ref := range []string{plain.ID, "no-such-person@example.com"} {
			errorBody(t, p.get("/api/v1/users/"+url.PathEscape(ref)+"/authentication/fido2Methods"), http.StatusForbidden, "not_allowed")
		}
	})

	t.Run("unit-scoped admin stays in the unit", func(t *testing.T) {
		c, u := h.signedInClient("lyon-admin@example.com", false)
		if err := h.store.AssignRole(ctx, &latchkey.RoleAssignment{UserID: u.ID, Role: latchkey.RolePrivilegedAuthenticationAdmin, UnitID: mustUnitID(t, h, "Lyon")}); err != nil {
			t.Fatal(err)
		}
		before := h.directoryState()
		errorBody(t, c.post(tapPath(plain), nil), http.StatusForbidden, "outside_unit")
		checkErrorPage(t, c.postForm("/admin/users/"+plain.ID+"/tap", url.Values{"lifetime": {"60"}}), "outside_unit")
		errorBody(t, c.get("/api/v1/users/"+plain.ID), http.StatusForbidden, "outside_unit")
		checkErrorPage(t, c.get("/admin/users/"+ga.ID), "outside_unit")
		// Tenant-wide objects are never within a unit's scope.
		errorBody(t, c.get("/api/v1/policies/authenticationMethods"), http.StatusForbidden, "not_allowed")
		checkErrorPage(t, c.postForm("/admin/roles", url.Values{"user": {"lyon-admin@example.com"}, "role": {latchkey.RoleGlobalAdmin}}), "")
		if after := h.directoryState(); after != before {
			t.Errorf("refused requests changed the directory")
		}
		r := c.get("/api/v1/users")
		if r.status != http.StatusOK || !strings.Contains(string(r.body), "in-unit@example.com") || strings.Contains(string(r.body), "plain@example.com") {
			t.Errorf("the unit admin's user list: %d %s; want only the unit's members", r.status, r.body)
		}
		// The console takes them to the users page, which lists the unit's members only.
		if r := c.get("/admin"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/users" {
			t.Errorf("/admin for the unit admin: %d to %q, want 303 to /admin/users", r.status, r.header.Get("Location"))
		}
		if r := c.get("/admin/users"); r.status != http.StatusOK || !strings.Contains(string(r.body), "in-unit@example.com") || strings.Contains(string(r.body), "plain@example.com") {
			t.Errorf("the unit admin's users page: %d; want only the unit's members", r.status)
		}
		if r := c.post(tapPath(inUnit), nil); r.status != http.StatusCreated {
			t.Errorf("pass inside the unit: %d %s", r.status, r.body)
		}
	})
}

// mustUnitID returns the id of the administrative unit named name.
func mustUnitID(t *testing.T, h *harness, name string) string {
	t.Helper()
	u, err := h.store.FindUnitByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
