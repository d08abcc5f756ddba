package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestMethodsPageActions: on the person's page an admin finds "remove this passkey", "revoke
// pass" and "sign out everywhere"; each leads to a confirmation page that says what will happen,
// a post without the box ticked changes nothing, and a confirmed one acts and says so; a reports
// reader sees none of it and is refused when posting anyway.
func TestMethodsPageActions(t *testing.T) {
	h, admin, alice, phone, laptop, phoneID, _, pass := methodsFixture(t)
	page := "/admin/users/" + alice.ID
	r := admin.get(page)
	for _, want := range []string{`href="` + page + `/passkeys/` + phoneID + `/remove"`, `id="revoke-tap"`, `id="sign-out-everywhere"`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("person's page lacks %s", want)
		}
	}

	r = admin.get(page + "/passkeys/" + phoneID + "/remove")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "stolen") || !strings.Contains(string(r.body), "signed out") {
		t.Fatalf("passkey confirmation: %d %.2000s", r.status, r.body)
	}
	checkErrorPage(t, admin.get(page+"/passkeys/nope/remove"), "passkey_not_found")
	thief := h.newClient()
	if r := thief.signIn(phone, ""); r.status != http.StatusOK {
		t.Fatalf("phone sign-in: %d %s", r.status, r.body)
	}
	checkErrorPage(t, admin.postForm(page+"/passkeys/"+phoneID+"/remove", nil), "confirmation_required")
	if len(h.passkeys(alice.ID)) != 2 {
		t.Fatal("an unconfirmed removal removed the passkey")
	}
	r = admin.postForm(page+"/passkeys/"+phoneID+"/remove", url.Values{"confirm": {"yes"}})
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "done=passkey-removed") {
		t.Fatalf("confirmed removal: %d %s", r.status, r.header.Get("Location"))
	}
	if pks := h.passkeys(alice.ID); len(pks) != 1 || pks[0].ID == phoneID {
		t.Errorf("passkeys after removal: %v", pks)
	}
	errorBody(t, thief.get("/api/v1/me"), http.StatusUnauthorized, "")
	if r := h.newClient().signIn(phone, ""); r.status == http.StatusOK {
		t.Error("the removed phone still signs in")
	}
	if r := admin.get(r.header.Get("Location")); !strings.Contains(string(r.body), `id="methods-notice"`) {
		t.Errorf("no notice after the removal: %.3000s", r.body)
	}

	r = admin.get(page + "/tap/revoke")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "wrong person") || !strings.Contains(string(r.body), "(can be used,") {
		t.Fatalf("pass confirmation: %d %.2000s", r.status, r.body)
	}
	if r := admin.postForm(page+"/tap/revoke", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
		t.Fatalf("confirmed revoke: %d %.1000s", r.status, r.body)
	}
	if r := h.newClient().signInTAP("alice@example.com", pass); r.status == http.StatusOK {
		t.Error("the revoked pass still signs in")
	}
	checkErrorPage(t, admin.get(page+"/tap/revoke"), "tap_not_found")
	if strings.Contains(string(admin.get(page).body), `id="revoke-tap"`) {
		t.Error("revoke pass offered without a pass")
	}

	owner := h.newClient()
	if r := owner.signIn(laptop, ""); r.status != http.StatusOK {
		t.Fatalf("laptop sign-in: %d %s", r.status, r.body)
	}
	r = admin.get(page + "/signout")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "Every session they have") {
		t.Fatalf("sign-out confirmation: %d %.2000s", r.status, r.body)
	}
	if r := admin.postForm(page+"/signout", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
		t.Fatalf("confirmed sign-out: %d %.1000s", r.status, r.body)
	}
	errorBody(t, owner.get("/api/v1/me"), http.StatusUnauthorized, "")

	reader := h.roleClient("rr@example.com", latchkey.RoleReportsReader)
	if r := reader.get(page); r.status != http.StatusOK || strings.Contains(string(r.body), `id="methods"`) {
		t.Errorf("reader's view of the person: %d, actions shown: %v", r.status, strings.Contains(string(r.body), `id="methods"`))
	}
	for _, path := range []string{page + "/signout", page + "/tap/revoke"} {
		if r := reader.postForm(path, url.Values{"confirm": {"yes"}}); r.status != http.StatusForbidden {
			t.Errorf("reader posts %s: %d", path, r.status)
		}
		if r := reader.get(path); r.status != http.StatusForbidden {
			t.Errorf("reader gets %s: %d", path, r.status)
		}
	}
}
