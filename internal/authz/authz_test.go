package authz

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// The decision table: every actor below, every action in Actions, on each of the targets below.
// The expectations are written out by hand from DESIGN §5 and §4, one character per target:
//
//   - allowed                 - not_allowed           y not_for_yourself
//     o outside_unit            a approval_required     p privileged_target
//     s missing_scope           u not_signed_in
var symbols = map[byte]string{
	'+': "", '-': CodeNotAllowed, 'y': CodeNotForYourself, 'o': CodeOutsideUnit,
	'a': CodeApprovalRequired, 'p': CodePrivilegedTarget, 's': CodeMissingScope, 'u': CodeNotSignedIn,
}

var now = time.Date(2026, 12, 3, 9, 30, 0, 0, time.FixedZone("CET", 3600))

const me = "me" // every person below has this id

// targets, in the order of the expectation strings. All actors manage the two "report" targets.
var targetNames = []string{"self", "plain", "admin", "unit", "unitAdmin", "otherUnit", "report", "adminReport"}

func targetsFor(a latchkey.Actor) []Target {
	var ownRoles []string
	for _, r := range a.Roles {
		ownRoles = append(ownRoles, r.Role)
	}
	return []Target{
		{ID: me, Roles: ownRoles, UnitIDs: []string{"u1"}, ManagerID: "boss"},
		{ID: "pat", ManagerID: "boss"},
		{ID: "ada", Roles: []string{latchkey.RoleGlobalAdmin}, ManagerID: "boss"},
		{ID: "uma", UnitIDs: []string{"u1"}, ManagerID: "boss"},
		{ID: "ulf", Roles: []string{latchkey.RoleAuthenticationAdmin}, UnitIDs: []string{"u1"}, ManagerID: "boss"},
		{ID: "oli", UnitIDs: []string{"u2"}, ManagerID: "boss"},
		{ID: "rey", ManagerID: me},
		{ID: "ray", Roles: []string{latchkey.RoleReportsReader}, ManagerID: me},
	}
}

// targetKind is the kind of target each action takes, written out again for the test.
var targetKind = map[Action]string{
	ActionReadUsers: TargetUser, ActionCreateUser: TargetUser, ActionUpdateUser: TargetUser,
	ActionDisableUser: TargetUser, ActionDeleteUser: TargetUser,
	ActionReadGroups: TargetGroup, ActionManageGroups: TargetGroup,
	ActionReadMethods: TargetUser, ActionIssueTAP: TargetUser, ActionRevokeTAP: TargetUser, ActionRemovePasskey: TargetUser, ActionSignOutUser: TargetUser,
	ActionManageOwnSecurityInfo: TargetUser, ActionIssueStaffTAP: TargetUser, ActionApproveHelpdeskRequest: TargetUser,
	ActionReadMethodsPolicy: TargetPolicy, ActionWriteMethodsPolicy: TargetPolicy,
	ActionReadConditionalAccess: TargetPolicy, ActionWriteConditionalAccess: TargetPolicy,
	ActionManageRoles: TargetRole, ActionManageUnits: TargetUnit, ActionManageTokens: TargetToken,
	ActionManageApplications: TargetApplication, ActionManageSigningKeys: TargetKey,
	ActionReadSignInLog: TargetLog, ActionReadAuditLog: TargetLog, ActionReadReports: TargetReport,
	ActionReadProvisioning: TargetLog,
}

func person(cli bool, roles ...latchkey.RoleAssignment) latchkey.Actor {
	return latchkey.Actor{Kind: latchkey.ActorPerson, UserID: me, UPN: "me@example.com", Roles: roles, CLI: cli,
		AuthenticatedAt: now.Add(-time.Minute), PhishingResistant: true}
}

func global(role string) latchkey.RoleAssignment {
	return latchkey.RoleAssignment{UserID: me, Role: role}
}
func inU1(role string) latchkey.RoleAssignment {
	return latchkey.RoleAssignment{UserID: me, Role: role, UnitID: "u1"}
}

var (
	ga  = latchkey.RoleGlobalAdmin
	paa = latchkey.RolePrivilegedAuthenticationAdmin
	apa = latchkey.RoleAuthenticationPolicyAdmin
	aa  = latchkey.RoleAuthenticationAdmin
	rr  = latchkey.RoleReportsReader
)

