package server

import (
	"bytes"
	"encoding/json"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// vector returns a registration vector from internal/passkey's test data by id.
func vector(t *testing.T, id string) (response, challenge, origin string) {
	t.Helper()
	b, err := os.ReadFile("../passkey/testdata/webauthn-vectors/registrations.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []struct {
		ID                string          `json:"id"`
		Response          json.RawMessage `json:"response"`
		ExpectedChallenge string          `json:"expectedChallenge"`
		ExpectedOrigin    string          `json:"expectedOrigin"`
	}
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.ID == id {
			return string(v.Response), v.ExpectedChallenge, v.ExpectedOrigin
		}
	}
	t.Fatalf("no vector %s", id)
	return
}

// TestAdminInspectPage: an admin pastes or uploads a registration response and sees what it is
// and, for a user, what their profiles say; a non-admin cannot.
func TestAdminInspectPage(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("root@example.com", true)
	csrf := admin.formCSRF()

	// Pasted, with a user under a device-bound-only profile: a synced passkey without
	// attestation is refused, and the page says why.
	g := h.newGroup("Admins", h.createUser("alice@example.com", false))
	p := policy.DefaultMethodsPolicy()
	p.Passkey.Profiles = append(p.Passkey.Profiles, policy.PasskeyProfile{ID: "t0", Name: "Tier 0", TargetGroupIDs: []string{g.ID},
		PasskeyTypes: policy.PasskeyTypesDeviceBound, AttestationEnforcement: policy.AttestationEnforcementDisabled})
	if err := h.policies.SetMethodsPolicy(t.Context(), latchkey.SystemActor, p); err != nil {
		t.Fatal(err)
	}
	resp, challenge, origin := vector(t, "spire-touchid-1-registration")
	r := admin.do("POST", "/admin/inspect", "application/x-www-form-urlencoded", strings.NewReader(url.Values{
		"csrf": {csrf}, "response": {resp}, "challenge": {challenge}, "origin": {origin}, "user": {"alice@example.com"}}.Encode()))
	page := html.UnescapeString(string(r.body))
	if r.status != http.StatusOK || !strings.Contains(page, `data-ok="true"`) || !strings.Contains(page, `id="inspect-policy" data-code="kind_not_allowed"`) ||
		!strings.Contains(page, "Tier 0") {
		t.Fatalf("inspect with a user: %d\n%s", r.status, page)
	}

	// Uploaded as a file, with a wrong challenge: the verdict names the refusal.
	resp, _, origin = vector(t, "pywebauthn-none-localhost")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", csrf)
	mw.WriteField("challenge", "AAAAAAAAAAAAAAAAAAAAAA")
	mw.WriteField("origin", origin)
	fw, _ := mw.CreateFormFile("file", "response.json")
	fw.Write([]byte(resp))
	mw.Close()
	r = admin.do("POST", "/admin/inspect", mw.FormDataContentType(), &buf)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `data-error="challenge_mismatch"`) {
		t.Fatalf("inspect an uploaded file: %d\n%s", r.status, r.body)
	}

	// Nothing to inspect: a plain refusal on the page.
	r = admin.do("POST", "/admin/inspect", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	if r.status != http.StatusBadRequest {
		t.Fatalf("empty form: %d", r.status)
	}
	checkErrorPage(t, r, "missing_response")

	// Not for non-admins.
	other, _ := h.signedInClient("bob@example.com", false)
	if r := other.get("/admin/inspect"); r.status != http.StatusForbidden {
		t.Fatalf("non-admin GET /admin/inspect: %d", r.status)
	}
}
