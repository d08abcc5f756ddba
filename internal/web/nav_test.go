package web

import (
	"slices"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestAdminNav: the links follow authz for each actor, in navigation order, and the page shown
// (or a page under it) is marked current.
func TestAdminNav(t *testing.T) {
	person := func(asgs ...latchkey.RoleAssignment) latchkey.Actor {
		return latchkey.Actor{Kind: latchkey.ActorPerson, UserID: "u1", UPN: "u1@example.com", Roles: asgs}
	}
	global := func(role string) latchkey.RoleAssignment { return latchkey.RoleAssignment{UserID: "u1", Role: role} }
	all := []string{"nav-users", "nav-helpdesk", "nav-roles", "nav-units", "nav-policy", "nav-recovery", "nav-ca", "nav-inspect", "nav-apps", "nav-signins", "nav-tokens", "nav-audit", "nav-provisioning"}
	for _, tc := range []struct {
		name string
		a    latchkey.Actor
		want []string
	}{
		{"no role", person(), nil},
		{"signed out", latchkey.Actor{}, nil},
		{"global admin", person(global(latchkey.RoleGlobalAdmin)), all},
		{"reports reader", person(global(latchkey.RoleReportsReader)), []string{"nav-users", "nav-signins", "nav-audit", "nav-provisioning"}},
		{"policy admin", person(global(latchkey.RoleAuthenticationPolicyAdmin)), []string{"nav-users", "nav-policy", "nav-recovery", "nav-ca", "nav-inspect"}},
		{"helpdesk", person(global(latchkey.RoleAuthenticationAdmin)), []string{"nav-users", "nav-helpdesk"}},
		{"privileged helpdesk", person(global(latchkey.RolePrivilegedAuthenticationAdmin)), []string{"nav-users", "nav-helpdesk"}},
		// A role scoped to a unit covers no tenant-wide page; the users page lists the unit's
		// members.
		{"unit-scoped reports reader", person(latchkey.RoleAssignment{UserID: "u1", Role: latchkey.RoleReportsReader, UnitID: "unit1"}), []string{"nav-users"}},
		{"unit-scoped helpdesk", person(latchkey.RoleAssignment{UserID: "u1", Role: latchkey.RoleAuthenticationAdmin, UnitID: "unit1"}), []string{"nav-users", "nav-helpdesk"}},
		{"two roles", person(global(latchkey.RoleReportsReader), global(latchkey.RoleAuthenticationPolicyAdmin)),
			[]string{"nav-users", "nav-policy", "nav-recovery", "nav-ca", "nav-inspect", "nav-signins", "nav-audit", "nav-provisioning"}},
	} {
		var got []string
		for _, l := range adminNav(tc.a, "/admin/signins") {
			got = append(got, l.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}

	admin := person(global(latchkey.RoleGlobalAdmin))
	for path, want := range map[string]string{"/admin/signins": "nav-signins", "/admin/users/abc": "nav-users",
		"/admin/ca/new": "nav-ca", "/admin/strengths": "nav-ca", "/admin/whatif": "nav-ca", "/admin/apps": "nav-apps", "/admin": ""} {
		var current []string
		for _, l := range adminNav(admin, path) {
			if l.Current {
				current = append(current, l.ID)
			}
		}
		if (want == "" && current != nil) || (want != "" && !slices.Equal(current, []string{want})) {
			t.Errorf("%s: current %v, want %q", path, current, want)
		}
	}
}
