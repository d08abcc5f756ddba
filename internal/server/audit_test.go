package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/audit"
	"github.com/latchkey/latchkey/internal/latchkey"
)

type directoryAudit struct {
	ID                  string
	ActivityDisplayName string
	Category            string
	CorrelationID       string
	Result              string
	InitiatedBy         struct {
		User *struct{ ID, UserPrincipalName string }
		App  *struct{ DisplayName string }
	}
	TargetResources []struct{ ID, DisplayName, Type string }
}

// TestDirectoryAudits: changes made through the API are audit events naming the person who
// made them and the request's correlation id; GET directoryAudits is Graph-shaped, filtered and
// paged with @odata.nextLink, for global admins and reports readers only; /admin/audit lists
// them; the sealed log verifies.
func TestDirectoryAudits(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	for _, upn := range []string{"ada@example.com", "bob@example.com", "cy@example.com"} {
		if r := admin.post("/api/v1/users", map[string]any{"userPrincipalName": upn}); r.status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", upn, r.status, r.body)
		}
	}

	get := func(c *client, path string) (page struct {
		Value    []directoryAudit
		NextLink string `json:"@odata.nextLink"`
	}) {
		t.Helper()
		r := c.get(path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		r.decode(t, &page)
		return page
	}
	all := get(admin, "/api/v1/auditLogs/directoryAudits?action=user.create")
	if len(all.Value) != 3 || all.NextLink != "" {
		t.Fatalf("user.create events: %+v", all)
	}
	e := all.Value[0]
	if e.ActivityDisplayName != "user.create" || e.Category != "UserManagement" || e.Result != "success" || e.CorrelationID == "" ||
		e.InitiatedBy.User == nil || e.InitiatedBy.User.UserPrincipalName != "admin@example.com" ||
		len(e.TargetResources) != 1 || e.TargetResources[0].DisplayName != "ada@example.com" || e.TargetResources[0].Type != "user" {
		t.Errorf("first event: %+v", e)
	}

	first := get(admin, "/api/v1/auditLogs/directoryAudits?action=user.create&$top=2")
	if len(first.Value) != 2 || first.NextLink == "" {
		t.Fatalf("page 1 of 2: %+v", first)
	}
	next := first.NextLink[strings.Index(first.NextLink, "/api/"):]
	second := get(admin, next)
	if len(second.Value) != 1 || second.Value[0].ID != all.Value[2].ID || second.NextLink != "" {
		t.Errorf("page 2: %+v", second)
	}
	if got := get(admin, "/api/v1/auditLogs/directoryAudits?target=bob@example.com").Value; len(got) != 1 || got[0].TargetResources[0].DisplayName != "bob@example.com" {
		t.Errorf("target=bob: %+v", got)
	}

	reader := h.roleClient("reader@example.com", latchkey.RoleReportsReader)
	if got := get(reader, "/api/v1/auditLogs/directoryAudits?action=user.create").Value; len(got) != 3 {
		t.Errorf("reports reader sees %d events, want 3", len(got))
	}
	helpdesk := h.roleClient("help@example.com", latchkey.RoleAuthenticationAdmin)
	if r := helpdesk.get("/api/v1/auditLogs/directoryAudits"); r.status != http.StatusForbidden {
		t.Errorf("helpdesk GET directoryAudits: %d, want 403", r.status)
	}
	if r := helpdesk.get("/admin/audit"); r.status != http.StatusForbidden {
		t.Errorf("helpdesk /admin/audit: %d, want 403", r.status)
	}
	if r := admin.get("/api/v1/auditLogs/directoryAudits?$top=0"); r.status != http.StatusBadRequest {
		t.Errorf("$top=0: %d, want 400", r.status)
	}

	page := admin.get("/admin/audit?action=user.create")
	if page.status != http.StatusOK || strings.Count(string(page.body), `data-action="user.create"`) != 3 ||
		!strings.Contains(string(page.body), `id="nav-audit"`) {
		t.Errorf("/admin/audit: %d\n%s", page.status, page.body)
	}

	ctx := context.Background()
	if _, err := audit.Seal(ctx, h.store); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, h.store, nil)
	if err != nil || !rep.OK || rep.Events != 3 {
		t.Errorf("Verify: %+v, %v", rep, err)
	}
}