var actors = map[string]latchkey.Actor{
	"anonymous": {},
	"person":    person(false),
	"GA":        person(false, global(ga)), "GA cli": person(true, global(ga)), "GA@u1": person(false, inU1(ga)),
	"PAA": person(false, global(paa)), "PAA cli": person(true, global(paa)), "PAA@u1": person(false, inU1(paa)),
	"APA": person(false, global(apa)), "APA@u1": person(false, inU1(apa)),
	"AA": person(false, global(aa)), "AA@u1": person(false, inU1(aa)),
	"RR": person(false, global(rr)), "RR@u1": person(false, inU1(rr)),
	"token":            {Kind: latchkey.ActorToken, TokenID: "t1", TokenName: "no scopes"},
	"token all scopes": {Kind: latchkey.ActorToken, TokenID: "t2", TokenName: "everything", Scopes: latchkey.Scopes},
	"system":           latchkey.SystemActor,
}

// expectations: groups of actions with the same expected decisions, each listing every actor.
var expectations = []struct {
	actions []Action
	want    map[string]string
}{
	{[]Action{ActionReadUsers, ActionReadGroups}, map[string]string{
		"anonymous": "uuuuuuuu", "person": "--------",
		"GA": "++++++++", "GA cli": "++++++++", "GA@u1": "+oo++ooo",
		"PAA": "++++++++", "PAA cli": "++++++++", "PAA@u1": "+oo++ooo",
		"APA": "++++++++", "APA@u1": "+oo++ooo",
		"AA": "++++++++", "AA@u1": "+oo++ooo",
		"RR": "++++++++", "RR@u1": "+oo++ooo",
		"token": "ssssssss", "token all scopes": "++++++++", "system": "++++++++",
	}},
	{[]Action{ActionCreateUser, ActionManageGroups}, map[string]string{
		"anonymous": "uuuuuuuu", "person": "--------",
		"GA": "++++++++", "GA cli": "++++++++", "GA@u1": "+oo++ooo",
		"PAA": "--------", "PAA cli": "--------", "PAA@u1": "--------",
		"APA": "--------", "APA@u1": "--------",
		"AA": "--------", "AA@u1": "--------",
		"RR": "--------", "RR@u1": "--------",
		"token": "ssssssss", "token all scopes": "++++++++", "system": "++++++++",
	}},
	// A token changes no one who holds a role (admin, unitAdmin, adminReport): privileged_target.
	{[]Action{ActionUpdateUser, ActionDisableUser, ActionDeleteUser}, map[string]string{
		"anonymous": "uuuuuuuu", "person": "--------",
		"GA": "++++++++", "GA cli": "++++++++", "GA@u1": "+oo++ooo",
		"PAA": "--------", "PAA cli": "--------", "PAA@u1": "--------",
		"APA": "--------", "APA@u1": "--------",
		"AA": "--------", "AA@u1": "--------",
		"RR": "--------", "RR@u1": "--------",
		"token": "ssssssss", "token all scopes": "++p+p++p", "system": "++++++++",
	}},
	{[]Action{ActionReadMethods}, map[string]string{
		"anonymous": "uuuuuuuu", "person": "y-------",
		"GA": "++++++++", "GA cli": "++++++++", "GA@u1": "yoo++ooo",
		"PAA": "y+++++++", "PAA cli": "y+++++++", "PAA@u1": "yoo++ooo",
		"APA": "y-------", "APA@u1": "y-------",
		"AA": "y+p+p++p", "AA@u1": "yoo+pooo",
		"RR": "y-------", "RR@u1": "y-------",
		"token": "ssssssss", "token all scopes": "++++++++", "system": "++++++++",
	}},
	{[]Action{ActionRevokeTAP, ActionRemovePasskey, ActionSignOutUser}, map[string]string{
		"anonymous": "uuuuuuuu", "person": "y-------",
		"GA": "++++++++", "GA cli": "++++++++", "GA@u1": "yoo++ooo",
		"PAA": "y+++++++", "PAA cli": "y+++++++", "PAA@u1": "yoo++ooo",
		"APA": "y-------", "APA@u1": "y-------",
		"AA": "y+p+p++p", "AA@u1": "yoo+pooo",
		"RR": "y-------", "RR@u1": "y-------",
		"token": "ssssssss", "token all scopes": "++p+p++p", "system": "++++++++",
	}},
	{[]Action{ActionIssueTAP}, map[string]string{
		"anonymous": "uuuuuuuu", "person": "y-------",
		"GA": "y+++++++", "GA cli": "++++++++", "GA@u1": "yoo++ooo",
		"PAA": "y+++++++", "PAA cli": "y+++++++", "PAA@u1": "yoo++ooo",
		"APA": "y-------", "APA@u1": "y-------",
		"AA": "y+a+a++a", "AA@u1": "yoo+aooo",
		"RR": "y-------", "RR@u1": "y-------",
		"token": "ssssssss", "token all scopes": "++p+p++p", "system": "++++++++",
	}},
	{[]Action{ActionManageOwnSecurityInfo}, map[string]string{
		"anonymous": "uuuuuuuu", "person": "+-------",
		"GA": "+-------", "GA cli": "+-------", "GA@u1": "+-------",
		"PAA": "+-------", "PAA cli": "+-------", "PAA@u1": "+-------",
		"APA": "+-------", "APA@u1": "+-------",
		"AA": "+-------", "AA@u1": "+-------",
		"RR": "+-------", "RR@u1": "+-------",
		"token": "--------", "token all scopes": "--------", "system": "++++++++",
	}},
	{[]Action{ActionIssueStaffTAP}, map[string]string{
		"anonymous": "uuuuuuuu", "person": "y-----+p",
		"GA": "y-----+p", "GA cli": "y-----+p", "GA@u1": "y-----+p",
		"PAA": "y-----+p", "PAA cli": "y-----+p", "PAA@u1": "y-----+p",
		"APA": "y-----+p", "APA@u1": "y-----+p",
		"AA": "y-----+p", "AA@u1": "y-----+p",
		"RR": "y-----+p", "RR@u1": "y-----+p",
		"token": "--------", "token all scopes": "--------", "system": "++++++++",
	}},
	{[]Action{ActionApproveHelpdeskRequest}, map[string]string{
		"anonymous": "uuuuuuuu", "person": "y-------",
		"GA": "y+++++++", "GA cli": "y+++++++", "GA@u1": "yoo++ooo",
		"PAA": "y+++++++", "PAA cli": "y+++++++", "PAA@u1": "yoo++ooo",
		"APA": "y-------", "APA@u1": "y-------",
		"AA": "y-------", "AA@u1": "y-------",
		"RR": "y-------", "RR@u1": "y-------",
		"token": "--------", "token all scopes": "--------", "system": "++++++++",
	}},
	{[]Action{ActionReadMethodsPolicy, ActionWriteMethodsPolicy, ActionReadConditionalAccess, ActionWriteConditionalAccess}, map[string]string{
		"anonymous": "uuuuuuuu", "person": "--------",
		"GA": "++++++++", "GA cli": "++++++++", "GA@u1": "oooooooo",
		"PAA": "--------", "PAA cli": "--------", "PAA@u1": "--------",
		"APA": "++++++++", "APA@u1": "oooooooo",
		"AA": "--------", "AA@u1": "--------",
		"RR": "--------", "RR@u1": "--------",
		"token": "ssssssss", "token all scopes": "++++++++", "system": "++++++++",
	}},
	{[]Action{ActionManageRoles, ActionManageUnits, ActionManageTokens, ActionManageApplications, ActionManageSigningKeys}, map[string]string{
		"anonymous": "uuuuuuuu", "person": "--------",
		"GA": "++++++++", "GA cli": "++++++++", "GA@u1": "oooooooo",
		"PAA": "--------", "PAA cli": "--------", "PAA@u1": "--------",
		"APA": "--------", "APA@u1": "--------",
		"AA": "--------", "AA@u1": "--------",
		"RR": "--------", "RR@u1": "--------",
		"token": "--------", "token all scopes": "--------", "system": "++++++++",
	}},
	{[]Action{ActionReadSignInLog, ActionReadAuditLog, ActionReadReports, ActionReadProvisioning}, map[string]string{
		"anonymous": "uuuuuuuu", "person": "--------",
		"GA": "++++++++", "GA cli": "++++++++", "GA@u1": "oooooooo",
		"PAA": "--------", "PAA cli": "--------", "PAA@u1": "--------",
		"APA": "--------", "APA@u1": "--------",
		"AA": "--------", "AA@u1": "--------",
		"RR": "++++++++", "RR@u1": "oooooooo",
		"token": "ssssssss", "token all scopes": "++++++++", "system": "++++++++",
	}},
}

