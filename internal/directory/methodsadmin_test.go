package directory

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// TestSignOutAndRevokeDecide: signing out everywhere and revoking a pass follow the rules of
// the methods actions (the helpdesk for people with no role, in its unit only, and nobody but a
// global admin on themself), and a refusal changes nothing.
func TestSignOutAndRevokeDecide(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateUnit(ctx, latchkey.CLIActor, "Berlin"); err != nil {
		t.Fatal(err)
	}
	p := mkPeople(t, svc,
		person{upn: "ga@example.com", role: latchkey.RoleGlobalAdmin},
		person{upn: "help@example.com", role: latchkey.RoleAuthenticationAdmin},
		person{upn: "bhelp@example.com", role: latchkey.RoleAuthenticationAdmin, unit: "Berlin"},
		person{upn: "reader@example.com", role: latchkey.RoleReportsReader},
		person{upn: "nora@example.com"},
	)
	session := func(upn string) *latchkey.Session {
		s := &latchkey.Session{ID: latchkey.NewID(), UserID: p[upn].ID, Methods: []string{latchkey.MethodTAP},
			CreatedAt: time.Now(), AuthenticatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
		if err := svc.Store.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	live := func(s *latchkey.Session) bool {
		_, err := svc.Store.FindSession(ctx, s.ID, time.Now())
		return err == nil
	}
	signOut := func(actor, target string) error {
		_, _, err := svc.SignOutEverywhere(ctx, actorOf(t, svc, p[actor]), target+"@example.com")
		return err
	}
	ga, nora := session("ga"), session("nora")
	wantCode(t, "reader signs nora out", signOut("reader", "nora"), authz.CodeNotAllowed)
	wantCode(t, "helpdesk signs the global admin out", signOut("help", "ga"), authz.CodePrivilegedTarget)
	wantCode(t, "Berlin helpdesk signs nora out", signOut("bhelp", "nora"), authz.CodeOutsideUnit)
	wantCode(t, "helpdesk signs themself out", signOut("help", "help"), authz.CodeNotForYourself)
	if !live(ga) || !live(nora) {
		t.Fatal("a refused sign-out ended a session")
	}
	wantCode(t, "helpdesk signs nora out", signOut("help", "nora"), "")
	if live(nora) || !live(ga) {
		t.Errorf("after signing nora out: nora live %v, ga live %v; want false, true", live(nora), live(ga))
	}
	wantCode(t, "the global admin signs themself out", signOut("ga", "ga"), "")
	if live(ga) {
		t.Error("the global admin's session lives on")
	}

	if _, _, err := svc.IssueAccessPass(ctx, latchkey.CLIActor, p["nora"].ID, signin.IssueOptions{}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "reader revokes nora's pass", svc.RevokeAccessPass(ctx, actorOf(t, svc, p["reader"]), "nora@example.com"), authz.CodeNotAllowed)
	if _, err := svc.Store.FindAccessPassByUser(ctx, p["nora"].ID); err != nil {
		t.Fatalf("a refused revoke removed the pass: %v", err)
	}
	wantCode(t, "helpdesk revokes nora's pass", svc.RevokeAccessPass(ctx, actorOf(t, svc, p["help"]), "nora@example.com"), "")
	if _, err := svc.Store.FindAccessPassByUser(ctx, p["nora"].ID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("the revoked pass is still stored: %v", err)
	}
	wantCode(t, "revoking a pass that is gone", svc.RevokeAccessPass(ctx, latchkey.CLIActor, "nora@example.com"), "tap_not_found")
	wantCode(t, "removing a passkey nora lacks", svc.RemovePasskeyFor(ctx, latchkey.CLIActor, "nora@example.com", "nope"), "passkey_not_found")
	wantCode(t, "removing a passkey of nobody", svc.RemovePasskeyFor(ctx, latchkey.CLIActor, "nobody@example.com", "nope"), "user_not_found")
}
