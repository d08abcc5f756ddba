package directory

import (
	"context"
	"slices"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// TestLifecycleIsAudited: editing, turning off and on, signing out, revoking a pass, group
// changes and deleting a person are each one event naming the actor and the person as they
// were; a refused change is none.
func TestLifecycleIsAudited(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	cli := latchkey.CLIActor
	ada := &latchkey.User{UserPrincipalName: "ada@example.com", Enabled: true}
	if err := svc.CreateUser(ctx, cli, ada); err != nil {
		t.Fatal(err)
	}
	g := &latchkey.Group{DisplayName: "Finance"}
	if err := svc.CreateGroup(ctx, cli, g); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddGroupMember(ctx, cli, g.ID, ada.ID); err != nil {
		t.Fatal(err)
	}
	before, err := svc.Store.ListAuditEvents(ctx, latchkey.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}

	dept := "Accounts"
	steps := []func() error{
		func() error { _, err := svc.UpdateUser(ctx, cli, ada.ID, UserChanges{Department: &dept}); return err },
		func() error { _, _, err := svc.IssueAccessPass(ctx, cli, ada.ID, signin.IssueOptions{}); return err },
		func() error { return svc.RevokeAccessPass(ctx, cli, ada.ID) },
		func() error { _, _, err := svc.SignOutEverywhere(ctx, cli, ada.ID); return err },
		func() error { _, err := svc.DisableUser(ctx, cli, ada.ID); return err },
		func() error { _, err := svc.EnableUser(ctx, cli, ada.ID); return err },
		func() error { return svc.RemoveGroupMember(ctx, cli, g.ID, ada.ID) },
		func() error { _, err := svc.RenameGroup(ctx, cli, g.ID, "Finance team"); return err },
		func() error { _, err := svc.DeleteGroup(ctx, cli, g.ID); return err },
		func() error { _, err := svc.DeleteUser(ctx, cli, ada.ID); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	// A refused change leaves no event.
	nobody := latchkey.Actor{Kind: latchkey.ActorPerson, UserID: "u-n", UPN: "nobody@example.com"}
	if _, err := svc.DisableUser(ctx, nobody, "someone@example.com"); err == nil {
		t.Fatal("a person with no role disabled someone")
	}

	evs, err := svc.Store.ListAuditEvents(ctx, latchkey.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs[len(before):] {
		got = append(got, e.Action+" "+e.TargetName+" by "+e.ActorName)
	}
	want := []string{
		"user.update ada@example.com by cli",
		"accessPass.issue ada@example.com by cli",
		"accessPass.revoke ada@example.com by cli",
		"user.signOutEverywhere ada@example.com by cli",
		"user.disable ada@example.com by cli",
		"user.enable ada@example.com by cli",
		"group.removeMember Finance by cli",
		"group.rename Finance team by cli",
		"group.delete Finance team by cli",
		"user.delete ada@example.com by cli",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n%q\nwant\n%q", got, want)
	}
	if last := evs[len(evs)-1]; last.TargetID != ada.ID {
		t.Errorf("the delete event names %q, want the old id %q", last.TargetID, ada.ID)
	}
}