// expected returns the expectation row of action for actor, failing the test when there is none
// or more than one.
func expected(t *testing.T, action Action, actor string) string {
	t.Helper()
	var rows []string
	for _, e := range expectations {
		for _, a := range e.actions {
			if a == action {
				if row, ok := e.want[actor]; ok {
					rows = append(rows, row)
				}
			}
		}
	}
	if len(rows) != 1 || len(rows[0]) != len(targetNames) {
		t.Fatalf("%s: %d expectation rows for actor %q (want exactly one of %d characters)", action, len(rows), actor, len(targetNames))
	}
	return rows[0]
}

// forAction gives a target of the kind action takes, with the case's ids, roles and units; and
// for an approval, a request made by someone else, decided now.
func forAction(action Action, t Target) Target {
	t.Kind = targetKind[action]
	t.RequesterID = "helper"
	t.Now = now
	return t
}

func TestDecideTable(t *testing.T) {
	if len(targetKind) != len(Actions) {
		t.Errorf("targetKind has %d actions, Actions %d", len(targetKind), len(Actions))
	}
	seen := map[Action]bool{}
	for _, action := range Actions {
		if seen[action] {
			t.Errorf("%s listed twice in Actions", action)
		}
		seen[action] = true
		if _, ok := targetKind[action]; !ok {
			t.Errorf("%s: no target kind in the test", action)
		}
		for name, a := range actors {
			row := expected(t, action, name)
			for i, target := range targetsFor(a) {
				err := Decide(a, action, forAction(action, target))
				want := symbols[row[i]]
				if got := latchkey.ErrorCode(err); (err == nil) != (want == "") || (err != nil && got != want) {
					t.Errorf("%s %s on %s: got %v, want %q", name, action, targetNames[i], err, want)
				}
			}
		}
	}
	for _, e := range expectations {
		for _, action := range e.actions {
			if !seen[action] {
				t.Errorf("expectation for %s, which is not in Actions", action)
			}
		}
		for name := range e.want {
			if _, ok := actors[name]; !ok {
				t.Errorf("expectation for unknown actor %q", name)
			}
		}
	}
}

