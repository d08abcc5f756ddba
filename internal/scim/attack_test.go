package scim

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// TestAttacks: what an attacker tries on /scim/v2. Without a working API token every route is
// 401, with a SCIM Error; a person's session (cookie or its token as a bearer) counts for
// nothing; a token without the scopes is 403 and changes nothing; a filter cannot escape its
// grammar, and a broken one is 400, never 5xx.
func TestAttacks(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	victim := h.createUser("victim@example.com")

	// A person's session: its cookie, or its secret as a bearer token.
	now := time.Now()
	sess := &latchkey.Session{ID: signin.SessionID("session-secret"), UserID: victim, Methods: []string{latchkey.MethodPasskey},
		CreatedAt: now, AuthenticatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := h.store.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, auth, cookie string }{
		{"no Authorization", "", ""},
		{"a session cookie only", "", "latchkey_session=session-secret"},
		{"a session's secret as bearer", "Bearer session-secret", ""},
		{"Basic", "Basic dXNlcjpwYXNz", ""},
		{"Okta's non-token", "non-token", ""},
		{"an invented token", "Bearer lk_" + strings.Repeat("A", 40), ""},
	} {
		for _, rt := range []struct{ method, path, body string }{
			{"GET", "/Users", ""}, {"GET", "/Users/" + victim, ""}, {"DELETE", "/Users/" + victim, ""},
			{"PATCH", "/Users/" + victim, patchBody(`{"op":"replace","path":"active","value":false}`)},
			{"GET", "/Schemas", ""}, {"GET", "/Nowhere", ""},
		} {
			r := h.do(rt.method, rt.path, rt.body, "Authorization", tc.auth, "Cookie", tc.cookie)
			wantError(t, tc.name+" "+rt.method+" "+rt.path, r, http.StatusUnauthorized, "")
			if r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: 401 without WWW-Authenticate", tc.name)
			}
		}
	}

	// Tokens without the scopes, and a revoked one.
	audit := h.createToken("audit reader", latchkey.ScopeAuditLogReadAll)
	usersOnly := h.createToken("users only", latchkey.ScopeUserReadWriteAll)
	reader := h.createToken("reader", latchkey.ScopeUserReadAll)
	for _, tc := range []struct {
		name, token, method, path, body string
	}{
		{"audit token lists users", audit, "GET", "/Users", ""},
		{"audit token reads a user", audit, "GET", "/Users/" + victim, ""},
		{"audit token creates a user", audit, "POST", "/Users", `{"userName":"intruder@example.com"}`},
		{"audit token disables a user", audit, "PATCH", "/Users/" + victim, patchBody(`{"op":"replace","path":"active","value":false}`)},
		{"audit token lists groups", audit, "GET", "/Groups", ""},
		{"users token creates a group", usersOnly, "POST", "/Groups", `{"displayName":"Break glass"}`},
		{"users token lists groups", usersOnly, "GET", "/Groups", ""},
		{"read token creates a user", reader, "POST", "/Users", `{"userName":"intruder@example.com"}`},
		{"read token disables a user", reader, "PATCH", "/Users/" + victim, patchBody(`{"op":"replace","path":"active","value":false}`)},
		{"read token deletes a user", reader, "DELETE", "/Users/" + victim, ""},
		{"read token puts a user", reader, "PUT", "/Users/" + victim, `{"userName":"victim@example.com","active":false}`},
	} {
		wantError(t, tc.name, h.do(tc.method, tc.path, tc.body, "Authorization", "Bearer "+tc.token), http.StatusForbidden, "")
	}
	if r := h.do("GET", "/Users", "", "Authorization", "Bearer "+usersOnly); r.status != http.StatusOK {
		t.Errorf("users token lists users: %d %s", r.status, r.body)
	}
	u, err := h.store.FindUserByID(ctx, victim)
	if err != nil || !u.Enabled {
		t.Fatalf("victim after refused requests: %v %+v", err, u)
	}
	if _, err := h.store.FindUserByUPN(ctx, "intruder@example.com"); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("intruder: %v, want not created", err)
	}
	if _, err := h.store.FindGroupByName(ctx, "Break glass"); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("group: %v, want not created", err)
	}

	// SCIM's roles, entitlements and groups on a user never grant a role or a membership.
	g := h.do("POST", "/Groups", `{"displayName":"Admins"}`).object(t)["id"].(string)
	climber := h.createUser("climber@example.com", `,"roles":[{"value":"globalAdmin","primary":true}],"entitlements":[{"value":"globalAdmin"}],"groups":[{"value":"`+g+`"}]`)
	for _, op := range []string{`{"op":"add","path":"roles","value":[{"value":"globalAdmin"}]}`, `{"op":"add","path":"groups","value":[{"value":"` + g + `"}]}`,
		`{"op":"replace","value":{"roles":[{"value":"globalAdmin"}],"userType":"member"}}`} {
		if r := h.do("PATCH", "/Users/"+climber, patchBody(op)); r.status != http.StatusOK {
			t.Errorf("patch %s: %d %s", op, r.status, r.body)
		}
	}
	if u, err := h.store.FindUserByID(ctx, climber); err != nil || len(u.Roles) != 0 {
		t.Errorf("climber roles %v (%v), want none", u.Roles, err)
	}
	if groups, err := h.store.ListUserGroups(ctx, climber); err != nil || len(groups) != 0 {
		t.Errorf("climber groups %d (%v), want none", len(groups), err)
	}

	// Filter injection: quotes, SQL and grammar tricks are values or 400, never 5xx.
	for _, q := range []string{
		`userName eq "x' OR '1'='1"`, `userName eq "x\" or userName pr"`, `userName eq "victim@example.com") or (userName pr`,
		`userName eq "a"]`, `emails[type eq "work"`, `userName`, `userName eq`, `"userName" eq "x"`, `userName zz "x"`,
		`password pr`, `title eq "x"`, `nickName eq "x"`, strings.Repeat("(", 3000) + `userName pr` + strings.Repeat(")", 3000),
		strings.Repeat(`userName pr and `, 300) + `userName pr`, `emails[type eq "work"].nope eq "x"`, `emails[value[type eq "a"]]`,
	} {
		r := h.do("GET", "/Users?filter="+urlQuery(q), "")
		switch {
		case r.status == http.StatusOK:
			if n := r.object(t)["totalResults"]; n != float64(0) && !strings.Contains(q, "pr") {
				t.Errorf("filter %.60s: %v results, want 0", q, n)
			}
		case r.status == http.StatusBadRequest:
			wantError(t, "filter "+q[:min(len(q), 60)], r, 400, "invalidFilter")
		default:
			t.Errorf("filter %.60s: status %d: %s", q, r.status, r.body)
		}
	}
	// A filter naming an attribute Latchkey does not keep is refused, not ignored: ignoring it
	// would list everyone, and a client would take the first as its match (reference §5.2).
	wantError(t, "unknown attribute", h.do("GET", "/Users?filter="+urlQuery(`title eq "CEO"`), ""), 400, "invalidFilter")
	wantError(t, "password", h.do("GET", "/Users?filter="+urlQuery(`password eq "x"`), ""), 400, "invalidFilter")
}

