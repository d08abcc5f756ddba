package policyadmin

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// TestPolicyChangesAreAudited: a location created and deleted and the pass policy changed are
// events naming the actor, the target and what changed; a refused change is none.
func TestPolicyChangesAreAudited(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	admin := latchkey.Actor{Kind: latchkey.ActorPerson, UserID: "u-pol", UPN: "pol@example.com",
		Roles: []latchkey.RoleAssignment{{UserID: "u-pol", Role: latchkey.RoleAuthenticationPolicyAdmin}}}
	l, err := svc.CreateNamedLocation(ctx, admin, policy.NamedLocation{Name: "HQ", CIDRs: []string{"203.0.113.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteNamedLocation(ctx, admin, l.ID); err != nil {
		t.Fatal(err)
	}
	tap := signin.DefaultTAPPolicy()
	tap.DefaultLifetimeInMinutes = 90
	if err := svc.SetTAPPolicy(ctx, admin, tap); err != nil {
		t.Fatal(err)
	}
	helpdesk := latchkey.Actor{Kind: latchkey.ActorPerson, UserID: "u-h", UPN: "help@example.com",
		Roles: []latchkey.RoleAssignment{{UserID: "u-h", Role: latchkey.RoleAuthenticationAdmin}}}
	if _, err := svc.CreateNamedLocation(ctx, helpdesk, policy.NamedLocation{Name: "Other", CIDRs: []string{"198.51.100.0/24"}}); err == nil {
		t.Fatal("helpdesk created a location")
	}

	evs, err := svc.Store.ListAuditEvents(ctx, latchkey.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Action+" "+e.TargetName+" by "+e.ActorName)
	}
	want := []string{"namedLocation.create HQ by pol@example.com", "namedLocation.delete HQ by pol@example.com",
		"methodsPolicy.update Authentication methods policy by pol@example.com"}
	if len(got) != len(want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: %q, want %q", i, got[i], want[i])
		}
	}
	if evs[0].TargetID != l.ID {
		t.Errorf("create names location %q, want %q", evs[0].TargetID, l.ID)
	}
	p, _ := evs[2].Summary["policy"].(map[string]any)
	tp, _ := p["temporaryAccessPass"].(map[string]any)
	if tp["defaultLifetimeInMinutes"] != float64(90) {
		t.Errorf("methods policy event summary: %v", evs[2].Summary)
	}
}
