package server

import (
	"context"
	"net/http"
	"testing"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// TestUserLifecycleAPI: PATCH and DELETE /api/v1/users/{id} change a person as the directory
// allows, turning an account off ends its session at once and refuses its next sign-in in
// words, and each refusal (yourself, the last global admin, a role that does not allow it)
// changes nothing.
func TestUserLifecycleAPI(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, adminUser := h.signedInClient("admin@example.com", true)
	worker, workerUser := h.signedInClient("worker@example.com", false)
	path := "/api/v1/users/" + workerUser.ID

	t.Run("profile with Graph names", func(t *testing.T) {
		r := admin.send(http.MethodPatch, path, map[string]any{"displayName": "Wanda Worker", "department": "Finance",
			"employeeHireDate": "2027-01-04T00:00:00Z", "mail": "worker@example.com", "otherMails": []string{"wanda@home.example"}})
		if r.status != http.StatusOK {
			t.Fatalf("PATCH: %d %s", r.status, r.body)
		}
		u, err := h.store.FindUserByID(ctx, workerUser.ID)
		if err != nil || u.DisplayName != "Wanda Worker" || u.Department != "Finance" || u.StartDate != "2027-01-04" ||
			u.Mail != "worker@example.com" || u.PersonalMail != "wanda@home.example" {
			t.Errorf("stored after PATCH: %+v, %v", u, err)
		}
		errorBody(t, admin.send(http.MethodPatch, path, map[string]any{"employeeHireDate": "soon"}), http.StatusBadRequest, "invalid_date")
		errorBody(t, admin.send(http.MethodPatch, path, map[string]any{"favouriteColour": "blue"}), http.StatusBadRequest, "unknown_field")
	})

	t.Run("refusals change nothing", func(t *testing.T) {
		reader := h.roleClient("reader@example.com", latchkey.RoleReportsReader)
		before := h.directoryState()
		errorBody(t, admin.send(http.MethodPatch, "/api/v1/users/"+adminUser.ID, map[string]any{"accountEnabled": false}), http.StatusForbidden, "not_yourself")
		errorBody(t, admin.send(http.MethodDelete, "/api/v1/users/"+adminUser.ID, nil), http.StatusForbidden, "not_yourself")
		errorBody(t, reader.send(http.MethodPatch, path, map[string]any{"accountEnabled": false}), http.StatusForbidden, "not_allowed")
		errorBody(t, reader.send(http.MethodDelete, path, nil), http.StatusForbidden, "not_allowed")
		errorBody(t, worker.send(http.MethodDelete, "/api/v1/users/"+adminUser.ID, nil), http.StatusForbidden, "")
		if after := h.directoryState(); after != before {
			t.Errorf("refused requests changed the directory")
		}
	})

	t.Run("last global admin", func(t *testing.T) {
		// Two admins: one may turn the other off; then a token cannot turn off or delete the last
		// (nor any admin: tokens spare people who hold a role; the command line meets
		// last_global_admin, TestCLIUserLifecycle).
		other, _ := h.signedInClient("other-admin@example.com", true)
		if r := other.send(http.MethodPatch, "/api/v1/users/"+adminUser.ID, map[string]any{"accountEnabled": false}); r.status != http.StatusOK {
			t.Fatalf("turning off one of two admins: %d %s", r.status, r.body)
		}
		errorBody(t, admin.get("/api/v1/me"), http.StatusUnauthorized, "")
		bot, _ := h.createToken("bot", directory.TokenExpiry{Never: true}, latchkey.ScopeUserReadWriteAll)
		last := mustUPN(t, h, "other-admin@example.com")
		errorBody(t, other.send(http.MethodDelete, "/api/v1/users/"+last.ID, nil), http.StatusForbidden, "not_yourself")
		errorBody(t, other.bearer(http.MethodPatch, "/api/v1/users/"+last.ID, "Bearer "+bot, `{"accountEnabled":false}`), http.StatusForbidden, "privileged_target")
		errorBody(t, other.bearer(http.MethodDelete, "/api/v1/users/"+last.ID, "Bearer "+bot, ""), http.StatusForbidden, "privileged_target")
		if u := mustUPN(t, h, "other-admin@example.com"); !u.Enabled {
			t.Errorf("the last global admin was turned off")
		}
		if r := other.get("/api/v1/me"); r.status != http.StatusOK {
			t.Errorf("the last global admin's session after the refusals: %d", r.status)
		}
		// On again, the first admin's old session stays ended.
		if r := other.send(http.MethodPatch, "/api/v1/users/"+adminUser.ID, map[string]any{"accountEnabled": true}); r.status != http.StatusOK {
			t.Fatalf("turning the admin on again: %d %s", r.status, r.body)
		}
		errorBody(t, admin.get("/api/v1/me"), http.StatusUnauthorized, "")
	})

	t.Run("disable ends the session and refuses sign-in", func(t *testing.T) {
		boss, _ := h.signedInClient("boss@example.com", true)
		if r := worker.get("/api/v1/me"); r.status != http.StatusOK {
			t.Fatalf("worker before: %d", r.status)
		}
		pass := h.issueTAP(workerUser.ID, signin.IssueOptions{})
		if r := boss.send(http.MethodPatch, path, map[string]any{"accountEnabled": false}); r.status != http.StatusOK {
			t.Fatalf("disable: %d %s", r.status, r.body)
		}
		errorBody(t, worker.get("/api/v1/me"), http.StatusUnauthorized, "")
		if _, err := h.store.FindAccessPassByUser(ctx, workerUser.ID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
			t.Errorf("pass after disable: %v, want it revoked", err)
		}
		// A pass issued again (by the system) is refused in words while the account is off.
		pass = h.issueTAP(workerUser.ID, signin.IssueOptions{})
		errorBody(t, h.newClient().signInTAP("worker@example.com", pass), http.StatusForbidden, "account_disabled")
	})

	t.Run("delete cascades", func(t *testing.T) {
		boss, _ := h.signedInClient("boss2@example.com", true)
		g := h.createGroup("Staff")
		if err := h.store.AddGroupMember(ctx, g.ID, workerUser.ID); err != nil {
			t.Fatal(err)
		}
		report := h.createUser("report@example.com", false)
		if _, err := h.store.UpdateUser(ctx, report.ID, func(u *latchkey.User) error { u.ManagerID = workerUser.ID; return nil }); err != nil {
			t.Fatal(err)
		}
		if r := boss.send(http.MethodDelete, path, nil); r.status != http.StatusNoContent {
			t.Fatalf("DELETE: %d %s", r.status, r.body)
		}
		if _, err := h.store.FindUserByID(ctx, workerUser.ID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
			t.Errorf("user after DELETE: %v", err)
		}
		if m, _ := h.store.ListGroupMembers(ctx, g.ID); len(m) != 0 {
			t.Errorf("group members after DELETE: %d", len(m))
		}
		if u, _ := h.store.FindUserByID(ctx, report.ID); u.ManagerID != "" {
			t.Errorf("report's manager after DELETE: %q", u.ManagerID)
		}
		if evs := h.signInLog(workerUser.ID); len(evs) == 0 || evs[0].UPN != "worker@example.com" {
			t.Errorf("sign-in events after DELETE: %d, want them kept with the old UPN", len(evs))
		}
		errorBody(t, boss.send(http.MethodDelete, path, nil), http.StatusNotFound, "user_not_found")
	})
}

// mustUPN finds the stored user upn.
func mustUPN(t *testing.T, h *harness, upn string) *latchkey.User {
	t.Helper()
	u, err := h.store.FindUserByUPN(context.Background(), upn)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