// TestCanAgreesWithTable checks that Can is true exactly when the table allows the actor the
// action on at least one of its targets.
func TestCanAgreesWithTable(t *testing.T) {
	for _, action := range Actions {
		for name, a := range actors {
			want := strings.Contains(expected(t, action, name), "+")
			if got := Can(a, action); got != want {
				t.Errorf("Can(%s, %s) = %t, want %t", name, action, got, want)
			}
		}
	}
}

func TestCan(t *testing.T) {
	for _, c := range []struct {
		actor   latchkey.Actor
		action  Action
		want    bool
		comment string
	}{
		{person(false), ActionManageOwnSecurityInfo, true, "anyone has security info"},
		{person(false), ActionIssueStaffTAP, true, "anyone may be a manager"},
		{person(false), ActionReadUsers, false, "no role, no directory"},
		{person(false, inU1(aa)), ActionIssueTAP, true, "a unit-scoped helpdesk issues passes in its unit"},
		{person(false, inU1(apa)), ActionWriteConditionalAccess, false, "policies are tenant-wide"},
		{person(false, inU1(apa), global(rr)), ActionReadAuditLog, true, "one global assignment suffices"},
		{person(false, global("nobody")), ActionReadUsers, false, "unknown role grants nothing"},
		{latchkey.Actor{Kind: latchkey.ActorToken, Scopes: []string{latchkey.ScopeUserReadWriteAll}}, ActionReadUsers, true, "ReadWrite includes Read"},
		{latchkey.Actor{Kind: latchkey.ActorToken, Scopes: latchkey.Scopes}, ActionManageTokens, false, "tokens never manage tokens"},
		{latchkey.Actor{}, ActionManageOwnSecurityInfo, false, "nobody signed in"},
		{latchkey.SystemActor, Action("made.up"), false, "unknown action"},
	} {
		if got := Can(c.actor, c.action); got != c.want {
			t.Errorf("Can(%s, %s) = %t, want %t: %s", c.actor.Name(), c.action, got, c.want, c.comment)
		}
	}
}

