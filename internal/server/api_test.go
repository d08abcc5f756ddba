package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchkey/latchkey/internal/api"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

func TestHealthz(t *testing.T) {
	h := newHarness(t)
	r := h.newClient().get("/healthz")
	if r.status != http.StatusOK {
		t.Fatalf("GET /healthz: %d %s", r.status, r.body)
	}
	if got := r.object(t)["status"]; got != "ok" {
		t.Errorf("status %v, want ok", got)
	}
}

func TestTAPSignInSetsSecureSessionCookie(t *testing.T) {
	h := newHarness(t)
	u := h.createUser("alice@example.com", false)
	pass := h.issueTAP(u.ID, signin.IssueOptions{})
	c := h.newClient()
	r := c.signInTAP("alice@example.com", pass)
	if r.status != http.StatusOK {
		t.Fatalf("TAP sign-in: %d %s", r.status, r.body)
	}
	var got struct {
		User    api.UserJSON    `json:"user"`
		Session api.SessionJSON `json:"session"`
	}
	r.decode(t, &got)
	if got.User.ID != u.ID || got.User.UserPrincipalName != "alice@example.com" {
		t.Errorf("user %+v, want alice", got.User)
	}
	if len(got.Session.Methods) != 1 || got.Session.Methods[0] != latchkey.MethodTAP {
		t.Errorf("session methods %v, want [tap]", got.Session.Methods)
	}
	checkSessionCookie(t, r)
	if me := c.get("/api/v1/me"); me.status != http.StatusOK {
		t.Errorf("GET /api/v1/me after TAP sign-in: %d %s", me.status, me.body)
	}
}

// checkSessionCookie checks the attributes of the session cookie a sign-in set.
func checkSessionCookie(t *testing.T, r *response) {
	t.Helper()
	for _, ck := range r.resp.Cookies() {
		if ck.Name != httpedge.SessionCookie {
			continue
		}
		if ck.Value == "" || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
			t.Errorf("session cookie %q: want a value, Secure, HttpOnly, SameSite=Lax, Path=/", ck.String())
		}
		return
	}
	t.Errorf("no session cookie in %v", r.header.Values("Set-Cookie"))
}

func TestRegistrationOptionsNeedSession(t *testing.T) {
	h := newHarness(t)
	c := h.newClient()
	errorBody(t, c.post("/api/v1/webauthn/registration/options", nil), http.StatusUnauthorized, "not_signed_in")
	errorBody(t, c.post("/api/v1/webauthn/registration/verify", "{}"), http.StatusUnauthorized, "not_signed_in")
	errorBody(t, c.get("/api/v1/me"), http.StatusUnauthorized, "not_signed_in")
	// A forged or stale cookie is no session either.
	c.jar.SetCookies(h.originURL(), []*http.Cookie{{Name: httpedge.SessionCookie, Value: "forged"}})
	errorBody(t, c.post("/api/v1/webauthn/registration/options", nil), http.StatusUnauthorized, "not_signed_in")
}

