package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// TestPolicyDeletesAskFirst: the policy, strength and location lists offer no one-click delete;
// their links open a page that names the thing and says what deleting it does, showing it
// deletes nothing, and only its form (POST) deletes. Someone who may not change policies is
// refused the confirmation page too.
func TestPolicyDeletesAskFirst(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, _ := h.signedInClient("admin@example.com", true)
	p, _, err := h.policies.CreateCAPolicy(ctx, latchkey.SystemActor, policy.ConditionalAccessPolicy{Name: "Off for now", State: policy.CAStateDisabled,
		Users: policy.Users{IncludeUsers: []string{policy.All}}, Applications: policy.Applications{IncludeApplications: []string{policy.All}},
		Grant: policy.Grant{Block: true}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := h.policies.CreateStrength(ctx, latchkey.SystemActor, policy.Strength{Name: "Passkey only", AllowedCombinations: []string{"passkey"}})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := h.policies.CreateNamedLocation(ctx, latchkey.SystemActor, policy.NamedLocation{Name: "Head office", CIDRs: []string{"203.0.113.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		list, del, name string
		exists          func() bool
	}{
		{"/admin/ca", "/admin/ca/" + p.ID + "/delete", "Off for now", func() bool {
			_, err := h.policies.FindCAPolicy(ctx, latchkey.SystemActor, p.ID)
			return err == nil
		}},
		{"/admin/strengths", "/admin/strengths/" + st.ID + "/delete", "Passkey only", func() bool {
			sts, _ := h.policies.Strengths(ctx, latchkey.SystemActor)
			for _, x := range sts {
				if x.ID == st.ID {
					return true
				}
			}
			return false
		}},
		{"/admin/locations", "/admin/locations/" + loc.ID + "/delete", "Head office", func() bool {
			cfg, _ := h.policies.ConditionalAccess(ctx, latchkey.SystemActor)
			for _, x := range cfg.NamedLocations {
				if x.ID == loc.ID {
					return true
				}
			}
			return false
		}},
	} {
		list := admin.get(c.list)
		if strings.Contains(string(list.body), `action="`+c.del+`"`) || !strings.Contains(string(list.body), `href="`+c.del+`"`) {
			t.Errorf("%s deletes in one click, or links to no confirmation", c.list)
		}
		r := admin.get(c.del)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), "“"+c.name+"”") ||
			!strings.Contains(string(r.body), `action="`+c.del+`"`) || !strings.Contains(string(r.body), `id="confirm-delete"`) {
			t.Errorf("confirmation %s: %d %.2000s", c.del, r.status, r.body)
		}
		if !c.exists() {
			t.Fatalf("showing %s deleted it", c.del)
		}
		if r := admin.postForm(c.del, nil); r.status != http.StatusSeeOther {
			t.Errorf("confirmed %s: %d %.1000s", c.del, r.status, r.body)
		}
		if c.exists() {
			t.Errorf("%s did not delete after confirming", c.del)
		}
	}
	reader := h.roleClient("reader@example.com", latchkey.RoleReportsReader)
	p2, _, err := h.policies.CreateCAPolicy(ctx, latchkey.SystemActor, policy.ConditionalAccessPolicy{Name: "Another", State: policy.CAStateDisabled,
		Users: policy.Users{IncludeUsers: []string{policy.All}}, Applications: policy.Applications{IncludeApplications: []string{policy.All}},
		Grant: policy.Grant{Block: true}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkErrorPage(t, reader.get("/admin/ca/"+p2.ID+"/delete"), "not_allowed")
	checkErrorPage(t, admin.get("/admin/strengths/no-such-strength/delete"), "strength_not_found")
}

// TestPolicyDeleteInUseSaysWhatFirst: the confirmation for a strength or a location that a
// policy still uses says which policies and what to do first, and offers no delete button that
// could only be refused.
func TestPolicyDeleteInUseSaysWhatFirst(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, _ := h.signedInClient("admin@example.com", true)
	st, err := h.policies.CreateStrength(ctx, latchkey.SystemActor, policy.Strength{Name: "Passkey only", AllowedCombinations: []string{"passkey"}})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := h.policies.CreateNamedLocation(ctx, latchkey.SystemActor, policy.NamedLocation{Name: "Head office", CIDRs: []string{"203.0.113.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	p := policy.ConditionalAccessPolicy{Name: "Passkeys outside the office", State: policy.CAStateDisabled,
		Users: policy.Users{IncludeUsers: []string{policy.All}}, Applications: policy.Applications{IncludeApplications: []string{policy.All}},
		Grant: policy.Grant{StrengthID: st.ID}}
	p.Conditions.Locations.IncludeLocations = []string{policy.All}
	p.Conditions.Locations.ExcludeLocations = []string{loc.ID}
	if _, _, err := h.policies.CreateCAPolicy(ctx, latchkey.SystemActor, p, 0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ del, says string }{
		{"/admin/strengths/" + st.ID + "/delete", "it is still required by the policy “Passkeys outside the office”. Choose another strength in that policy first"},
		{"/admin/locations/" + loc.ID + "/delete", "it is still named by the policy “Passkeys outside the office”. Remove it from that policy first"},
	} {
		r := admin.get(c.del)
		body := string(r.body)
		if r.status != http.StatusOK || !strings.Contains(body, `id="confirm-blocked"`) || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d does not say what to do first: %.2000s", c.del, r.status, body)
		}
		if strings.Contains(body, `id="confirm-submit"`) {
			t.Errorf("%s offers a delete that would be refused", c.del)
		}
	}
}
