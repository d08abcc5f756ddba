package directory

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/sqlite"
)

func newService(t *testing.T) *Service {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	wa, err := passkey.NewWebAuthn("http://localhost:8080", "Latchkey test")
	if err != nil {
		t.Fatal(err)
	}
	sig := signin.New(st, wa, slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	sig.Now = func() time.Time { return now }
	return New(sig)
}

func TestBootstrapOnce(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	pass, err := svc.Bootstrap(ctx)
	if err != nil || len(pass) != 8 {
		t.Fatalf("Bootstrap = %q, %v", pass, err)
	}
	admin, err := svc.Store.FindUserByUPN(ctx, BootstrapUPN)
	if err != nil || !slices.Contains(admin.Roles, latchkey.RoleGlobalAdmin) || !admin.Enabled {
		t.Fatalf("bootstrap admin %+v, %v", admin, err)
	}
	ap, err := svc.Store.FindAccessPassByUser(ctx, admin.ID)
	if err != nil || !ap.OneTime || ap.LifetimeMinutes != 60 {
		t.Fatalf("bootstrap pass %+v, %v; want one-time, 60 minutes", ap, err)
	}
	again, err := svc.Bootstrap(ctx)
	if err != nil || again != "" {
		t.Fatalf("second Bootstrap = %q, %v; want nothing", again, err)
	}
}

// TestCreateUserOneValidation: every way of creating a user goes through CreateUser, so the
// refusals are the same everywhere: an invalid UPN, a taken UPN (user_exists); an id or creation
// time given by the caller is not kept.
func TestCreateUserOneValidation(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	u := &latchkey.User{UserPrincipalName: "alice@example.com", Enabled: true, ID: "chosen-by-caller"}
	if err := svc.CreateUser(ctx, latchkey.SystemActor, u); err != nil {
		t.Fatal(err)
	}
	if u.ID == "" || u.ID == "chosen-by-caller" || u.CreatedAt.IsZero() {
		t.Errorf("created user id %q at %v; want a fresh id and a creation time", u.ID, u.CreatedAt)
	}
	got, err := svc.Store.FindUserByUPN(ctx, "alice@example.com")
	if err != nil || got.ID != u.ID {
		t.Fatalf("stored user %+v, %v; want id %s", got, err, u.ID)
	}
	err = svc.CreateUser(ctx, latchkey.SystemActor, &latchkey.User{UserPrincipalName: "alice@example.com", Enabled: true})
	if code := latchkey.ErrorCode(err); code != "user_exists" || !latchkey.IsKind(err, latchkey.ECONFLICT) {
		t.Errorf("second alice: %v (code %q); want user_exists, a conflict", err, code)
	}
	err = svc.CreateUser(ctx, latchkey.SystemActor, &latchkey.User{UserPrincipalName: "not a name", Enabled: true})
	if !latchkey.IsKind(err, latchkey.EINVALID) {
		t.Errorf("invalid UPN: %v; want a refusal of kind invalid", err)
	}
	if n, err := svc.Store.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("users stored = %d, %v; want only alice", n, err)
	}
}

// TestCreateGroupAndMember: a taken group name is group_exists; adding a member twice is fine.
func TestCreateGroupAndMember(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	g := &latchkey.Group{DisplayName: "Engineering"}
	if err := svc.CreateGroup(ctx, latchkey.SystemActor, g); err != nil {
		t.Fatal(err)
	}
	err := svc.CreateGroup(ctx, latchkey.SystemActor, &latchkey.Group{DisplayName: "Engineering"})
	if code := latchkey.ErrorCode(err); code != "group_exists" {
		t.Errorf("second Engineering: %v (code %q); want group_exists", err, code)
	}
	u := &latchkey.User{UserPrincipalName: "bob@example.com", Enabled: true}
	if err := svc.CreateUser(ctx, latchkey.SystemActor, u); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		added, err := svc.AddGroupMember(ctx, latchkey.SystemActor, g.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if added != (i == 0) {
			t.Errorf("add %d: added %v; want true the first time, false when already a member", i+1, added)
		}
	}
	members, err := svc.Store.ListGroupMembers(ctx, g.ID)
	if err != nil || len(members) != 1 {
		t.Errorf("members = %v, %v; want bob once", members, err)
	}
}

// TestIssueAccessPass: an admin may not issue a pass for themself (not_for_yourself, from
// authz); for someone else the pass records who issued it. FindUser takes an id or a UPN.
func TestIssueAccessPass(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	admin := &latchkey.User{UserPrincipalName: "admin@example.com", Enabled: true, Roles: []string{latchkey.RoleGlobalAdmin}}
	bob := &latchkey.User{UserPrincipalName: "bob@example.com", Enabled: true}
	for _, u := range []*latchkey.User{admin, bob} {
		if err := svc.CreateUser(ctx, latchkey.SystemActor, u); err != nil {
			t.Fatal(err)
		}
	}
	adminActor := actorOf(t, svc, admin)
	if _, _, err := svc.IssueAccessPass(ctx, adminActor, admin.ID, signin.IssueOptions{}); latchkey.ErrorCode(err) != authz.CodeNotForYourself {
		t.Errorf("pass for oneself: %v; want %s", err, authz.CodeNotForYourself)
	}
	if _, err := svc.Store.FindAccessPassByUser(ctx, admin.ID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("a refused pass was stored: %v", err)
	}
	pass, ap, err := svc.IssueAccessPass(ctx, adminActor, bob.ID, signin.IssueOptions{})
	if err != nil || pass == "" || ap.CreatedBy != "admin@example.com" {
		t.Fatalf("pass for bob = %q, %+v, %v; want one created by the admin", pass, ap, err)
	}
	for _, ref := range []string{bob.ID, "bob@example.com"} {
		if u, err := svc.FindUser(ctx, latchkey.SystemActor, ref); err != nil || u.ID != bob.ID {
			t.Errorf("FindUser(%q) = %v, %v; want bob", ref, u, err)
		}
	}
	if _, err := svc.FindUser(ctx, latchkey.SystemActor, "nobody@example.com"); latchkey.ErrorCode(err) != "user_not_found" {
		t.Errorf("FindUser(nobody): %v; want user_not_found", err)
	}
}
