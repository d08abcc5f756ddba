package scim

import "testing"

// TestFilters evaluates every filter Entra and Okta send (reference §1, §2, §6), and the other
// operators, against one user document.
func TestFilters(t *testing.T) {
	doc := map[string]any{
		"id": "2441309d85324e7793ae", "externalId": "7fce0092-D52E", "userName": "Test_User@Contoso.com", "active": false,
		"displayName": "Joy Young", "name": map[string]any{"givenName": "Joy", "familyName": "Young"},
		"emails": []any{map[string]any{"type": "work", "value": "joy@contoso.com", "primary": true},
			map[string]any{"type": "home", "value": "joy@home.example"}},
		SchemaEnterprise: map[string]any{"employeeNumber": "42", "manager": map[string]any{"value": "2819c223"}},
		"meta":           map[string]any{"created": "2026-01-02T03:04:05Z"},
	}
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{`userName eq "Test_User@Contoso.com"`, true},
		{`userName eq "test_user@contoso.com"`, true}, // userName is not caseExact
		{`USERNAME EQ "test_user@contoso.com"`, true},
		{`userName eq "someone else"`, false},
		{`externalId eq "7fce0092-D52E"`, true},
		{`externalId eq "7fce0092-d52e"`, false}, // externalId is caseExact
		{`externalId eq 7fce0092-D52E`, true},    // unquoted, as E1's sample code shows
		{`emails[type eq "work"].value eq "JOY@contoso.com"`, true},
		{`emails[type eq "home"].value eq "joy@contoso.com"`, false},
		{`emails[type eq "work" and value eq "joy@contoso.com"]`, true},
		{`emails.value eq "joy@home.example"`, true},
		{`emails eq "joy@home.example"`, true},
		{`emails[type eq "work"]`, true},
		{`emails[type eq "other"]`, false},
		{`id eq 2441309d85324e7793ae and manager eq 2819c223`, true},
		{`id eq 2441309d85324e7793ae and manager eq 0000`, false},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "2819c223"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42"`, true},
		{`name.familyName co "oun"`, true},
		{`userName sw "test_"`, true},
		{`userName ew "contoso.com"`, true},
		{`userName sw "user"`, false},
		{`displayName eq "x" or name.givenName eq "joy"`, true},
		{`not (displayName eq "Joy Young")`, false},
		{`(userName pr) and not (displayName eq "x")`, true},
		{`active eq false`, true},
		{`active eq "False"`, true},
		{`active eq true`, false},
		{`active ne true`, true},
		{`meta.created gt "2026-01-01T00:00:00Z"`, true},
		{`meta.created lt "2026-01-01T00:00:00Z"`, false},
		{`displayName ge "Joy"`, true},
		{`displayName le "Joy"`, false},
	} {
		f, err := parseFilter(userType, tc.filter)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if got := f.matches(doc); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.filter, got, tc.want)
		}
	}
	// Attributes Latchkey does not keep, and broken grammar, are refused.
	for _, bad := range []string{`title eq "x"`, `(userName pr) and not (title pr)`, `emails[nope eq "x"]`, `name.middleName eq "x"`,
		`userName eq "unterminated`, `userName eq "x" and`, `(userName eq "x"`, `userName eq "x")`, `userName like "x"`, ``} {
		if _, err := parseFilter(userType, bad); err == nil && bad != "" {
			t.Errorf("%s: parsed, want refused", bad)
		}
	}
	group := map[string]any{"id": "g1", "displayName": "Sales", "externalId": "8aa1", "members": []any{map[string]any{"value": "u1"}}}
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{`displayName eq "sales"`, true},
		{`externalId eq "8aa1"`, true},
		{`members.value eq "u1"`, true},
		{`members[value eq "u2"]`, false},
		{`id eq "g1"`, true},
	} {
		f, err := parseFilter(groupType, tc.filter)
		if err != nil {
			t.Errorf("group %s: %v", tc.filter, err)
			continue
		}
		if got := f.matches(group); got != tc.want {
			t.Errorf("group %s: %v, want %v", tc.filter, got, tc.want)
		}
	}
}