func TestRegisterDeviceBoundPasskeyAndSignIn(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)
	d := h.newDevice()
	// An AAGUID from the bundled catalogue, so that the provider is named.
	d.auth.Aaguid = uuid.MustParse("08987058-cadc-4b81-b6e1-30de50dcbe96")

	r := c.register(d)
	if r.status != http.StatusOK {
		t.Fatalf("registration verify: %d %s", r.status, r.body)
	}
	got := r.object(t)
	for _, key := range []string{"id", "aaguid", "provider", "kind", "backupEligible", "backupState", "attestationFormat"} {
		if _, ok := got[key]; !ok {
			t.Errorf("registration answer lacks %q: %s", key, r.body)
		}
	}
	want := map[string]any{"aaguid": "08987058-cadc-4b81-b6e1-30de50dcbe96", "provider": "Windows Hello",
		"kind": latchkey.KindDeviceBound, "backupEligible": false, "backupState": false, "attestationFormat": "packed"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["publicKey"]; ok {
		t.Error("the answer exposes the public key")
	}
	pks := h.passkeys(u.ID)
	if len(pks) != 1 || pks[0].ID != got["id"] {
		t.Fatalf("stored passkeys %v, want the one registered (%v)", pks, got["id"])
	}

	// Usernameless sign-in from another browser: no session needed, no allowCredentials.
	other := h.newClient()
	opts := other.authenticationOptions("")
	var o struct {
		PublicKey struct {
			Challenge        string           `json:"challenge"`
			RPID             string           `json:"rpId"`
			UserVerification string           `json:"userVerification"`
			AllowCredentials []map[string]any `json:"allowCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(opts, &o); err != nil {
		t.Fatal(err)
	}
	if o.PublicKey.Challenge == "" || o.PublicKey.RPID != "localhost" || o.PublicKey.UserVerification != "required" || len(o.PublicKey.AllowCredentials) != 0 {
		t.Errorf("usernameless request options %s", opts)
	}
	d.cred.Counter = 1
	r = other.post("/api/v1/webauthn/authentication/verify", d.assert(t, opts))
	checkPasskeySignIn(t, r, u)
	checkSessionCookie(t, r)
	me := other.get("/api/v1/me")
	if me.status != http.StatusOK {
		t.Fatalf("GET /api/v1/me after passkey sign-in: %d %s", me.status, me.body)
	}
	var meBody struct {
		Session api.SessionJSON `json:"session"`
	}
	me.decode(t, &meBody)
	if len(meBody.Session.Methods) != 1 || meBody.Session.Methods[0] != latchkey.MethodPasskey {
		t.Errorf("session methods %v, want [passkey]", meBody.Session.Methods)
	}

	// Username-first sign-in lists the user's passkey.
	third := h.newClient()
	r = third.signIn(d, "alice@example.com")
	checkPasskeySignIn(t, r, u)
	stored, err := h.store.FindPasskeyByID(context.Background(), pks[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SignCount != 2 || stored.LastUsedAt == nil {
		t.Errorf("stored sign count %d, last used %v; want 2 and a time", stored.SignCount, stored.LastUsedAt)
	}
}

// checkPasskeySignIn checks a successful authentication verify answer for user u.
func checkPasskeySignIn(t *testing.T, r *response, u *latchkey.User) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("authentication verify: %d %s", r.status, r.body)
	}
	var got struct {
		User map[string]any `json:"user"`
	}
	r.decode(t, &got)
	if got.User["id"] != u.ID || got.User["userPrincipalName"] != u.UserPrincipalName {
		t.Errorf("signed-in user %v, want %s (%s)", got.User, u.UserPrincipalName, u.ID)
	}
}

func TestAuthenticationOptionsUsernameFirst(t *testing.T) {
	h := newHarness(t)
	c, _ := h.signedInClient("alice@example.com", false)
	d := h.newDevice()
	c.mustRegister(d)
	h.createUser("bob@example.com", false)

	allowed := func(username string) []string {
		t.Helper()
		var o struct {
			PublicKey struct {
				Challenge        string `json:"challenge"`
				AllowCredentials []struct {
					ID   string `json:"id"`
					Type string `json:"type"`
				} `json:"allowCredentials"`
			} `json:"publicKey"`
		}
		if err := json.Unmarshal(h.newClient().authenticationOptions(username), &o); err != nil {
			t.Fatal(err)
		}
		if o.PublicKey.Challenge == "" {
			t.Errorf("no challenge for %q", username)
		}
		var ids []string
		for _, c := range o.PublicKey.AllowCredentials {
			ids = append(ids, c.ID)
		}
		return ids
	}
	want := base64.RawURLEncoding.EncodeToString(d.cred.ID)
	if got := allowed("alice@example.com"); len(got) != 1 || got[0] != want {
		t.Errorf("allowCredentials for alice %v, want [%s]", got, want)
	}
	if got := allowed("ALICE@example.com"); len(got) != 1 || got[0] != want {
		t.Errorf("allowCredentials for ALICE (case-insensitive) %v, want [%s]", got, want)
	}
	// Neither a user without passkeys nor an unknown one is told apart from usernameless.
	if got := allowed("bob@example.com"); len(got) != 0 {
		t.Errorf("allowCredentials for bob (no passkeys) %v, want none", got)
	}
	if got := allowed("nobody@example.com"); len(got) != 0 {
		t.Errorf("allowCredentials for an unknown user %v, want none", got)
	}
}

func TestSignOutEndsSession(t *testing.T) {
	h := newHarness(t)
	c, _ := h.signedInClient("alice@example.com", false)
	token := c.sessionCookie().Value
	r := c.post("/api/v1/signout", nil)
	if r.status != http.StatusOK {
		t.Fatalf("sign-out: %d %s", r.status, r.body)
	}
	if c.sessionCookie() != nil {
		t.Error("the session cookie survived sign-out")
	}
	errorBody(t, c.get("/api/v1/me"), http.StatusUnauthorized, "not_signed_in")
	// The session is gone on the server too, not only from the browser.
	stale := h.newClient()
	stale.jar.SetCookies(h.originURL(), []*http.Cookie{{Name: httpedge.SessionCookie, Value: token}})
	errorBody(t, stale.get("/api/v1/me"), http.StatusUnauthorized, "not_signed_in")
}

func TestMyPasskeysListRenameDelete(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)
	first := c.mustRegister(h.newDevice())
	second := c.mustRegister(h.newSyncedDevice())

	list := func() []api.PasskeyJSON {
		t.Helper()
		r := c.get("/api/v1/me/passkeys")
		if r.status != http.StatusOK {
			t.Fatalf("list passkeys: %d %s", r.status, r.body)
		}
		var got struct {
			Value []api.PasskeyJSON `json:"value"`
		}
		r.decode(t, &got)
		return got.Value
	}
	if got := list(); len(got) != 2 || got[0].ID != first.ID || got[1].ID != second.ID {
		t.Fatalf("listed %v, want the two registered, oldest first", got)
	}

	// A name is stored as given or refused, never trimmed.
	errorBody(t, c.send(http.MethodPatch, "/api/v1/me/passkeys/"+first.ID, map[string]string{"displayName": "  Work laptop "}), http.StatusBadRequest, "invalid_name")
	r := c.send(http.MethodPatch, "/api/v1/me/passkeys/"+first.ID, map[string]string{"displayName": "Work laptop"})
	if r.status != http.StatusOK {
		t.Fatalf("rename: %d %s", r.status, r.body)
	}
	var renamed api.PasskeyJSON
	r.decode(t, &renamed)
	if renamed.ID != first.ID || renamed.Nickname != "Work laptop" {
		t.Errorf("renamed passkey %+v, want %s named Work laptop", renamed.Passkey, first.ID)
	}
	errorBody(t, c.send(http.MethodPatch, "/api/v1/me/passkeys/"+first.ID, map[string]string{"displayName": " "}), http.StatusBadRequest, "invalid_name")
	errorBody(t, c.send(http.MethodPatch, "/api/v1/me/passkeys/"+uuid.NewString(), map[string]string{"displayName": "x"}), http.StatusNotFound, "passkey_not_found")

	// Someone else's passkey is not found, neither for renaming nor for removal.
	mallory, _ := h.signedInClient("mallory@example.com", false)
	errorBody(t, mallory.send(http.MethodPatch, "/api/v1/me/passkeys/"+first.ID, map[string]string{"displayName": "mine"}), http.StatusNotFound, "passkey_not_found")
	errorBody(t, mallory.do(http.MethodDelete, "/api/v1/me/passkeys/"+first.ID+"?confirmLast=true", "", nil), http.StatusNotFound, "passkey_not_found")

	if r := c.do(http.MethodDelete, "/api/v1/me/passkeys/"+second.ID, "", nil); r.status != http.StatusNoContent {
		t.Fatalf("delete second passkey: %d %s", r.status, r.body)
	}
	errorBody(t, c.do(http.MethodDelete, "/api/v1/me/passkeys/"+first.ID, "", nil), http.StatusConflict, "last_passkey")
	if n := len(h.passkeys(u.ID)); n != 1 {
		t.Fatalf("%d passkeys after the refused removal, want 1", n)
	}
	if r := c.do(http.MethodDelete, "/api/v1/me/passkeys/"+first.ID+"?confirmLast=true", "", nil); r.status != http.StatusNoContent {
		t.Fatalf("delete last passkey with confirmLast: %d %s", r.status, r.body)
	}
	if got := list(); len(got) != 0 {
		t.Errorf("listed %v after removing everything", got)
	}
}

func TestRegistrationExcludesExistingPasskeys(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)
	d := h.newDevice()
	c.mustRegister(d)

	var o struct {
		PublicKey struct {
			ExcludeCredentials []struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			} `json:"excludeCredentials"`
			AuthenticatorSelection struct {
				ResidentKey      string `json:"residentKey"`
				UserVerification string `json:"userVerification"`
			} `json:"authenticatorSelection"`
		} `json:"publicKey"`
	}
	opts := c.registrationOptions()
	if err := json.Unmarshal(opts, &o); err != nil {
		t.Fatal(err)
	}
	want := base64.RawURLEncoding.EncodeToString(d.cred.ID)
	if ex := o.PublicKey.ExcludeCredentials; len(ex) != 1 || ex[0].ID != want || ex[0].Type != "public-key" {
		t.Errorf("excludeCredentials %+v, want [%s]", ex, want)
	}
	if sel := o.PublicKey.AuthenticatorSelection; sel.ResidentKey != "required" || sel.UserVerification != "required" {
		t.Errorf("authenticatorSelection %+v, want a discoverable, user-verified credential", sel)
	}

	// An authenticator that ignores excludeCredentials gets a conflict, and nothing is stored.
	errorBody(t, c.post("/api/v1/webauthn/registration/verify", d.attest(t, opts)), http.StatusConflict, "passkey_already_registered")
	if n := len(h.passkeys(u.ID)); n != 1 {
		t.Errorf("%d passkeys, want 1", n)
	}

	// Credential ids are unique across users too.
	bob, bobUser := h.signedInClient("bob@example.com", false)
	errorBody(t, bob.register(d), http.StatusConflict, "passkey_already_registered")
	if n := len(h.passkeys(bobUser.ID)); n != 0 {
		t.Errorf("bob has %d passkeys, want 0", n)
	}
}

func TestSyncedPasskey(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)
	d := h.newSyncedDevice()
	pk := c.mustRegister(d)
	if pk.Kind != latchkey.KindSynced || !pk.BackupEligible || !pk.BackupState {
		t.Errorf("synced registration: kind %q, BE %v, BS %v; want synced, true, true", pk.Kind, pk.BackupEligible, pk.BackupState)
	}
	if pks := h.passkeys(u.ID); len(pks) != 1 || pks[0].Kind != latchkey.KindSynced {
		t.Errorf("stored %v, want one synced passkey", pks)
	}
	r := h.newClient().signIn(d, "")
	checkPasskeySignIn(t, r, u)
	var got struct {
		Passkey api.PasskeyJSON `json:"passkey"`
	}
	r.decode(t, &got)
	if got.Passkey.Kind != latchkey.KindSynced {
		t.Errorf("sign-in passkey kind %q, want synced", got.Passkey.Kind)
	}
}

func TestSignCountGoingBackwardsFlagsPossibleClone(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)
	d := h.newDevice()
	pk := c.mustRegister(d)

	d.cred.Counter = 4 // signIn advances it to 5
	checkPasskeySignIn(t, h.newClient().signIn(d, ""), u)

	// A copy of the key that is behind the original.
	d.cred.Counter = 2 // signIn advances it to 3
	clone := h.newClient()
	errorBody(t, clone.signIn(d, ""), http.StatusForbidden, "possible_clone")
	if clone.sessionCookie() != nil {
		t.Error("a refused sign-in left a session cookie")
	}
	stored, err := h.store.FindPasskeyByID(context.Background(), pk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.PossibleClone {
		t.Error("the passkey was not flagged as possibly cloned")
	}
	if stored.SignCount != 5 {
		t.Errorf("stored sign count %d, want 5 (unchanged by the refused sign-in)", stored.SignCount)
	}

	// Once flagged, even a counter that moves on is refused, username-first too.
	d.cred.Counter = 100
	errorBody(t, h.newClient().signIn(d, ""), http.StatusForbidden, "possible_clone")
	errorBody(t, h.newClient().signIn(d, "alice@example.com"), http.StatusForbidden, "possible_clone")
}

func TestRegistrationNeedsRecentSignIn(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)
	d := h.newDevice()
	c.mustRegister(d)

	passkeySession := h.newClient()
	checkPasskeySignIn(t, passkeySession.signIn(d, ""), u)
	passkeySession.mustRegister(h.newDevice()) // a fresh passkey sign-in may add another

	h.clock.Advance(6 * time.Minute)
	errorBody(t, passkeySession.post("/api/v1/webauthn/registration/options", nil), http.StatusUnauthorized, "reauthentication_required")
	if n := len(h.passkeys(u.ID)); n != 2 {
		t.Errorf("%d passkeys, want 2", n)
	}
}

func TestAdminCreatesUserAndIssuesTAP(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)

	r := admin.post("/api/v1/users", map[string]string{"userPrincipalName": "carol@example.com", "displayName": "Carol"})
	if r.status != http.StatusCreated {
		t.Fatalf("create user: %d %s", r.status, r.body)
	}
	var carol latchkey.User
	r.decode(t, &carol)
	if carol.ID == "" || carol.UserPrincipalName != "carol@example.com" || !carol.Enabled || carol.UserType != latchkey.UserTypeMember || carol.Roles == nil {
		t.Errorf("created user %+v", carol)
	}
	errorBody(t, admin.post("/api/v1/users", map[string]string{"userPrincipalName": "CAROL@example.com"}), http.StatusConflict, "user_exists")

	// Whether a pass is usable is decided on the service's clock, like everything else.
	h.clock.Advance(30 * time.Minute)
	r = admin.post("/api/v1/users/carol@example.com/authentication/temporaryAccessPassMethods", map[string]any{"lifetimeInMinutes": 60, "isUsableOnce": true})
	if r.status != http.StatusCreated {
		t.Fatalf("issue TAP: %d %s", r.status, r.body)
	}
	var tap api.TAPJSON
	r.decode(t, &tap)
	if tap.TemporaryAccessPass == "" || !tap.IsUsable || tap.MethodUsabilityReason != latchkey.TAPUsable || !tap.OneTime ||
		tap.LifetimeMinutes != 60 || tap.CreatedBy != "admin@example.com" || tap.UserID != carol.ID {
		t.Errorf("issued pass %s", r.body)
	}
	errorBody(t, admin.post("/api/v1/users/admin@example.com/authentication/temporaryAccessPassMethods", nil), http.StatusForbidden, "not_for_yourself")
	errorBody(t, admin.post("/api/v1/users/nobody@example.com/authentication/temporaryAccessPassMethods", nil), http.StatusNotFound, "user_not_found")
	errorBody(t, admin.post("/api/v1/users/carol@example.com/authentication/temporaryAccessPassMethods", map[string]any{"lifetimeInMinutes": 5}), http.StatusBadRequest, "tap_lifetime_out_of_bounds")

	c := h.newClient()
	c.mustSignInTAP("carol@example.com", tap.TemporaryAccessPass)
	c.mustRegister(h.newSyncedDevice())
	errorBody(t, c.get("/api/v1/users"), http.StatusForbidden, "not_allowed")
	errorBody(t, c.post("/api/v1/users", map[string]string{"userPrincipalName": "dave@example.com"}), http.StatusForbidden, "not_allowed")

	r = admin.get("/api/v1/users/" + carol.ID + "/authentication/fido2Methods")
	if r.status != http.StatusOK {
		t.Fatalf("fido2Methods: %d %s", r.status, r.body)
	}
	var methods struct {
		Value []map[string]any `json:"value"`
	}
	r.decode(t, &methods)
	if len(methods.Value) != 1 || methods.Value[0]["kind"] != latchkey.KindSynced || methods.Value[0]["model"] == nil || methods.Value[0]["description"] == "" {
		t.Errorf("fido2Methods %s", r.body)
	}
}
