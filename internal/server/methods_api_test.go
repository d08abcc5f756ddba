package server

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// graphList is a Graph list answer.
type graphList struct {
	Context  string           `json:"@odata.context"`
	NextLink string           `json:"@odata.nextLink"`
	Value    []map[string]any `json:"value"`
}

func getList(t *testing.T, r *response, what string) graphList {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("%s: status %d: %s", what, r.status, r.body)
	}
	var l graphList
	r.decode(t, &l)
	if !strings.Contains(string(r.body), `"value":[`) {
		t.Errorf("%s: no value list: %s", what, r.body)
	}
	return l
}

// methodsFixture: alice has two passkeys (phone and laptop), a password, an authenticator app
// and a pass the admin issued; admin is a global admin's client.
func methodsFixture(t *testing.T) (h *harness, admin *client, alice *latchkey.User, phone, laptop *authenticator, phoneID, laptopID, pass string) {
	h = newHarness(t)
	h.enableLegacy(3)
	admin, _ = h.signedInClient("admin@example.com", true)
	ac, alice := h.signedInClient("alice@example.com", false)
	phone, laptop = h.newDevice(), h.newDevice()
	phoneID, laptopID = ac.mustRegister(phone).ID, ac.mustRegister(laptop).ID
	h.withLegacyCredentials(alice, true)
	r := admin.post("/api/v1/users/alice@example.com/authentication/temporaryAccessPassMethods", map[string]any{"lifetimeInMinutes": 60})
	if r.status != http.StatusCreated {
		t.Fatalf("issue pass: %d %s", r.status, r.body)
	}
	o := r.object(t)
	if o["@odata.type"] != "#microsoft.graph.temporaryAccessPassAuthenticationMethod" || o["temporaryAccessPass"] == "" {
		t.Errorf("created pass: %s", r.body)
	}
	return h, admin, alice, phone, laptop, phoneID, laptopID, o["temporaryAccessPass"].(string)
}

// TestGraphMethodsShapes: GET methods lists every method with Graph's @odata.type and
// properties; fido2Methods and temporaryAccessPassMethods list theirs; the pass itself appears
// only in the answer to its creation; an unknown person is 404.
func TestGraphMethodsShapes(t *testing.T) {
	_, admin, alice, _, _, phoneID, laptopID, pass := methodsFixture(t)
	base := "/api/v1/users/alice@example.com/authentication/"

	l := getList(t, admin.get(base+"methods"), "methods")
	if !strings.HasSuffix(l.Context, "/$metadata#users('"+alice.ID+"')/authentication/methods") {
		t.Errorf("methods @odata.context = %q", l.Context)
	}
	var types []string
	for _, m := range l.Value {
		types = append(types, fmt.Sprint(m["@odata.type"]))
		if m["id"] == "" || m["id"] == nil {
			t.Errorf("method without id: %v", m)
		}
	}
	sort.Strings(types)
	want := []string{"#microsoft.graph.fido2AuthenticationMethod", "#microsoft.graph.fido2AuthenticationMethod",
		"#microsoft.graph.passwordAuthenticationMethod", "#microsoft.graph.softwareOathAuthenticationMethod",
		"#microsoft.graph.temporaryAccessPassAuthenticationMethod"}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("method types = %v, want %v", types, want)
	}

	f := getList(t, admin.get(base+"fido2Methods"), "fido2Methods")
	if len(f.Value) != 2 || f.Value[0]["id"] != phoneID || f.Value[1]["id"] != laptopID {
		t.Fatalf("fido2Methods = %v, want the phone and the laptop", f.Value)
	}
	for _, key := range []string{"@odata.type", "id", "displayName", "createdDateTime", "aaGuid", "model", "attestationCertificates", "attestationLevel"} {
		if _, ok := f.Value[0][key]; !ok {
			t.Errorf("fido2AuthenticationMethod lacks %s: %v", key, f.Value[0])
		}
	}
	if !strings.HasSuffix(f.Context, "/authentication/fido2Methods") {
		t.Errorf("fido2Methods @odata.context = %q", f.Context)
	}

	r := admin.get(base + "temporaryAccessPassMethods")
	p := getList(t, r, "temporaryAccessPassMethods")
	if len(p.Value) != 1 {
		t.Fatalf("temporaryAccessPassMethods = %v, want one", p.Value)
	}
	tap := p.Value[0]
	for key, want := range map[string]any{"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
		"isUsable": true, "methodUsabilityReason": "Usable", "lifetimeInMinutes": 60.0, "isUsableOnce": false} {
		if tap[key] != want {
			t.Errorf("pass %s = %v, want %v", key, tap[key], want)
		}
	}
	for _, key := range []string{"id", "createdDateTime", "startDateTime"} {
		if _, ok := tap[key]; !ok {
			t.Errorf("pass lacks %s: %v", key, tap)
		}
	}
	if tap["temporaryAccessPass"] != nil || strings.Contains(string(r.body), pass) {
		t.Errorf("the pass itself is listed: %s", r.body)
	}

	for _, path := range []string{"methods", "fido2Methods", "temporaryAccessPassMethods"} {
		errorBody(t, admin.get("/api/v1/users/nobody@example.com/authentication/"+path), http.StatusNotFound, "user_not_found")
	}
	errorBody(t, admin.send("DELETE", "/api/v1/users/nobody@example.com/authentication/fido2Methods/"+phoneID, nil), http.StatusNotFound, "user_not_found")
	errorBody(t, admin.send("DELETE", "/api/v1/users/nobody@example.com/authentication/temporaryAccessPassMethods/x", nil), http.StatusNotFound, "user_not_found")
	errorBody(t, admin.post("/api/v1/users/nobody@example.com/revokeSignInSessions", nil), http.StatusNotFound, "user_not_found")
}

