package latchkey

import (
	"strings"
	"testing"
	"time"
)

func TestRoleAssignmentValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    RoleAssignment
		code string // "" when valid
	}{
		{"global admin", RoleAssignment{UserID: "u", Role: RoleGlobalAdmin}, ""},
		{"scoped authentication admin", RoleAssignment{UserID: "u", Role: RoleAuthenticationAdmin, UnitID: "unit"}, ""},
		{"global reports reader", RoleAssignment{UserID: "u", Role: RoleReportsReader}, ""},
		{"scoped global admin", RoleAssignment{UserID: "u", Role: RoleGlobalAdmin, UnitID: "unit"}, CodeInvalidRole},
		{"unknown role", RoleAssignment{UserID: "u", Role: "king"}, CodeInvalidRole},
		{"role in other case", RoleAssignment{UserID: "u", Role: "GlobalAdmin"}, CodeInvalidRole},
		{"empty role", RoleAssignment{UserID: "u"}, CodeInvalidRole},
		{"no person", RoleAssignment{Role: RoleReportsReader}, "invalid_user"},
	} {
		checkRefusal(t, tc.name, tc.a.Validate(), tc.code)
	}
	for _, r := range Roles {
		if !IsRole(r) {
			t.Errorf("IsRole(%q) = false for a listed role", r)
		}
	}
}

func TestAdministrativeUnitValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		u    AdministrativeUnit
		code string
	}{
		{"plain", AdministrativeUnit{DisplayName: "Finance"}, ""},
		{"with description", AdministrativeUnit{DisplayName: "Finance", Description: "Everyone in finance"}, ""},
		{"empty", AdministrativeUnit{}, "invalid_name"},
		{"padded", AdministrativeUnit{DisplayName: " Finance"}, "invalid_name"},
		{"zero-width space", AdministrativeUnit{DisplayName: "Fin\u200bance"}, "invalid_name"},
		{"too long", AdministrativeUnit{DisplayName: strings.Repeat("a", MaxNameLength+1)}, "invalid_name"},
		{"control in description", AdministrativeUnit{DisplayName: "Finance", Description: "a\x00b"}, "invalid_description"},
	} {
		checkRefusal(t, tc.name, tc.u.Validate(), tc.code)
	}
}

func TestUnitMemberValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    UnitMember
		code string
	}{
		{"user", UnitMember{UnitID: "unit", Kind: UnitMemberUser, MemberID: "u"}, ""},
		{"group", UnitMember{UnitID: "unit", Kind: UnitMemberGroup, MemberID: "g"}, ""},
		{"device", UnitMember{UnitID: "unit", Kind: "device", MemberID: "d"}, CodeInvalidUnitMember},
		{"no kind", UnitMember{UnitID: "unit", MemberID: "u"}, CodeInvalidUnitMember},
		{"no member", UnitMember{UnitID: "unit", Kind: UnitMemberUser}, CodeInvalidUnitMember},
		{"no unit", UnitMember{Kind: UnitMemberUser, MemberID: "u"}, CodeInvalidUnitMember},
	} {
		checkRefusal(t, tc.name, tc.m.Validate(), tc.code)
	}
}

func TestAPITokenValidate(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	later, same := created.Add(time.Hour), created
	for _, tc := range []struct {
		name string
		tok  APIToken
		code string
	}{
		{"one scope", APIToken{Name: "HR sync", Scopes: []string{ScopeUserReadWriteAll}}, ""},
		{"every scope", APIToken{Name: "all", Scopes: Scopes}, ""},
		{"expires later", APIToken{Name: "t", Scopes: []string{ScopeUserReadAll}, CreatedAt: created, ExpiresAt: &later}, ""},
		{"expires when created", APIToken{Name: "t", Scopes: []string{ScopeUserReadAll}, CreatedAt: created, ExpiresAt: &same}, CodeInvalidExpiry},
		{"no name", APIToken{Scopes: []string{ScopeUserReadAll}}, "invalid_name"},
		{"name with line break", APIToken{Name: "a\nb", Scopes: []string{ScopeUserReadAll}}, "invalid_name"},
		{"no scopes", APIToken{Name: "t"}, CodeInvalidScope},
		{"unknown scope", APIToken{Name: "t", Scopes: []string{"Directory.ReadWrite.All"}}, CodeInvalidScope},
		{"scope in other case", APIToken{Name: "t", Scopes: []string{"user.read.all"}}, CodeInvalidScope},
		{"scope twice", APIToken{Name: "t", Scopes: []string{ScopeUserReadAll, ScopeUserReadAll}}, CodeInvalidScope},
	} {
		checkRefusal(t, tc.name, tc.tok.Validate(), tc.code)
	}
}

func TestAPITokenUsable(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	before, after := now.Add(-time.Second), now.Add(time.Second)
	for _, tc := range []struct {
		name string
		tok  APIToken
		want bool
	}{
		{"never expires", APIToken{}, true},
		{"expires later", APIToken{ExpiresAt: &after}, true},
		{"expires now", APIToken{ExpiresAt: &now}, false},
		{"expired", APIToken{ExpiresAt: &before}, false},
		{"revoked", APIToken{ExpiresAt: &after, RevokedAt: &before}, false},
	} {
		if got := tc.tok.Usable(now); got != tc.want {
			t.Errorf("%s: Usable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// checkRefusal reports unless err is nil for code "", or an EINVALID *Error with code.
func checkRefusal(t *testing.T, name string, err error, code string) {
	t.Helper()
	switch {
	case code == "" && err != nil:
		t.Errorf("%s: Validate() = %v, want nil", name, err)
	case code != "" && err == nil:
		t.Errorf("%s: Validate() = nil, want %s", name, code)
	case code != "" && (ErrorCode(err) != code || ErrorKind(err) != EINVALID):
		t.Errorf("%s: Validate() = %v (kind %s), want %s code %s", name, err, ErrorKind(err), EINVALID, code)
	}
}

func TestSortRoles(t *testing.T) {
	got := []string{"zeta", RoleReportsReader, "alpha", RoleGlobalAdmin, RoleAuthenticationAdmin}
	SortRoles(got)
	want := []string{RoleGlobalAdmin, RoleAuthenticationAdmin, RoleReportsReader, "alpha", "zeta"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("SortRoles = %v, want %v", got, want)
	}
}