// TestTokenScopes gives a token each scope alone and checks every action against Graph's
// mapping, written out here.
func TestTokenScopes(t *testing.T) {
	usersRead := []string{latchkey.ScopeUserReadAll, latchkey.ScopeUserReadWriteAll}
	usersWrite := []string{latchkey.ScopeUserReadWriteAll}
	groups := []string{latchkey.ScopeGroupReadWriteAll}
	methods := []string{latchkey.ScopeUserAuthenticationMethodRWAll}
	logs := []string{latchkey.ScopeAuditLogReadAll}
	accepted := map[Action][]string{
		ActionReadUsers: usersRead, ActionCreateUser: usersWrite, ActionUpdateUser: usersWrite,
		ActionDisableUser: usersWrite, ActionDeleteUser: usersWrite,
		ActionReadGroups: groups, ActionManageGroups: groups,
		ActionReadMethods: methods, ActionIssueTAP: methods, ActionRevokeTAP: methods, ActionRemovePasskey: methods, ActionSignOutUser: methods,
		ActionManageOwnSecurityInfo: nil, ActionIssueStaffTAP: nil, ActionApproveHelpdeskRequest: nil,
		ActionReadMethodsPolicy:      {latchkey.ScopePolicyReadAll, latchkey.ScopePolicyReadWriteAuthMethod},
		ActionWriteMethodsPolicy:     {latchkey.ScopePolicyReadWriteAuthMethod},
		ActionReadConditionalAccess:  {latchkey.ScopePolicyReadAll, latchkey.ScopePolicyReadWriteConditionalAccess},
		ActionWriteConditionalAccess: {latchkey.ScopePolicyReadWriteConditionalAccess},
		ActionManageRoles:            nil, ActionManageUnits: nil, ActionManageTokens: nil,
		ActionManageApplications: nil, ActionManageSigningKeys: nil,
		ActionReadSignInLog: logs, ActionReadAuditLog: logs, ActionReadReports: {latchkey.ScopeReportsReadAll},
		ActionReadProvisioning: logs,
	}
	for _, action := range Actions {
		want, ok := accepted[action]
		if !ok {
			t.Errorf("%s: no scope expectation", action)
			continue
		}
		wantRequired := ""
		if len(want) > 0 {
			wantRequired = want[0]
		}
		if got := RequiredScope(action); got != wantRequired {
			t.Errorf("RequiredScope(%s) = %q, want %q", action, got, wantRequired)
		}
		if got := AcceptedScopes(action); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("AcceptedScopes(%s) = %v, want %v", action, got, want)
		}
		for _, scope := range latchkey.Scopes {
			token := latchkey.Actor{Kind: latchkey.ActorToken, TokenID: "t", TokenName: "one scope", Scopes: []string{scope}}
			err := Decide(token, action, forAction(action, Target{ID: "pat"}))
			grants := false
			for _, s := range want {
				grants = grants || s == scope
			}
			switch {
			case grants && err != nil:
				t.Errorf("token with %s, %s: %v; want allowed", scope, action, err)
			case !grants && len(want) > 0 && latchkey.ErrorCode(err) != CodeMissingScope:
				t.Errorf("token with %s, %s: %v; want %s", scope, action, err, CodeMissingScope)
			case len(want) == 0 && latchkey.ErrorCode(err) != CodeNotAllowed:
				t.Errorf("token with %s, %s: %v; want %s", scope, action, err, CodeNotAllowed)
			}
		}
	}
}