// TestGraphMethodsRemoval: deleting a stolen phone's passkey ends the session made with it and
// it can no longer sign in, while the other passkey still can; a revoked pass no longer signs
// in; deleting what is gone is 404; revokeSignInSessions ends every session of the person.
func TestGraphMethodsRemoval(t *testing.T) {
	h, admin, _, phone, laptop, phoneID, laptopID, pass := methodsFixture(t)
	base := "/api/v1/users/alice@example.com/authentication/"

	thief := h.newClient()
	if r := thief.signIn(phone, ""); r.status != http.StatusOK {
		t.Fatalf("phone sign-in before removal: %d %s", r.status, r.body)
	}
	if r := admin.send("DELETE", base+"fido2Methods/"+phoneID, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE fido2Methods: %d %s", r.status, r.body)
	}
	errorBody(t, thief.get("/api/v1/me"), http.StatusUnauthorized, "")
	if r := h.newClient().signIn(phone, ""); r.status == http.StatusOK {
		t.Errorf("the removed phone still signs in: %s", r.body)
	}
	owner := h.newClient()
	if r := owner.signIn(laptop, ""); r.status != http.StatusOK {
		t.Errorf("the laptop no longer signs in: %d %s", r.status, r.body)
	}
	errorBody(t, admin.send("DELETE", base+"fido2Methods/"+phoneID, nil), http.StatusNotFound, "passkey_not_found")
	errorBody(t, admin.send("DELETE", base+"fido2Methods/"+laptopID+"x", nil), http.StatusNotFound, "passkey_not_found")

	tapID := getList(t, admin.get(base+"temporaryAccessPassMethods"), "passes").Value[0]["id"].(string)
	errorBody(t, admin.send("DELETE", base+"temporaryAccessPassMethods/"+tapID+"x", nil), http.StatusNotFound, "tap_not_found")
	if r := admin.send("DELETE", base+"temporaryAccessPassMethods/"+tapID, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE temporaryAccessPassMethods: %d %s", r.status, r.body)
	}
	if r := h.newClient().signInTAP("alice@example.com", pass); r.status == http.StatusOK {
		t.Errorf("the revoked pass still signs in: %s", r.body)
	}
	if l := getList(t, admin.get(base+"temporaryAccessPassMethods"), "passes after revoking"); len(l.Value) != 0 {
		t.Errorf("passes after revoking: %v", l.Value)
	}
	errorBody(t, admin.send("DELETE", base+"temporaryAccessPassMethods/"+tapID, nil), http.StatusNotFound, "tap_not_found")

	other := h.newClient()
	if r := other.signIn(laptop, ""); r.status != http.StatusOK {
		t.Fatalf("second laptop sign-in: %d %s", r.status, r.body)
	}
	r := admin.post("/api/v1/users/alice@example.com/revokeSignInSessions", nil)
	if r.status != http.StatusOK || r.object(t)["value"] != true {
		t.Fatalf("revokeSignInSessions: %d %s", r.status, r.body)
	}
	for _, c := range []*client{owner, other} {
		errorBody(t, c.get("/api/v1/me"), http.StatusUnauthorized, "")
	}
	if r := admin.get("/api/v1/me"); r.status != http.StatusOK {
		t.Errorf("the admin was signed out too: %d", r.status)
	}
}

