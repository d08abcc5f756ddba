package directory

import (
	"context"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// actorOf returns u's actor as a request would resolve it: their role assignments from the store.
func actorOf(t *testing.T, svc *Service, u *latchkey.User) latchkey.Actor {
	t.Helper()
	a, err := svc.Signin.PersonActor(context.Background(), nil, u)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// people creates one user per UPN, assigning role (at unitRef when not "") when role is given.
type person struct{ upn, role, unit string }

func mkPeople(t *testing.T, svc *Service, ps ...person) map[string]*latchkey.User {
	t.Helper()
	ctx := context.Background()
	out := map[string]*latchkey.User{}
	for _, p := range ps {
		u := &latchkey.User{UserPrincipalName: p.upn, Enabled: true}
		if err := svc.CreateUser(ctx, latchkey.CLIActor, u); err != nil {
			t.Fatal(err)
		}
		if p.role != "" {
			if _, err := svc.AssignRole(ctx, latchkey.CLIActor, u.ID, p.role, p.unit); err != nil {
				t.Fatalf("assign %s to %s: %v", p.role, p.upn, err)
			}
		}
		out[strings.SplitN(p.upn, "@", 2)[0]] = u
	}
	return out
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Errorf("%s: %v; want allowed", what, err)
		}
		return
	}
	if latchkey.ErrorCode(err) != code {
		t.Errorf("%s: %v; want %s", what, err, code)
	}
}

// TestDirectoryRefusals: the service asks authz before it acts, with the person's roles as the
// store holds them, and a refused action changes nothing.
func TestDirectoryRefusals(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateUnit(ctx, latchkey.CLIActor, "Berlin"); err != nil {
		t.Fatal(err)
	}
	p := mkPeople(t, svc,
		person{upn: "ga@example.com", role: latchkey.RoleGlobalAdmin},
		person{upn: "help@example.com", role: latchkey.RoleAuthenticationAdmin},
		person{upn: "bhelp@example.com", role: latchkey.RoleAuthenticationAdmin, unit: "Berlin"},
		person{upn: "reader@example.com", role: latchkey.RoleReportsReader},
		person{upn: "policy@example.com", role: latchkey.RoleAuthenticationPolicyAdmin},
		person{upn: "nora@example.com"},
		person{upn: "ben@example.com"},
	)
	if _, err := svc.AddUnitMember(ctx, latchkey.CLIActor, "Berlin", "ben@example.com"); err != nil {
		t.Fatal(err)
	}
	issue := func(actor, target string) error {
		_, _, err := svc.IssueAccessPass(ctx, actorOf(t, svc, p[actor]), p[target].ID, signin.IssueOptions{})
		return err
	}
	wantCode(t, "helpdesk issues a pass to a person with no role", issue("help", "nora"), "")
	wantCode(t, "helpdesk issues a pass to a global admin", issue("help", "ga"), authz.CodeApprovalRequired)
	if _, err := svc.Store.FindAccessPassByUser(ctx, p["ga"].ID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("a refused pass for the global admin was stored: %v", err)
	}
	wantCode(t, "Berlin helpdesk issues a pass inside Berlin", issue("bhelp", "ben"), "")
	wantCode(t, "Berlin helpdesk issues a pass outside Berlin", issue("bhelp", "nora"), authz.CodeOutsideUnit)
	wantCode(t, "policy admin issues a pass", issue("policy", "nora"), authz.CodeNotAllowed)
	for _, self := range []string{"ga", "help", "bhelp", "nora"} {
		wantCode(t, self+" issues a pass for themself", issue(self, self), authz.CodeNotForYourself)
	}
	if _, ap, err := svc.IssueAccessPass(ctx, latchkey.CLIActor, p["ga"].ID, signin.IssueOptions{}); err != nil || ap.CreatedBy != "cli" {
		t.Errorf("CLI pass for the global admin: %+v, %v; want one created by cli", ap, err)
	}

	err := svc.CreateUser(ctx, actorOf(t, svc, p["reader"]), &latchkey.User{UserPrincipalName: "x@example.com", Enabled: true})
	wantCode(t, "reports reader creates a user", err, authz.CodeNotAllowed)
	if _, err := svc.Store.FindUserByUPN(ctx, "x@example.com"); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("a refused user was stored: %v", err)
	}
	err = svc.CreateUser(ctx, actorOf(t, svc, p["nora"]), &latchkey.User{UserPrincipalName: "y@example.com", Enabled: true})
	wantCode(t, "person without a role creates a user", err, authz.CodeNotAllowed)
	err = svc.CreateGroup(ctx, actorOf(t, svc, p["help"]), &latchkey.Group{DisplayName: "Staff"})
	wantCode(t, "helpdesk creates a group", err, authz.CodeNotAllowed)

	// Listing: a global role sees everyone, a unit-scoped one its unit, no role nothing.
	all, err := svc.ListUsers(ctx, actorOf(t, svc, p["reader"]))
	if err != nil || len(all) != 7 {
		t.Errorf("reports reader lists %d users, %v; want 7", len(all), err)
	}
	inBerlin, err := svc.ListUsers(ctx, actorOf(t, svc, p["bhelp"]))
	if err != nil || len(inBerlin) != 1 || inBerlin[0].ID != p["ben"].ID {
		t.Errorf("Berlin helpdesk lists %v, %v; want ben only", inBerlin, err)
	}
	_, err = svc.ListUsers(ctx, actorOf(t, svc, p["nora"]))
	wantCode(t, "person without a role lists users", err, authz.CodeNotAllowed)
	_, err = svc.FindUser(ctx, actorOf(t, svc, p["bhelp"]), "nora@example.com")
	wantCode(t, "Berlin helpdesk looks up someone outside Berlin", err, authz.CodeOutsideUnit)

	// Methods: the helpdesk sees those of people without roles, not an admin's.
	_, err = svc.UserMethods(ctx, actorOf(t, svc, p["help"]), p["nora"].ID)
	wantCode(t, "helpdesk reads a person's methods", err, "")
	_, err = svc.UserMethods(ctx, actorOf(t, svc, p["help"]), p["ga"].ID)
	wantCode(t, "helpdesk reads a global admin's methods", err, authz.CodePrivilegedTarget)
	_, err = svc.UserMethods(ctx, actorOf(t, svc, p["reader"]), p["nora"].ID)
	wantCode(t, "reports reader reads a person's methods", err, authz.CodeNotAllowed)
}

