package signin

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestSignInEventsDecidesOnTheActor: the sign-in log is for who may read it (a reports reader, a
// global admin, the system); anyone else, a unit-scoped reports reader included, is refused
// with authz's code and sees no event. The user filter takes a UPN as well as an id.
func TestSignInEventsDecidesOnTheActor(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	alice := addUser(t, svc, "alice@example.com")
	for _, e := range []*latchkey.SignInEvent{
		{UserID: alice.ID, UPN: alice.UserPrincipalName, Method: "tap", Result: latchkey.SignInSuccess},
		{UPN: "mallory@example.com", Method: "passkey", Result: latchkey.SignInFailure, ErrorCode: "passkey_unknown"},
	} {
		if err := svc.Store.RecordSignIn(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	unit := &latchkey.AdministrativeUnit{DisplayName: "Sales"}
	if err := svc.Store.CreateUnit(ctx, unit); err != nil {
		t.Fatal(err)
	}
	actor := func(upn, role, unitID string) latchkey.Actor {
		t.Helper()
		u := addUser(t, svc, upn)
		if role != "" {
			if err := svc.Store.AssignRole(ctx, &latchkey.RoleAssignment{UserID: u.ID, Role: role, UnitID: unitID}); err != nil {
				t.Fatal(err)
			}
		}
		a, err := svc.PersonActor(ctx, nil, u)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	reader := actor("reader@example.com", latchkey.RoleReportsReader, "")

	for name, a := range map[string]latchkey.Actor{"reports reader": reader,
		"global admin": actor("admin@example.com", latchkey.RoleGlobalAdmin, ""), "system": latchkey.SystemActor} {
		events, err := svc.SignInEvents(ctx, a, latchkey.SignInFilter{})
		if err != nil || len(events) != 2 {
			t.Errorf("%s: %d events, %v; want 2", name, len(events), err)
		}
	}
	for name, a := range map[string]latchkey.Actor{"no role": actor("bob@example.com", "", ""),
		"helpdesk":                   actor("helpdesk@example.com", latchkey.RoleAuthenticationAdmin, ""),
		"unit-scoped reports reader": actor("scoped@example.com", latchkey.RoleReportsReader, unit.ID)} {
		events, err := svc.SignInEvents(ctx, a, latchkey.SignInFilter{})
		if events != nil {
			t.Errorf("%s: got %d events with the refusal", name, len(events))
		}
		want := authz.CodeNotAllowed
		if name == "unit-scoped reports reader" {
			want = authz.CodeOutsideUnit
		}
		wantCode(t, err, want)
		if !latchkey.IsKind(err, latchkey.EFORBIDDEN) {
			t.Errorf("%s: %v is not EFORBIDDEN", name, err)
		}
	}
	_, err := svc.SignInEvents(ctx, latchkey.Actor{}, latchkey.SignInFilter{})
	wantCode(t, err, authz.CodeNotSignedIn)

	for _, ref := range []string{alice.ID, alice.UserPrincipalName} {
		events, err := svc.SignInEvents(ctx, reader, latchkey.SignInFilter{UserID: ref})
		if err != nil || len(events) != 1 || events[0].UserID != alice.ID {
			t.Errorf("user %q: %v, %v; want alice's one event", ref, events, err)
		}
	}
	if events, err := svc.SignInEvents(ctx, reader, latchkey.SignInFilter{UserID: "nobody@example.com"}); err != nil || len(events) != 0 {
		t.Errorf("unknown user: %v, %v; want no events", events, err)
	}
}
