package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestAPIMethodsPolicyRoles: an authentication policy admin reads and replaces the methods
// policy through the API; the helpdesk may do neither (403 not_allowed) and changes nothing.
func TestAPIMethodsPolicyRoles(t *testing.T) {
	h := newHarness(t)
	const path = "/api/v1/policies/authenticationMethods"
	helpdesk := h.roleClient("helpdesk@example.com", latchkey.RoleAuthenticationAdmin)
	errorBody(t, helpdesk.get(path), http.StatusForbidden, authz.CodeNotAllowed)
	errorBody(t, helpdesk.send(http.MethodPut, path, `{"registrationCampaign": {"state": "enabled", "snoozesAllowed": 2}}`),
		http.StatusForbidden, authz.CodeNotAllowed)
	if got := h.storedPolicy().RegistrationCampaign.SnoozesAllowed; got == 2 {
		t.Fatal("the helpdesk's PUT was stored")
	}

	pa := h.roleClient("policy@example.com", latchkey.RoleAuthenticationPolicyAdmin)
	if r := pa.get(path); r.status != http.StatusOK {
		t.Fatalf("policy admin GET: %d %s", r.status, r.body)
	}
	if r := pa.send(http.MethodPut, path, `{"registrationCampaign": {"state": "enabled", "snoozesAllowed": 2}}`); r.status != http.StatusOK {
		t.Fatalf("policy admin PUT: %d %s", r.status, r.body)
	}
	if got := h.storedPolicy().RegistrationCampaign.SnoozesAllowed; got != 2 {
		t.Errorf("snoozes allowed %d after the policy admin's PUT, want 2", got)
	}
}

// TestPolicyPagesRoles: an authentication policy admin's session reaches the conditional access
// pages and adds a named location; a reports reader and the helpdesk see the refusal page in
// plain words, and their posts store nothing.
func TestPolicyPagesRoles(t *testing.T) {
	h := newHarness(t)
	pa := h.roleClient("policy@example.com", latchkey.RoleAuthenticationPolicyAdmin)
	for _, p := range []string{"/admin/ca", "/admin/ca/new", "/admin/strengths", "/admin/locations", "/admin/whatif", "/admin/policy", "/admin/inspect"} {
		if r := pa.get(p); r.status != http.StatusOK || !strings.Contains(string(r.body), "<form") {
			t.Errorf("policy admin GET %s: %d %.300s", p, r.status, r.body)
		}
	}
	// The buttons of a change are there for whoever may make it.
	for p, id := range map[string]string{"/admin/policy": `id="policy-methods-submit"`, "/admin/ca": `id="new-policy"`, "/admin/locations": `id="add-location"`, "/admin/ca/new": "Save policy"} {
		if r := pa.get(p); !strings.Contains(string(r.body), id) {
			t.Errorf("policy admin GET %s: no %s", p, id)
		}
	}
	if r := pa.postForm("/admin/locations", url.Values{"name": {"Office"}, "ranges": {"192.0.2.0/24"}}); r.status != http.StatusSeeOther {
		t.Fatalf("policy admin adds a location: %d %.500s", r.status, r.body)
	}

	reader := h.roleClient("reader@example.com", latchkey.RoleReportsReader)
	helpdesk := h.roleClient("helpdesk@example.com", latchkey.RoleAuthenticationAdmin)
	for _, c := range []*client{reader, helpdesk} {
		for _, p := range []string{"/admin/ca", "/admin/ca/new", "/admin/strengths", "/admin/locations", "/admin/whatif", "/admin/policy", "/admin/inspect"} {
			r := c.get(p)
			if r.status != http.StatusForbidden {
				t.Errorf("GET %s: %d, want 403", p, r.status)
			}
			checkErrorPage(t, r, authz.CodeNotAllowed)
			if !strings.Contains(string(r.body), "Your role does not let you") {
				t.Errorf("GET %s: the refusal is not in plain words: %.1000s", p, r.body)
			}
		}
		r := c.postForm("/admin/locations", url.Values{"name": {"Elsewhere"}, "ranges": {"198.51.100.0/24"}})
		if r.status != http.StatusForbidden {
			t.Errorf("POST /admin/locations: %d, want 403", r.status)
		}
		checkErrorPage(t, r, authz.CodeNotAllowed)
	}
	cfg, err := h.svc.ConditionalAccess(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.NamedLocations) != 1 || cfg.NamedLocations[0].Name != "Office" {
		t.Errorf("named locations %+v, want only the policy admin's", cfg.NamedLocations)
	}
}
