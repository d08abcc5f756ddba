package directory

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestAppsDecideOnTheActor: only a global admin (or the CLI, or the system) lists, registers and
// removes applications; every other role, and a person with none, is refused with authz's code
// and nothing changes.
func TestAppsDecideOnTheActor(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	created := 0
	svc.CreateClient = func(ctx context.Context, name string, redirects, postLogout []string, public bool) (*latchkey.Client, string, error) {
		created++
		cl := &latchkey.Client{ID: latchkey.NewID(), Name: name, RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout, Public: public}
		return cl, "", svc.Store.CreateClient(ctx, cl)
	}
	actor := func(upn, role string) latchkey.Actor {
		t.Helper()
		u := &latchkey.User{UserPrincipalName: upn, Enabled: true}
		if err := svc.CreateUser(ctx, latchkey.SystemActor, u); err != nil {
			t.Fatal(err)
		}
		if role != "" {
			if err := svc.Store.AssignRole(ctx, &latchkey.RoleAssignment{UserID: u.ID, Role: role}); err != nil {
				t.Fatal(err)
			}
		}
		a, err := svc.Signin.PersonActor(ctx, nil, u)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	admin := actor("admin@example.com", latchkey.RoleGlobalAdmin)

	cl, _, err := svc.CreateApp(ctx, admin, "Web app", []string{"https://app.example.com/cb"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if cls, err := svc.ListApps(ctx, latchkey.CLIActor); err != nil || len(cls) != 1 || cls[0].ID != cl.ID {
		t.Fatalf("CLI list: %v, %v", cls, err)
	}

	for _, role := range []string{"", latchkey.RoleReportsReader, latchkey.RoleAuthenticationAdmin,
		latchkey.RolePrivilegedAuthenticationAdmin, latchkey.RoleAuthenticationPolicyAdmin} {
		a := actor(role+"person@example.com", role)
		cls, err := svc.ListApps(ctx, a)
		if cls != nil {
			t.Errorf("%q: listed %d applications with the refusal", role, len(cls))
		}
		wantRefusal(t, role+" list", err)
		_, _, err = svc.CreateApp(ctx, a, "Other", []string{"https://other.example.com/cb"}, nil, false)
		wantRefusal(t, role+" create", err)
		wantRefusal(t, role+" delete", svc.DeleteApp(ctx, a, cl.ID))
	}
	if created != 1 {
		t.Errorf("CreateClient ran %d times, want 1 (the admin's)", created)
	}
	if _, err := svc.Store.FindClient(ctx, cl.ID); err != nil {
		t.Errorf("refused deletes removed the application: %v", err)
	}

	if err := svc.DeleteApp(ctx, admin, cl.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteApp(ctx, admin, cl.ID); latchkey.ErrorCode(err) != "app_not_found" {
		t.Errorf("delete again: %v, want app_not_found", err)
	}
	if cls, err := svc.ListApps(ctx, latchkey.SystemActor); err != nil || cls == nil || len(cls) != 0 {
		t.Errorf("empty list: %#v, %v; want an empty, non-nil list", cls, err)
	}
}

// wantRefusal fails unless err is authz's not_allowed refusal.
func wantRefusal(t *testing.T, what string, err error) {
	t.Helper()
	if latchkey.ErrorCode(err) != authz.CodeNotAllowed || !latchkey.IsKind(err, latchkey.EFORBIDDEN) {
		t.Errorf("%s: %v, want the %s refusal", what, err, authz.CodeNotAllowed)
	}
}
