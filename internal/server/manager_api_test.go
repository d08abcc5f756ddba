package server

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestManagerRefAPI: Graph's PUT and DELETE /api/v1/users/{id}/manager/$ref set and clear a
// person's manager (a full or a relative @odata.id), GET .../manager answers them, and the
// refusals SetManager makes (yourself, a loop, an unknown person, a role that does not allow it)
// change nothing.
func TestManagerRefAPI(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, _ := h.signedInClient("admin@example.com", true)
	nina := h.createUser("nina@example.com", false)
	sam := h.createUser("sam@example.com", false)
	kim := h.createUser("kim@example.com", false)
	ref := func(id string) string { return "/api/v1/users/" + id + "/manager/$ref" }
	managerOf := func(id string) string {
		t.Helper()
		u, err := h.store.FindUserByID(ctx, id)
		if err != nil {
			t.Fatalf("find %s: %v", id, err)
		}
		return u.ManagerID
	}

	errorBody(t, admin.get("/api/v1/users/"+nina.ID+"/manager"), http.StatusNotFound, "manager_not_found")

	// A full address, as a Graph script writes it.
	r := admin.send(http.MethodPut, ref(nina.ID), map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + sam.ID})
	if r.status != http.StatusNoContent {
		t.Fatalf("PUT full address: %d %s", r.status, r.body)
	}
	if got := managerOf(nina.ID); got != sam.ID {
		t.Errorf("nina's manager after PUT: %q, want sam %q", got, sam.ID)
	}
	r = admin.get("/api/v1/users/" + nina.ID + "/manager")
	var m latchkey.User
	if r.status != http.StatusOK || json.Unmarshal(r.body, &m) != nil || m.ID != sam.ID || m.UserPrincipalName != "sam@example.com" {
		t.Errorf("GET manager: %d %s", r.status, r.body)
	}

	// A relative address replaces the manager.
	if r := admin.send(http.MethodPut, ref(nina.ID), map[string]any{"@odata.id": "users/" + kim.ID}); r.status != http.StatusNoContent {
		t.Fatalf("PUT relative address: %d %s", r.status, r.body)
	}
	if got := managerOf(nina.ID); got != kim.ID {
		t.Errorf("nina's manager after the relative PUT: %q, want kim", got)
	}

	// Refusals leave kim as nina's manager.
	errorBody(t, admin.send(http.MethodPut, ref(nina.ID), map[string]any{"@odata.id": "/api/v1/users/" + nina.ID}), http.StatusBadRequest, "manager_self")
	errorBody(t, admin.send(http.MethodPut, ref(kim.ID), map[string]any{"@odata.id": "/api/v1/users/" + nina.ID}), http.StatusBadRequest, "manager_cycle")
	errorBody(t, admin.send(http.MethodPut, ref(nina.ID), map[string]any{"@odata.id": "/api/v1/users/no-such-id"}), http.StatusNotFound, "user_not_found")
	errorBody(t, admin.send(http.MethodPut, ref(nina.ID), map[string]any{"@odata.id": ""}), http.StatusBadRequest, "invalid_reference")
	errorBody(t, admin.send(http.MethodPut, ref(nina.ID), map[string]any{"@odata.id": "https://example.com/api/v1/users/"}), http.StatusBadRequest, "invalid_reference")
	reader := h.roleClient("reader@example.com", latchkey.RoleReportsReader)
	errorBody(t, reader.send(http.MethodPut, ref(nina.ID), map[string]any{"@odata.id": "users/" + sam.ID}), http.StatusForbidden, "not_allowed")
	errorBody(t, reader.send(http.MethodDelete, ref(nina.ID), nil), http.StatusForbidden, "not_allowed")
	if got := managerOf(nina.ID); got != kim.ID {
		t.Errorf("nina's manager after refusals: %q, want kim", got)
	}
	if got := managerOf(kim.ID); got != "" {
		t.Errorf("kim's manager after a refused loop: %q", got)
	}

	if r := admin.send(http.MethodDelete, ref(nina.ID), nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if got := managerOf(nina.ID); got != "" {
		t.Errorf("nina's manager after DELETE: %q", got)
	}
	errorBody(t, admin.get("/api/v1/users/"+nina.ID+"/manager"), http.StatusNotFound, "manager_not_found")
}