// TestTokensSpareAdmins: a token whose scope grants a change to people is refused it on a person
// who holds a role (privileged_target), even a role scoped to a unit; reading them stays
// allowed, and so does the same change on someone without a role.
func TestTokensSpareAdmins(t *testing.T) {
	all := latchkey.Actor{Kind: latchkey.ActorToken, TokenID: "t", TokenName: "HR", Scopes: latchkey.Scopes}
	spared := map[Action]bool{ActionUpdateUser: true, ActionDisableUser: true, ActionDeleteUser: true,
		ActionIssueTAP: true, ActionRevokeTAP: true, ActionRemovePasskey: true, ActionSignOutUser: true}
	for _, action := range []Action{ActionReadUsers, ActionUpdateUser, ActionDisableUser, ActionDeleteUser,
		ActionReadMethods, ActionIssueTAP, ActionRevokeTAP, ActionRemovePasskey, ActionSignOutUser} {
		if err := Decide(all, action, Target{Kind: TargetUser, ID: "pat"}); err != nil {
			t.Errorf("%s on a person without a role: %v", action, err)
		}
		for _, roles := range [][]string{{latchkey.RoleGlobalAdmin}, {latchkey.RoleAuthenticationAdmin}} {
			err := Decide(all, action, Target{Kind: TargetUser, ID: "pat", Roles: roles})
			switch {
			case spared[action] && latchkey.ErrorCode(err) != CodePrivilegedTarget:
				t.Errorf("%s on a %v: %v; want %s", action, roles, err, CodePrivilegedTarget)
			case !spared[action] && err != nil:
				t.Errorf("%s on a %v: %v; want allowed", action, roles, err)
			}
		}
	}
	err := Decide(all, ActionDisableUser, Target{Kind: TargetUser, ID: "pat", Roles: []string{latchkey.RoleGlobalAdmin}})
	if e, ok := err.(*latchkey.Error); !ok || e.Kind != latchkey.EFORBIDDEN || !strings.Contains(e.Message, "administrator role") {
		t.Errorf("refusal %#v: want a 403 that says why in words", err)
	}
}

// TestApproval covers the approver's own conditions: not the requester, and a phishing-resistant
// sign-in of the last five minutes at the time given in the target.
func TestApproval(t *testing.T) {
	request := Target{Kind: TargetUser, ID: "ada", Roles: []string{latchkey.RoleGlobalAdmin}, RequesterID: "helper", Now: now}
	for _, c := range []struct {
		name   string
		change func(a *latchkey.Actor, t *Target)
		want   string
	}{
		{"fresh passkey sign-in", func(*latchkey.Actor, *Target) {}, ""},
		{"signed in exactly five minutes ago", func(a *latchkey.Actor, _ *Target) { a.AuthenticatedAt = now.Add(-5 * time.Minute) }, ""},
		{"signed in a second too long ago", func(a *latchkey.Actor, _ *Target) { a.AuthenticatedAt = now.Add(-5*time.Minute - time.Second) }, CodeFreshSignInRequired},
		{"sign-in time 30s ahead (another node's clock)", func(a *latchkey.Actor, _ *Target) { a.AuthenticatedAt = now.Add(30 * time.Second) }, ""},
		{"sign-in time 2m ahead", func(a *latchkey.Actor, _ *Target) { a.AuthenticatedAt = now.Add(2 * time.Minute) }, CodeFreshSignInRequired},
		{"signed in with a pass", func(a *latchkey.Actor, _ *Target) { a.PhishingResistant = false }, CodeFreshSignInRequired},
		{"no sign-in time", func(a *latchkey.Actor, _ *Target) { a.AuthenticatedAt = time.Time{} }, CodeFreshSignInRequired},
		{"no decision time", func(_ *latchkey.Actor, t *Target) { t.Now = time.Time{} }, CodeFreshSignInRequired},
		{"approver asked for it", func(_ *latchkey.Actor, t *Target) { t.RequesterID = me }, CodeOwnRequest},
		{"approver asked for it, stale sign-in", func(a *latchkey.Actor, t *Target) {
			t.RequesterID = me
			a.PhishingResistant = false
		}, CodeOwnRequest},
		{"approver is the person", func(_ *latchkey.Actor, t *Target) { t.ID = me }, CodeNotForYourself},
		{"helpdesk cannot approve", func(a *latchkey.Actor, _ *Target) { a.Roles = []latchkey.RoleAssignment{global(aa)} }, CodeNotAllowed},
	} {
		for _, role := range []string{ga, paa} {
			a, target := person(false, global(role)), request
			c.change(&a, &target)
			err := Decide(a, ActionApproveHelpdeskRequest, target)
			if got := latchkey.ErrorCode(err); (err == nil) != (c.want == "") || (err != nil && got != c.want) {
				t.Errorf("%s, %s: got %v, want %q", c.name, role, err, c.want)
			}
		}
	}
}

