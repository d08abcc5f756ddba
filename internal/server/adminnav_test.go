package server

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/web"
)

// roleClient signs in a new person and assigns them role over the whole directory (none when
// role is ""); roles are read on each request, so the assignment applies to the session at once.
func (h *harness) roleClient(upn, role string) *client {
	h.t.Helper()
	c, u := h.signedInClient(upn, false)
	if role != "" {
		if err := h.store.AssignRole(context.Background(), &latchkey.RoleAssignment{UserID: u.ID, Role: role}); err != nil {
			h.t.Fatalf("assign %s to %s: %v", role, upn, err)
		}
	}
	return c
}

var (
	adminNavRE = regexp.MustCompile(`(?s)<nav class="admin-nav"[^>]*>.*?</nav>`)
	navIDRE    = regexp.MustCompile(`id="(nav-[a-z]+)"`)
)

// adminNavIDs returns the ids of the admin navigation's links on a page, in order; nil when the
// page has no admin navigation.
func adminNavIDs(t *testing.T, r *response) []string {
	t.Helper()
	nav := adminNavRE.Find(r.body)
	if nav == nil {
		return nil
	}
	var ids []string
	for _, m := range navIDRE.FindAllSubmatch(nav, -1) {
		ids = append(ids, string(m[1]))
	}
	return ids
}

var allAdminLinks = []string{"nav-users", "nav-helpdesk", "nav-roles", "nav-units", "nav-policy", "nav-recovery", "nav-ca", "nav-inspect", "nav-apps", "nav-signins", "nav-tokens", "nav-audit", "nav-provisioning"}

// TestAdminNavFollowsRoles: the admin navigation shows each viewer the pages their roles allow
// and no other; /admin sends them to the first, and the Admin link shows only to whom has one.
func TestAdminNavFollowsRoles(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	for _, tc := range []struct {
		who  string
		c    *client
		page string
		want []string
	}{
		{"global admin", admin, "/admin/signins", allAdminLinks},
		{"reports reader", h.roleClient("reader@example.com", latchkey.RoleReportsReader), "/admin/signins", []string{"nav-users", "nav-signins", "nav-audit", "nav-provisioning"}},
		{"policy admin", h.roleClient("policy@example.com", latchkey.RoleAuthenticationPolicyAdmin), "/admin/apps", []string{"nav-users", "nav-policy", "nav-recovery", "nav-ca", "nav-inspect"}},
		{"helpdesk", h.roleClient("helpdesk@example.com", latchkey.RoleAuthenticationAdmin), "/admin/apps", []string{"nav-users", "nav-helpdesk"}},
	} {
		r := tc.c.get(tc.page)
		if got := adminNavIDs(t, r); !slices.Equal(got, tc.want) {
			t.Errorf("%s on %s: admin links %v, want %v", tc.who, tc.page, got, tc.want)
		}
		// Each of them may read users: /admin is their home page.
		r = tc.c.get("/admin")
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `id="attention"`) {
			t.Errorf("%s at /admin: %d, want 200 with the admin home page", tc.who, r.status)
		}
		r = tc.c.get("/my/security-info")
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `<a href="/admin" id="nav-admin"`) {
			t.Errorf("%s: My security info has no Admin pages link to /admin (%d)", tc.who, r.status)
		}
		if got := adminNavIDs(t, r); got != nil {
			t.Errorf("%s: My security info shows the admin pages %v; the Admin link leads to them", tc.who, got)
		}
	}
	// The current page's link is marked.
	if r := admin.get("/admin/strengths"); !regexp.MustCompile(`id="nav-ca" aria-current="page"`).Match(r.body) {
		t.Errorf("strengths page does not mark Conditional access as current: %s", adminNavRE.Find(r.body))
	}
}

