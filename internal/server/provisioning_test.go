package server

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

func TestProvisioningPage(t *testing.T) {
	h := newHarness(t)
	h.srv.MountSCIM(h.srv.SCIM())
	secret, tok := h.createToken("HR sync", directory.TokenExpiry{}, latchkey.ScopeUserReadWriteAll)
	_, siem := h.createToken("SIEM", directory.TokenExpiry{}, latchkey.ScopeAuditLogReadAll) // cannot provision, never used
	auto := h.newClient()
	if r := auto.bearer("POST", "/scim/v2/Users", "Bearer "+secret, `{"userName":"new.hire@example.com","displayName":"New Hire","password":"Spring2027!",`+
		`"urn:ietf:params:scim:schemas:extension:latchkey:2.0:User":{"startDate":"2030-01-04"}}`); r.status != http.StatusCreated {
		t.Fatalf("create by SCIM: %d %s", r.status, r.body)
	}
	refused := auto.bearer("POST", "/scim/v2/Users", "Bearer "+secret, `{"userName":"nameless@example.com","active":"maybe","password":"Hunter2-page"}`)
	if refused.status != http.StatusBadRequest {
		t.Fatalf("refused POST: %d %s", refused.status, refused.body)
	}
	h.srv.Recorder().Wait()

	admin, _ := h.signedInClient("admin@example.com", true)
	page := admin.get("/admin/provisioning")
	if page.status != http.StatusOK {
		t.Fatalf("page: %d %s", page.status, page.body)
	}
	body := html.UnescapeString(string(page.body))
	for _, want := range []string{
		`id="nav-provisioning"`,
		`<tr data-token-id="` + tok.ID + `"><td data-label="Token">HR sync</td>`, // in use, not revoked
		`<td data-label="Requests kept">2, 1 refused</td>`,
		`<code class="request-path">/scim/v2/Users</code>`,
		`"userName": "nameless@example.com",`, // the redacted body, indented
		`"password": "[redacted]"`,
		`invalidValue: active must be true or false. (active is maybe)`,
		`Correlation id <code>` + refused.header.Get("X-Correlation-Id") + `</code>`,
		`>New Hire</a>`, `<td data-label="Source">SCIM, token HR sync</td>`,
		`<td data-label="Mail" class="onboarding-mail">Waiting to be sent</td>`,
		`<td data-label="Pass" class="onboarding-pass">No pass</td>`,
		`<td data-label="Passkey" class="onboarding-passkey">Not yet</td>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(body, siem.ID) {
		t.Errorf("a token that cannot provision and made no SCIM request is listed")
	}
	if strings.Count(body, `<tr data-request-id=`) != 1 {
		t.Errorf("want one error row, the refused POST")
	}
	for _, leak := range []string{"Hunter2-page", "Spring2027!", secret} {
		if strings.Contains(body, leak) {
			t.Errorf("the page shows %q", leak)
		}
	}

	// The new hire gets a pass: the page says so.
	u, err := h.store.FindUserByUPN(t.Context(), "new.hire@example.com")
	if err != nil {
		t.Fatal(err)
	}
	h.issueTAP(u.ID, signin.IssueOptions{LifetimeMinutes: 60})
	if body := string(admin.get("/admin/provisioning").body); !strings.Contains(body, `class="onboarding-pass">Issued, not used yet</td>`) {
		t.Errorf("after a pass was issued the page does not say so")
	}
}

// Global admins and reports readers see the page; other roles do not, and their navigation has
// no link to it.
func TestProvisioningPageAccess(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		role string
		want int
	}{
		{latchkey.RoleReportsReader, http.StatusOK},
		{latchkey.RoleAuthenticationAdmin, http.StatusForbidden},
		{latchkey.RoleAuthenticationPolicyAdmin, http.StatusForbidden},
		{"", http.StatusForbidden},
	} {
		c2 := h.roleClient(strings.ToLower("p"+c.role)+"@example.com", c.role)
		if got := c2.get("/admin/provisioning").status; got != c.want {
			t.Errorf("%q: status %d, want %d", c.role, got, c.want)
		}
	}
}

func TestProvisioningAPI(t *testing.T) {
	h := newHarness(t)
	h.srv.MountSCIM(h.srv.SCIM())
	secret, tok := h.createToken("HR sync", directory.TokenExpiry{}, latchkey.ScopeUserReadWriteAll)
	reader, _ := h.createToken("SIEM", directory.TokenExpiry{}, latchkey.ScopeAuditLogReadAll)
	c := h.newClient()
	c.bearer("POST", "/scim/v2/Users", "Bearer "+secret, `{"userName":"a@example.com","displayName":"A"}`)
	c.bearer("POST", "/scim/v2/Users", "Bearer "+secret, `{"userName":"b@example.com","Password":"Hunter2-api","active":"maybe"}`)
	h.srv.Recorder().Wait()

	r := c.bearer("GET", "/api/v1/provisioning/requests?failed=true", "Bearer "+reader, "")
	if r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var out struct {
		Value []map[string]any `json:"value"`
	}
	r.decode(t, &out)
	if len(out.Value) != 1 {
		t.Fatalf("failed=true listed %d requests, want 1: %s", len(out.Value), r.body)
	}
	got := out.Value[0]
	if got["tokenId"] != tok.ID || got["status"] != float64(400) || got["path"] != "/scim/v2/Users" ||
		got["requestBody"] != `{"userName":"b@example.com","Password":"[redacted]","active":"maybe"}` ||
		got["errorDetail"] != "invalidValue: active must be true or false. (active is maybe)" {
		t.Errorf("listed %v", got)
	}
	if r := c.bearer("GET", "/api/v1/provisioning/requests?$top=1", "Bearer "+reader, ""); r.status != http.StatusOK ||
		strings.Count(string(r.body), `"id"`) != 1 || !strings.Contains(string(r.body), `"status":400`) {
		t.Errorf("$top=1: %d %s, want the newest request only", r.status, r.body)
	}
	// The provisioning token itself may not read the log, and bad parameters are refused.
	wantRefusal(t, "token without AuditLog.Read.All", c.bearer("GET", "/api/v1/provisioning/requests", "Bearer "+secret, ""), http.StatusForbidden, "missing_scope")
	wantRefusal(t, "$top=0", c.bearer("GET", "/api/v1/provisioning/requests?$top=0", "Bearer "+reader, ""), http.StatusBadRequest, "invalid_top")
	wantRefusal(t, "failed=maybe", c.bearer("GET", "/api/v1/provisioning/requests?failed=maybe", "Bearer "+reader, ""), http.StatusBadRequest, "invalid_request")
}
