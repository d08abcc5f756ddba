package server

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/web"
)

var pageErrorRE = regexp.MustCompile(`(?s)<div[^>]*\bid="page-error"[^>]*>.*?</div>`)
var dataCodeRE = regexp.MustCompile(`\bdata-code="([^"]*)"`)

// checkErrorPage checks that r is a refusal shown as a page: a 4xx HTML page whose #page-error
// has a data-code (code, when not empty) and shows the request's correlation id. It returns the
// data-code.
func checkErrorPage(t *testing.T, r *response, code string) string {
	t.Helper()
	if r.status < 400 || r.status > 499 {
		t.Errorf("status %d, want a 4xx (body %.500s)", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want text/html (body %.500s)", ct, r.body)
	}
	box := pageErrorRE.Find(r.body)
	if box == nil {
		t.Errorf("no #page-error in the page: %.1000s", r.body)
		return ""
	}
	m := dataCodeRE.FindSubmatch(box)
	if m == nil || len(m[1]) == 0 {
		t.Errorf("#page-error has no data-code: %s", box)
		return ""
	}
	got := html.UnescapeString(string(m[1]))
	if code != "" && got != code {
		t.Errorf("data-code %q, want %q (%s)", got, code, box)
	}
	cid := r.header.Get("X-Correlation-Id")
	if cid == "" || !strings.Contains(string(box), cid) {
		t.Errorf("#page-error does not show the correlation id %q: %s", cid, box)
	}
	for _, ck := range r.resp.Cookies() {
		if ck.Name == httpedge.SessionCookie && ck.Value != "" {
			t.Errorf("a refusal set a session cookie")
		}
	}
	return got
}

var csrfFieldRE = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// formCSRF returns the form token of c's pages (bound to c's session, or to its pre-session
// cookie before sign-in), as the hidden field of a page carries it.
func (c *client) formCSRF() string {
	c.h.t.Helper()
	r := c.get("/signin/tap")
	if r.status != http.StatusOK {
		c.h.t.Fatalf("GET /signin/tap: %d", r.status)
	}
	m := csrfFieldRE.FindSubmatch(r.body)
	if m == nil || len(m[1]) == 0 {
		c.h.t.Fatalf("no CSRF field on /signin/tap: %.500s", r.body)
	}
	return html.UnescapeString(string(m[1]))
}

// TestBadFormInput sends every form route posts with a missing, wrong or cookieless CSRF token,
// an oversized or malformed body, JSON, and a cross-origin Origin: each answer is a 4xx error
// page, and nothing is written. Then the same forms, sent properly, work.
func TestBadFormInput(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, adminUser := h.signedInClient("admin@example.com", true)
	token := admin.formCSRF()
	pk := admin.mustRegister(h.newDevice())
	bob := h.createUser("bob@example.com", false)
	bobPass := h.issueTAP(bob.ID, signin.IssueOptions{})
	bobTAP, err := h.store.FindAccessPassByUser(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	legacy := legacyFormRoutes(t, h, admin, adminUser, token) // creates its users first
	// A unit with bob in it, where bob holds a role the remove form takes away.
	unit := &latchkey.AdministrativeUnit{DisplayName: "Setup"}
	if err := h.store.CreateUnit(ctx, unit); err != nil {
		t.Fatal(err)
	}
	if err := h.store.AssignRole(ctx, &latchkey.RoleAssignment{UserID: bob.ID, Role: latchkey.RoleAuthenticationAdmin, UnitID: unit.ID}); err != nil {
		t.Fatal(err)
	}
	peopleBefore := peopleSnapshot(t, h)
	usersBefore, err := h.store.CountUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// anon signs in with bob's pass; its jar holds a CSRF cookie but no session.
	anon := h.newClient()
	anonToken := anon.formCSRF()

	type formRoute struct {
		name   string // the route as server.go registers it
		path   string
		c      *client
		token  string
		fields url.Values // a valid request apart from the CSRF field
	}
	routes := []formRoute{
		{"POST /signin/tap", "/signin/tap", anon, anonToken, url.Values{"username": {"bob@example.com"}, "tap": {bobPass}}},
		{"POST /signout", "/signout", admin, token, url.Values{}},
		{"POST /my/security-info/passkeys/{id}/rename", "/my/security-info/passkeys/" + pk.ID + "/rename", admin, token, url.Values{"name": {"Renamed"}}},
		{"POST /my/security-info/passkeys/{id}/remove", "/my/security-info/passkeys/" + pk.ID + "/remove", admin, token, url.Values{"confirmLast": {"yes"}}},
		{"POST /admin/users", "/admin/users", admin, token, url.Values{"upn": {"carol@example.com"}, "displayName": {"Carol"}}},
		{"POST /admin/users/{id}/tap", "/admin/users/" + bob.ID + "/tap", admin, token, url.Values{"lifetime": {"60"}, "oneTime": {"yes"}}},
		{"POST /admin/users/{id}/manager", "/admin/users/" + bob.ID + "/manager", admin, token, url.Values{"manager": {"admin@example.com"}}},
		{"POST /admin/units", "/admin/units", admin, token, url.Values{"name": {"Berlin"}}},
		{"POST /admin/units/members", "/admin/units/members", admin, token, url.Values{"unit": {unit.ID}, "member": {"admin@example.com"}}},
		{"POST /admin/roles", "/admin/roles", admin, token, url.Values{"user": {"bob@example.com"}, "role": {latchkey.RoleReportsReader}, "unit": {""}}},
		{"POST /admin/roles/remove", "/admin/roles/remove", admin, token, url.Values{"user": {bob.ID}, "role": {latchkey.RoleAuthenticationAdmin}, "unit": {unit.ID}, "confirm": {"yes"}}},
	}
	for _, rt := range caFormRoutes(t, h, admin, token) {
		routes = append(routes, formRoute(rt))
	}
	for _, rt := range legacy {
		routes = append(routes, formRoute(rt))
	}
	caBefore := caSnapshot(t, h)
	const form = "application/x-www-form-urlencoded"
	withCSRF := func(v url.Values, tok string) string {
		v2 := url.Values{web.CSRFField: {tok}}
		for k, vs := range v {
			v2[k] = vs
		}
		return v2.Encode()
	}

	for _, rt := range routes {
		t.Run(rt.name, func(t *testing.T) {
			// noCookie holds neither the session nor the pre-session cookie the route's token is
			// bound to.
			noCookie := h.newClient()
			cases := []struct {
				name        string
				c           *client
				contentType string
				body        string
				header      []string
				status      int
				code        string
			}{
				{"missing CSRF field", rt.c, form, rt.fields.Encode(), nil, 403, "csrf_failed"},
				{"empty CSRF field", rt.c, form, withCSRF(rt.fields, ""), nil, 403, "csrf_failed"},
				{"wrong CSRF", rt.c, form, withCSRF(rt.fields, signin.NewToken()), nil, 403, "csrf_failed"},
				{"CSRF in the query only", rt.c, form, rt.fields.Encode(), nil, 403, "csrf_failed"},
				{"no CSRF cookie", noCookie, form, withCSRF(rt.fields, rt.token), nil, 403, "csrf_failed"},
				{"oversized", rt.c, form, withCSRF(rt.fields, rt.token) + "&pad=" + strings.Repeat("a", httpedge.MaxBodyBytes), nil, 413, "form_too_large"},
				{"malformed urlencoding", rt.c, form, withCSRF(rt.fields, rt.token) + "&x=%zz", nil, 400, "malformed_form"},
				{"semicolon separator", rt.c, form, withCSRF(rt.fields, rt.token) + ";x=y", nil, 400, "malformed_form"},
				{"JSON", rt.c, "application/json", `{"csrf":"` + rt.token + `","name":"x","upn":"x@example.com"}`, nil, 403, "csrf_failed"},
				{"no content type", rt.c, "", withCSRF(rt.fields, rt.token), nil, 403, "csrf_failed"},
				{"cross-origin", rt.c, form, withCSRF(rt.fields, rt.token), []string{"Origin", "https://evil.example"}, 403, "cross_origin_request"},
				{"cross-site fetch", rt.c, form, withCSRF(rt.fields, rt.token), []string{"Sec-Fetch-Site", "cross-site"}, 403, "cross_origin_request"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					path := rt.path
					if tc.name == "CSRF in the query only" {
						path += "?" + web.CSRFField + "=" + url.QueryEscape(rt.token)
					}
					r := tc.c.do(http.MethodPost, path, tc.contentType, strings.NewReader(tc.body), tc.header...)
					if r.status != tc.status {
						t.Errorf("status %d, want %d", r.status, tc.status)
					}
					checkErrorPage(t, r, tc.code)
				})
			}
		})
	}

	// Nothing was written.
	checkNoSession(t, anon)
	if r := admin.get("/api/v1/me"); r.status != http.StatusOK {
		t.Fatalf("the admin's session did not survive the refused posts (sign-out among them): %d %s", r.status, r.body)
	}
	pks := h.passkeys(adminUser.ID)
	if len(pks) != 1 || pks[0].ID != pk.ID || pks[0].Nickname != pk.Nickname {
		t.Errorf("the admin's passkeys changed: %+v", pks)
	}
	if n, _ := h.store.CountUsers(ctx); n != usersBefore {
		t.Errorf("%d users, want %d", n, usersBefore)
	}
	if _, err := h.store.FindUserByUPN(ctx, "carol@example.com"); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("carol was created (%v)", err)
	}
	if ap, err := h.store.FindAccessPassByUser(ctx, bob.ID); err != nil || ap.ID != bobTAP.ID {
		t.Errorf("bob's pass was replaced (%v)", err)
	}
	if got := caSnapshot(t, h); got != caBefore {
		t.Errorf("a refused post changed conditional access:\n%s\nwas\n%s", got, caBefore)
	}
	if got := peopleSnapshot(t, h); got != peopleBefore {
		t.Errorf("a refused post changed roles, units or managers:\n%s\nwas\n%s", got, peopleBefore)
	}

	// The same forms, sent properly, do what they say: the refusals above were for the reasons
	// given, not for a broken request. Sign-out goes last.
	post := func(c *client, path string, v url.Values, tok string) *response {
		t.Helper()
		r := c.do(http.MethodPost, path, form, strings.NewReader(withCSRF(v, tok)))
		if r.status >= 400 {
			t.Fatalf("POST %s: %d %.500s", path, r.status, r.body)
		}
		return r
	}
	// First, before the issue-pass form replaces bob's pass.
	post(anon, routes[0].path, routes[0].fields, anonToken)
	if anon.sessionCookie() == nil {
		t.Error("the TAP form did not sign bob in")
	}
	for _, rt := range routes[1:] {
		if rt.path == "/signout" {
			continue
		}
		// The token as the client's pages carry it now: a sign-in along the way (the TAP and
		// password forms) binds the client's forms to its new session.
		r := post(rt.c, rt.path, rt.fields, rt.c.formCSRF())
		if strings.HasSuffix(rt.path, "/rename") && r.header.Get("Location") != "/my/security-info?notice=renamed" {
			t.Errorf("the rename form answered %d, Location %q", r.status, r.header.Get("Location"))
		}
	}
	if _, err := h.store.FindUserByUPN(ctx, "carol@example.com"); err != nil {
		t.Errorf("the add-user form did not create carol: %v", err)
	}
	if ap, err := h.store.FindAccessPassByUser(ctx, bob.ID); err != nil || ap.ID == bobTAP.ID {
		t.Errorf("the issue-pass form did not replace bob's pass (%v)", err)
	}
	if n := len(h.passkeys(adminUser.ID)); n != 0 {
		t.Errorf("the remove form left %d passkeys", n)
	}
	post(admin, "/signout", url.Values{}, token)
	if r := admin.get("/api/v1/me"); r.status != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me after sign-out: %d", r.status)
	}
}

// peopleSnapshot describes the role assignments, the units with their members and every
// manager, for comparing before and after.
func peopleSnapshot(t *testing.T, h *harness) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	asgs, err := h.store.ListRoleAssignments(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range asgs {
		fmt.Fprintf(&b, "role %s %s %s\n", a.UserID, a.Role, a.UnitID)
	}
	units, err := h.store.ListUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		members, err := h.store.ListUnitMembers(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "unit %s %v\n", u.DisplayName, members)
	}
	users, err := h.store.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		fmt.Fprintf(&b, "manager %s %s\n", u.UserPrincipalName, u.ManagerID)
	}
	return b.String()
}