// TestAdminForNobody: a person with no role has no Admin link, and /admin tells them plainly
// that the admin pages are for administrators, with the way to their own security info.
func TestAdminForNobody(t *testing.T) {
	h := newHarness(t)
	bob := h.roleClient("bob@example.com", "")
	r := bob.get("/my/security-info")
	if r.status != http.StatusOK || strings.Contains(string(r.body), `id="nav-admin"`) || strings.Contains(string(r.body), `href="/admin`) {
		t.Errorf("a person with no role sees an admin link: %d %.1500s", r.status, r.body)
	}
	r = bob.get("/admin")
	if r.status != http.StatusForbidden {
		t.Fatalf("GET /admin with no role: %d, want 403", r.status)
	}
	checkErrorPage(t, r, authz.CodeNotAllowed)
	text := pageText(r)
	if !strings.Contains(text, "The admin pages are for administrators. To manage your own passkeys, go to My security info.") {
		t.Errorf("refusal text: %s", text)
	}
	if !strings.Contains(string(r.body), `<a href="/my/security-info" id="to-security-info">`) {
		t.Errorf("refusal has no link to My security info: %.1500s", r.body)
	}
	if adminNavIDs(t, r) != nil || strings.Contains(string(r.body), `id="nav-admin"`) {
		t.Error("the refusal shows admin links")
	}
}

// TestReportsReaderSignIns: a reports reader reads the sign-in log on the page, as CSV and
// through the API, finds nothing on it that would change something, and is refused the
// applications; a helpdesk admin is refused the applications API with authz's code.
func TestReportsReaderSignIns(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	reader := h.roleClient("reader@example.com", latchkey.RoleReportsReader)

	r := reader.get("/admin/signins")
	if r.status != http.StatusOK {
		t.Fatalf("reports reader GET /admin/signins: %d %.1000s", r.status, r.body)
	}
	body := string(r.body)
	if !strings.Contains(body, `id="signin-filter"`) || !strings.Contains(body, "data-signin-id=") || !strings.Contains(body, "reader@example.com") {
		t.Errorf("sign-ins page lacks the filter or the reader's own sign-in: %.2000s", body)
	}
	// Every form but signing out is a GET (the filter); no button changes anything.
	for _, m := range regexp.MustCompile(`<form[^>]*>`).FindAllString(body, -1) {
		if strings.Contains(m, `method="post"`) && !strings.Contains(m, `action="/signout"`) {
			t.Errorf("sign-ins page has a state-changing form: %s", m)
		}
	}
	if r := reader.get("/admin/signins.csv"); r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Errorf("reports reader CSV: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := reader.get("/api/v1/auditLogs/signIns"); r.status != http.StatusOK || !strings.Contains(string(r.body), "reader@example.com") {
		t.Errorf("reports reader API: %d %.500s", r.status, r.body)
	}

	r = reader.get("/admin/apps")
	checkErrorPage(t, r, authz.CodeNotAllowed)
	if r.status != http.StatusForbidden || strings.Contains(string(r.body), `id="add-app"`) {
		t.Errorf("reports reader GET /admin/apps: %d, or the page shows the add form", r.status)
	}
	v := url.Values{"name": {"Sneaky"}, "redirectUris": {"https://sneaky.example.com/cb"}, web.CSRFField: {reader.formCSRF()}}
	r = reader.do(http.MethodPost, "/admin/apps", "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	if r.status != http.StatusForbidden {
		t.Errorf("reports reader POST /admin/apps: %d, want 403", r.status)
	}
	checkErrorPage(t, r, authz.CodeNotAllowed)
	if cls, err := h.store.ListClients(ctx); err != nil || len(cls) != 0 {
		t.Errorf("a refused post stored applications: %v %v", cls, err)
	}

	helpdesk := h.roleClient("helpdesk@example.com", latchkey.RoleAuthenticationAdmin)
	e := errorBody(t, helpdesk.get("/api/v1/applications"), http.StatusForbidden, authz.CodeNotAllowed)
	if !strings.Contains(e.Message, "applications") {
		t.Errorf("refusal message %q does not say what was refused", e.Message)
	}
	errorBody(t, helpdesk.get("/api/v1/auditLogs/signIns"), http.StatusForbidden, authz.CodeNotAllowed)
}