// TestRolesAndUnits: only a global admin (or the CLI) assigns roles and changes units; anyone
// with a role over the whole directory lists them; an unknown role is refused naming the valid
// ones.
func TestRolesAndUnits(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	p := mkPeople(t, svc,
		person{upn: "ga@example.com", role: latchkey.RoleGlobalAdmin},
		person{upn: "reader@example.com", role: latchkey.RoleReportsReader},
		person{upn: "nora@example.com"},
	)
	ga, reader, nora := actorOf(t, svc, p["ga"]), actorOf(t, svc, p["reader"]), actorOf(t, svc, p["nora"])

	_, err := svc.CreateUnit(ctx, reader, "Berlin")
	wantCode(t, "reports reader creates a unit", err, authz.CodeNotAllowed)
	if _, err := svc.CreateUnit(ctx, ga, "Berlin"); err != nil {
		t.Fatal(err)
	}
	_, err = svc.CreateUnit(ctx, ga, "berlin")
	wantCode(t, "second Berlin", err, CodeUnitExists)
	_, err = svc.AddUnitMember(ctx, reader, "Berlin", "nora@example.com")
	wantCode(t, "reports reader adds a unit member", err, authz.CodeNotAllowed)
	if _, err := svc.AddUnitMember(ctx, ga, "Berlin", "nora@example.com"); err != nil {
		t.Fatal(err)
	}
	_, err = svc.AddUnitMember(ctx, ga, "Berlin", "nobody")
	wantCode(t, "unknown unit member", err, CodeMemberNotFound)
	units, err := svc.ListUnits(ctx, reader)
	if err != nil || len(units) != 1 || len(units[0].Members) != 1 || units[0].Members[0].Name != "nora@example.com" {
		t.Errorf("units as the reports reader: %+v, %v; want Berlin with nora", units, err)
	}
	_, err = svc.ListUnits(ctx, nora)
	wantCode(t, "person without a role lists units", err, authz.CodeNotAllowed)

	_, err = svc.AssignRole(ctx, reader, "nora@example.com", latchkey.RoleAuthenticationAdmin, "")
	wantCode(t, "reports reader assigns a role", err, authz.CodeNotAllowed)
	_, err = svc.AssignRole(ctx, ga, "nora@example.com", "helpdesk", "")
	wantCode(t, "unknown role", err, latchkey.CodeInvalidRole)
	if e, ok := err.(*latchkey.Error); !ok || !latchkey.IsKind(err, latchkey.EINVALID) || !strings.Contains(e.Message, latchkey.RoleAuthenticationAdmin) {
		t.Errorf("unknown role: %v; want an invalid-input refusal naming the valid roles", err)
	}
	_, err = svc.AssignRole(ctx, ga, "nora@example.com", latchkey.RoleGlobalAdmin, "Berlin")
	wantCode(t, "global admin over a unit", err, latchkey.CodeInvalidRole)
	v, err := svc.AssignRole(ctx, ga, "nora@example.com", latchkey.RoleAuthenticationAdmin, "Berlin")
	if err != nil || v.UnitName != "Berlin" || v.UserPrincipalName != "nora@example.com" {
		t.Fatalf("assign: %+v, %v", v, err)
	}
	_, err = svc.AssignRole(ctx, ga, "nora@example.com", latchkey.RoleAuthenticationAdmin, "Berlin")
	wantCode(t, "assign twice", err, CodeRoleAssigned)
	asgs, err := svc.ListRoleAssignments(ctx, reader, "")
	if err != nil || len(asgs) != 3 {
		t.Errorf("all assignments: %d, %v; want 3", len(asgs), err)
	}
	asgs, err = svc.ListRoleAssignments(ctx, reader, "nora@example.com")
	if err != nil || len(asgs) != 1 || asgs[0].Role != latchkey.RoleAuthenticationAdmin || asgs[0].UnitName != "Berlin" {
		t.Errorf("nora's assignments: %+v, %v", asgs, err)
	}
	// The role counts from nora's next request on.
	_, err = svc.ListRoleAssignments(ctx, actorOf(t, svc, p["nora"]), "")
	wantCode(t, "Berlin helpdesk lists every assignment", err, authz.CodeOutsideUnit)

	wantCode(t, "reports reader removes a role", svc.RemoveRole(ctx, reader, "nora@example.com", latchkey.RoleAuthenticationAdmin, "Berlin"), authz.CodeNotAllowed)
	wantCode(t, "remove at the wrong scope", svc.RemoveRole(ctx, ga, "nora@example.com", latchkey.RoleAuthenticationAdmin, ""), CodeRoleNotAssigned)
	wantCode(t, "remove", svc.RemoveRole(ctx, ga, "nora@example.com", latchkey.RoleAuthenticationAdmin, "Berlin"), "")
	if u, err := svc.Store.FindUserByID(ctx, p["nora"].ID); err != nil || len(u.Roles) != 0 {
		t.Errorf("nora after removal: %+v, %v; want no roles", u, err)
	}
}