// TestGraphMethodsRefusals: a person without a methods role, a reports reader, a token with
// User.Read.All (and one with User.ReadWrite.All) are refused with 403 on every methods route; a
// helpdesk admin and a token with UserAuthenticationMethod.ReadWrite.All are allowed.
func TestGraphMethodsRefusals(t *testing.T) {
	h, _, _, _, _, phoneID, _, _ := methodsFixture(t)
	base := "/api/v1/users/alice@example.com/authentication/"
	tapID := "any"
	routes := func() [][2]string {
		return [][2]string{{"GET", base + "methods"}, {"GET", base + "fido2Methods"}, {"GET", base + "temporaryAccessPassMethods"},
			{"POST", base + "temporaryAccessPassMethods"}, {"DELETE", base + "fido2Methods/" + phoneID},
			{"DELETE", base + "temporaryAccessPassMethods/" + tapID}, {"POST", "/api/v1/users/alice@example.com/revokeSignInSessions"}}
	}
	for _, c := range []struct {
		who string
		c   *client
	}{{"a person", h.roleClient("pat@example.com", "")}, {"a reports reader", h.roleClient("rr@example.com", latchkey.RoleReportsReader)},
		{"a policy admin", h.roleClient("apa@example.com", latchkey.RoleAuthenticationPolicyAdmin)}} {
		for _, rt := range routes() {
			r := c.c.send(rt[0], rt[1], nil)
			if r.status != http.StatusForbidden {
				t.Errorf("%s: %s %s: %d, want 403: %s", c.who, rt[0], rt[1], r.status, r.body)
			}
			checkErrorShape(t, r, "")
		}
	}
	c := h.newClient()
	for _, scope := range []string{latchkey.ScopeUserReadAll, latchkey.ScopeUserReadWriteAll} {
		secret, _ := h.createToken("t-"+scope, directory.TokenExpiry{}, scope)
		for _, rt := range routes() {
			r := c.bearer(rt[0], rt[1], "Bearer "+secret, "")
			if r.status != http.StatusForbidden {
				t.Errorf("token %s: %s %s: %d, want 403: %s", scope, rt[0], rt[1], r.status, r.body)
			}
			checkErrorShape(t, r, "")
		}
	}
	secret, _ := h.createToken("methods", directory.TokenExpiry{}, latchkey.ScopeUserAuthenticationMethodRWAll)
	if r := c.bearer("GET", base+"methods", "Bearer "+secret, ""); r.status != http.StatusOK {
		t.Errorf("methods token GET methods: %d %s", r.status, r.body)
	}
	helpdesk := h.roleClient("help@example.com", latchkey.RoleAuthenticationAdmin)
	if r := helpdesk.send("DELETE", base+"fido2Methods/"+phoneID, nil); r.status != http.StatusNoContent {
		t.Errorf("helpdesk removes a passkey: %d %s", r.status, r.body)
	}
	if r := c.bearer("POST", "/api/v1/users/alice@example.com/revokeSignInSessions", "Bearer "+secret, ""); r.status != http.StatusOK {
		t.Errorf("methods token revokes sessions: %d %s", r.status, r.body)
	}
}