// TestSeveralAssignments: one assignment that allows is enough, and otherwise the person hears
// the refusal that got furthest.
func TestSeveralAssignments(t *testing.T) {
	admin := Target{Kind: TargetUser, ID: "ada", Roles: []string{latchkey.RoleGlobalAdmin}}
	plainU2 := Target{Kind: TargetUser, ID: "oli", UnitIDs: []string{"u2"}}
	inU2 := func(role string) latchkey.RoleAssignment {
		return latchkey.RoleAssignment{UserID: me, Role: role, UnitID: "u2"}
	}
	for _, c := range []struct {
		name   string
		actor  latchkey.Actor
		action Action
		target Target
		want   string
	}{
		{"helpdesk everywhere and privileged in u1: approval beats outside_unit", person(false, inU1(paa), global(aa)), ActionIssueTAP, admin, CodeApprovalRequired},
		{"same, in the other order", person(false, global(aa), inU1(paa)), ActionIssueTAP, admin, CodeApprovalRequired},
		{"helpdesk everywhere, privileged in u1, removing a passkey", person(false, inU1(paa), global(aa)), ActionRemovePasskey, admin, CodePrivilegedTarget},
		{"helpdesk in u1 and reports reader: outside_unit beats not_allowed", person(false, global(rr), inU1(aa)), ActionIssueTAP, plainU2, CodeOutsideUnit},
		{"privileged in u1 and in u2", person(false, inU1(paa), inU2(paa)), ActionIssueTAP, plainU2, ""},
		{"privileged in u2 and helpdesk in u1, admin in u2", person(false, inU1(aa), inU2(paa)), ActionIssueTAP,
			Target{Kind: TargetUser, ID: "x", Roles: []string{rr}, UnitIDs: []string{"u2"}}, ""},
		{"policy admin in u1 and global reports reader reads the log", person(false, inU1(apa), global(rr)), ActionReadAuditLog, Target{Kind: TargetLog}, ""},
		{"policy admin in u1 and global reports reader changes policy", person(false, inU1(apa), global(rr)), ActionWriteMethodsPolicy, Target{Kind: TargetPolicy}, CodeOutsideUnit},
		{"unknown role", person(false, global("superUser")), ActionReadUsers, plainU2, CodeNotAllowed},
		{"global admin through a unit is no global admin on themself", person(true, inU1(ga)), ActionIssueTAP,
			Target{Kind: TargetUser, ID: me, UnitIDs: []string{"u1"}}, CodeNotForYourself},
	} {
		err := Decide(c.actor, c.action, c.target)
		if got := latchkey.ErrorCode(err); (err == nil) != (c.want == "") || (err != nil && got != c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// TestBadCalls: a target of the wrong kind, a person-specific action without a person, or an
// unknown action is a bug in the caller, refused as an internal error rather than decided.
func TestBadCalls(t *testing.T) {
	system := latchkey.SystemActor
	for _, action := range Actions {
		wrong := TargetUser
		if targetKind[action] == TargetUser {
			wrong = TargetPolicy
		}
		err := Decide(system, action, Target{Kind: wrong, ID: "pat"})
		if latchkey.ErrorKind(err) != latchkey.EINTERNAL || latchkey.ErrorCode(err) != CodeBadTarget {
			t.Errorf("%s on a %s target: %v, want %s", action, wrong, err, CodeBadTarget)
		}
	}
	for _, action := range []Action{ActionReadMethods, ActionIssueTAP, ActionRevokeTAP, ActionRemovePasskey, ActionSignOutUser,
		ActionManageOwnSecurityInfo, ActionIssueStaffTAP, ActionApproveHelpdeskRequest} {
		err := Decide(person(false, global(ga)), action, Target{Kind: TargetUser})
		if latchkey.ErrorCode(err) != CodeBadTarget {
			t.Errorf("%s on a user without id: %v, want %s", action, err, CodeBadTarget)
		}
	}
	// "Users" at large: a role over the directory may list them, a unit-scoped one decides per user.
	if err := Decide(person(false, global(rr)), ActionReadUsers, Target{Kind: TargetUser}); err != nil {
		t.Errorf("global reader listing users: %v", err)
	}
	if err := Decide(person(false, inU1(rr)), ActionReadUsers, Target{Kind: TargetUser}); latchkey.ErrorCode(err) != CodeOutsideUnit {
		t.Errorf("unit reader listing all users: %v, want %s", err, CodeOutsideUnit)
	}
	err := Decide(system, Action("users.frobnicate"), Target{Kind: TargetUser, ID: "pat"})
	if latchkey.ErrorKind(err) != latchkey.EINTERNAL || latchkey.ErrorCode(err) != CodeUnknownAction {
		t.Errorf("unknown action: %v", err)
	}
	err = Decide(latchkey.Actor{Kind: "robot"}, ActionReadUsers, Target{Kind: TargetUser})
	if latchkey.ErrorKind(err) != latchkey.EUNAUTHORIZED || latchkey.ErrorCode(err) != CodeNotSignedIn {
		t.Errorf("unknown actor kind: %v", err)
	}
}

// TestRefusalWords checks what each audience reads: the person a plain sentence, the admin the
// actor, their roles, the action and the target.
func TestRefusalWords(t *testing.T) {
	a := person(false, inU1(aa))
	a.UPN = "helen@example.com"
	err := Decide(a, ActionIssueTAP, Target{Kind: TargetUser, ID: "ulf", Roles: []string{paa}, UnitIDs: []string{"u1"}})
	var e *latchkey.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want a *latchkey.Error", err)
	}
	if e.Kind != latchkey.EFORBIDDEN || e.Code != CodeApprovalRequired {
		t.Errorf("kind %q code %q", e.Kind, e.Code)
	}
	if !strings.Contains(e.Message, "second administrator must approve") || strings.Contains(e.Message, "ulf") {
		t.Errorf("message %q: want plain words without ids", e.Message)
	}
	for _, part := range []string{"helen@example.com", "authenticationAdmin@unit:u1", string(ActionIssueTAP), "user ulf", paa, "u1"} {
		if !strings.Contains(e.Detail, part) {
			t.Errorf("detail %q lacks %q", e.Detail, part)
		}
	}

	err = Decide(latchkey.Actor{Kind: latchkey.ActorToken, TokenID: "t9", TokenName: "hr-sync", Scopes: []string{latchkey.ScopeUserReadAll}},
		ActionCreateUser, Target{Kind: TargetUser})
	if !errors.As(err, &e) || e.Code != CodeMissingScope || !strings.Contains(e.Message, latchkey.ScopeUserReadWriteAll) ||
		!strings.Contains(e.Detail, "hr-sync") || !strings.Contains(e.Detail, latchkey.ScopeUserReadAll) {
		t.Errorf("token refusal: %#v", err)
	}

	for _, c := range []struct {
		actor latchkey.Actor
		want  string
	}{
		{person(false, global(ga)), `"latchkey tap issue"`},
		{person(false), "I have a new phone"},
	} {
		err := Decide(c.actor, ActionIssueTAP, Target{Kind: TargetUser, ID: me})
		if !errors.As(err, &e) || e.Code != CodeNotForYourself || !strings.Contains(e.Message, c.want) {
			t.Errorf("pass for oneself by %v: %v, want a message mentioning %s", c.actor.Roles, err, c.want)
		}
	}
	if err := Decide(latchkey.Actor{}, ActionReadUsers, Target{Kind: TargetUser}); latchkey.ErrorKind(err) != latchkey.EUNAUTHORIZED {
		t.Errorf("zero actor: %v, want %s", err, latchkey.EUNAUTHORIZED)
	}
}

func TestUserTarget(t *testing.T) {
	u := &latchkey.User{ID: "u-7", Roles: []string{rr}, ManagerID: "m-1"}
	got := UserTarget(u, []string{"u1"})
	if got.Kind != TargetUser || got.ID != "u-7" || strings.Join(got.Roles, ",") != rr || strings.Join(got.UnitIDs, ",") != "u1" || got.ManagerID != "m-1" {
		t.Errorf("UserTarget = %+v", got)
	}
}