// TestRefusals: every refusal is a SCIM Error with the scimType RFC 7644 gives it.
func TestRefusals(t *testing.T) {
	h := newHarness(t)
	id := h.createUser("dana@example.com")
	for _, tc := range []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		scimType                 string
	}{
		{"no such route", "GET", "/Nowhere", "", nil, 404, ""},
		{"no such method", "DELETE", "/Users", "", nil, 405, ""},
		{"no such schema", "GET", "/Schemas/urn:nope", "", nil, 404, ""},
		{"malformed JSON", "POST", "/Users", `{"userName":`, nil, 400, "invalidSyntax"},
		{"not an object", "POST", "/Users", `["x"]`, nil, 400, "invalidSyntax"},
		{"not UTF-8", "POST", "/Users", "{\"userName\":\"\xff\"}", nil, 400, "invalidSyntax"},
		{"a form", "POST", "/Users", `userName=x`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, ""},
		{"no userName", "POST", "/Users", `{"name":{"givenName":"X"}}`, nil, 400, "invalidValue"},
		{"userName a number", "POST", "/Users", `{"userName":42}`, nil, 400, "invalidValue"},
		{"active a word", "POST", "/Users", `{"userName":"e@example.com","active":"maybe"}`, nil, 400, "invalidValue"},
		{"emails not a list", "POST", "/Users", `{"userName":"e@example.com","emails":"e@example.com"}`, nil, 400, "invalidValue"},
		{"a bad mail", "POST", "/Users", `{"userName":"e@example.com","emails":[{"type":"work","value":"not mail"}]}`, nil, 400, "invalidValue"},
		{"userName with a space", "POST", "/Users", `{"userName":"e f@example.com"}`, nil, 400, "invalidValue"},
		{"no Operations", "PATCH", "/Users/" + id, `{"schemas":["` + schemaPatch + `"]}`, nil, 400, "invalidSyntax"},
		{"op move", "PATCH", "/Users/" + id, patchBody(`{"op":"move","path":"userName","value":"x"}`), nil, 400, "invalidSyntax"},
		{"remove without path", "PATCH", "/Users/" + id, patchBody(`{"op":"remove"}`), nil, 400, "noTarget"},
		{"a broken path", "PATCH", "/Users/" + id, patchBody(`{"op":"replace","path":"emails[type eq","value":"x"}`), nil, 400, "invalidPath"},
		{"another id", "PATCH", "/Users/" + id, patchBody(`{"op":"replace","value":{"id":"someone-else"}}`), nil, 400, "mutability"},
		{"remove userName", "PATCH", "/Users/" + id, patchBody(`{"op":"remove","path":"userName"}`), nil, 400, "invalidValue"},
		{"path-less value not an object", "PATCH", "/Users/" + id, patchBody(`{"op":"replace","value":"x"}`), nil, 400, "invalidValue"},
		{"group without name", "POST", "/Groups", `{"members":[]}`, nil, 400, "invalidValue"},
		{"group with a stranger", "POST", "/Groups", `{"displayName":"G","members":[{"value":"nobody"}]}`, nil, 400, "invalidValue"},
	} {
		wantError(t, tc.name, h.do(tc.method, tc.path, tc.body, tc.headers...), tc.status, tc.scimType)
	}
	if r := h.do("DELETE", "/Users", ""); r.header.Get("Allow") != "GET, POST" {
		t.Errorf("405 Allow %q, want GET, POST", r.header.Get("Allow"))
	}
	if r := h.do("POST", "/Groups", `{"displayName":"G"}`); r.status != 201 {
		t.Errorf("create the group refused for a stranger: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/Groups", `{"displayName":"Sales"}`); r.status != 201 {
		t.Fatalf("create group: %d %s", r.status, r.body)
	}
	wantError(t, "group name taken in another case", h.do("POST", "/Groups", `{"displayName":"SALES"}`), 409, "uniqueness")

	// An HR feed never reaches the administrators: a token may read a person who holds a role
	// but not change, turn off or delete them (privileged_target, 403), and they stay as they were.
	for _, role := range []string{latchkey.RoleGlobalAdmin, latchkey.RoleAuthenticationAdmin} {
		admin := &latchkey.User{UserPrincipalName: role + "@example.com", Enabled: true, Roles: []string{role}}
		if err := admin.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := h.store.CreateUser(context.Background(), admin); err != nil {
			t.Fatal(err)
		}
		if r := h.do("GET", "/Users/"+admin.ID, ""); r.status != 200 {
			t.Errorf("read a %s: %d %s", role, r.status, r.body)
		}
		wantError(t, "delete a "+role, h.do("DELETE", "/Users/"+admin.ID, ""), 403, "")
		wantError(t, "turn off a "+role, h.do("PATCH", "/Users/"+admin.ID, patchBody(`{"op":"replace","path":"active","value":false}`)), 403, "")
		wantError(t, "rename a "+role, h.do("PATCH", "/Users/"+admin.ID, patchBody(`{"op":"replace","path":"userName","value":"evil@example.com"}`)), 403, "")
		wantError(t, "replace a "+role, h.do("PUT", "/Users/"+admin.ID, `{"userName":"`+role+`@example.com","active":false}`), 403, "")
		got, err := h.store.FindUserByID(context.Background(), admin.ID)
		if err != nil || !got.Enabled || got.UserPrincipalName != admin.UserPrincipalName {
			t.Errorf("the %s after the refusals: %+v, %v; want unchanged", role, got, err)
		}
	}
}