// TestSetManager: the manager is set and cleared; nobody manages themself, and no chain of
// managers loops; a person whom no role lets update users is refused.
func TestSetManager(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	p := mkPeople(t, svc,
		person{upn: "ga@example.com", role: latchkey.RoleGlobalAdmin},
		person{upn: "help@example.com", role: latchkey.RoleAuthenticationAdmin},
		person{upn: "ann@example.com"}, person{upn: "bo@example.com"}, person{upn: "cy@example.com"},
	)
	ga := actorOf(t, svc, p["ga"])
	_, err := svc.SetManager(ctx, actorOf(t, svc, p["help"]), "bo@example.com", "ann@example.com")
	wantCode(t, "helpdesk sets a manager", err, authz.CodeNotAllowed)
	if u, err := svc.SetManager(ctx, ga, "bo@example.com", "ann@example.com"); err != nil || u.ManagerID != p["ann"].ID {
		t.Fatalf("bo's manager: %+v, %v; want ann", u, err)
	}
	if _, err := svc.SetManager(ctx, ga, "cy@example.com", "bo@example.com"); err != nil {
		t.Fatal(err)
	}
	_, err = svc.SetManager(ctx, ga, "ann@example.com", "ann@example.com")
	wantCode(t, "own manager", err, CodeManagerSelf)
	_, err = svc.SetManager(ctx, ga, "ann@example.com", "cy@example.com")
	wantCode(t, "ann under cy, who reports to ann through bo", err, CodeManagerCycle)
	if u, _ := svc.Store.FindUserByID(ctx, p["ann"].ID); u.ManagerID != "" {
		t.Errorf("a refused manager was stored: %q", u.ManagerID)
	}
	if u, err := svc.SetManager(ctx, ga, "bo@example.com", ""); err != nil || u.ManagerID != "" {
		t.Errorf("clearing bo's manager: %+v, %v", u, err)
	}
}