// TestGraphUsersPaging: $top=2 pages through five matching people in three pages following
// @odata.nextLink; $filter eq finds one person regardless of case; a bad $filter, $top or
// cursor (altered, from another filter, garbage) is 400.
func TestGraphUsersPaging(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	for i := 1; i <= 5; i++ {
		h.createUser(fmt.Sprintf("p%d@example.com", i), false)
	}
	h.createUser("q@example.com", false)
	filter := "startswith(userPrincipalName,'p')"
	next := "/api/v1/users?" + url.Values{"$top": {"2"}, "$filter": {filter}}.Encode()
	var got []string
	var pages []int
	var cursor string
	for next != "" && len(pages) < 5 {
		l := getList(t, admin.get(next), "users page")
		if !strings.HasSuffix(l.Context, "/$metadata#users") {
			t.Errorf("users @odata.context = %q", l.Context)
		}
		pages = append(pages, len(l.Value))
		for _, u := range l.Value {
			got = append(got, u["userPrincipalName"].(string))
		}
		next = ""
		if l.NextLink != "" {
			u, err := url.Parse(l.NextLink)
			if err != nil || !u.IsAbs() {
				t.Fatalf("nextLink %q is not an absolute URL", l.NextLink)
			}
			next, cursor = u.RequestURI(), u.Query().Get("$skiptoken")
		}
	}
	if fmt.Sprint(pages) != "[2 2 1]" || fmt.Sprint(got) != "[p1@example.com p2@example.com p3@example.com p4@example.com p5@example.com]" {
		t.Errorf("pages %v with %v; want [2 2 1] with p1..p5", pages, got)
	}

	l := getList(t, admin.get("/api/v1/users?"+url.Values{"$filter": {"userPrincipalName eq 'P3@Example.com'"}}.Encode()), "eq filter")
	if len(l.Value) != 1 || l.Value[0]["userPrincipalName"] != "p3@example.com" || l.NextLink != "" {
		t.Errorf("eq filter: %v", l.Value)
	}
	l = getList(t, admin.get("/api/v1/users"), "all users")
	if len(l.Value) != 7 || l.NextLink != "" {
		t.Errorf("all users: %d, nextLink %q; want 7 and none", len(l.Value), l.NextLink)
	}

	enc, mac, _ := strings.Cut(cursor, ".")
	altered := "cDFAZXhhbXBsZS5jb20." + mac // "p1@example.com" with the MAC of another key
	if enc == "cDFAZXhhbXBsZS5jb20" {
		t.Fatalf("test cursor unexpectedly names p1")
	}
	for name, q := range map[string]url.Values{
		"bad filter":         {"$filter": {"displayName eq 'x'"}},
		"injected filter":    {"$filter": {"userPrincipalName eq 'a' or true"}},
		"top zero":           {"$top": {"0"}},
		"top word":           {"$top": {"two"}},
		"altered cursor":     {"$filter": {filter}, "$skiptoken": {altered}},
		"cursor of a filter": {"$skiptoken": {cursor}},
		"garbage cursor":     {"$filter": {filter}, "$skiptoken": {"!!!"}},
	} {
		r := admin.get("/api/v1/users?" + q.Encode())
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400: %s", name, r.status, r.body)
		}
		checkErrorShape(t, r, "invalid_query")
	}
	// A cursor is bound to the list it came from, not to the person who asked.
	reader := h.roleClient("rr@example.com", latchkey.RoleReportsReader)
	if r := reader.get("/api/v1/users?" + url.Values{"$top": {"2"}, "$filter": {filter}, "$skiptoken": {cursor}}.Encode()); r.status != http.StatusOK {
		t.Errorf("a reader follows a cursor: %d %s", r.status, r.body)
	}
	secret, _ := h.createToken("reader", directory.TokenExpiry{}, latchkey.ScopeUserReadAll)
	if r := h.newClient().bearer("GET", "/api/v1/users?$top=2", "Bearer "+secret, ""); r.status != http.StatusOK {
		t.Errorf("User.Read.All lists users: %d %s", r.status, r.body)
	}
}
