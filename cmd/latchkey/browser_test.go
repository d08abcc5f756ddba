package main

// Real-browser end-to-end tests: headless Chromium with WebAuthn virtual authenticators against
// a server started the way `latchkey serve` starts. Each test checks what the page shows and
// what the store holds. Helpers are in browser_helpers_test.go; run them with
//
//	go test -count=1 -run Browser ./cmd/latchkey/
//
// What Chromium 156's virtual authenticators do with the sign-in page's autofill request
// (conditional mediation), found by trying it:
//   - PublicKeyCredential.isConditionalMediationAvailable() is false while no virtual
//     authenticator is attached, so a sign-in page loaded then starts no autofill request;
//   - with an authenticator that holds a passkey for the site, the autofill request completes at
//     once, with no focus or click: the page signs in by itself as it loads;
//   - with an authenticator that holds none, it fails at once with NotAllowedError;
//   - with automatic presence simulation off, it stays pending, as in a real browser while the
//     person has not picked a passkey.
// The tests use these facts: TestBrowserFirstDay loads the sign-in page with no authenticator so
// that it can sign in with the button, and TestBrowserAutofillSignIn covers the autofill request.

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// chromiumAAGUID is the AAGUID of every Chromium virtual authenticator.
const chromiumAAGUID = "01020304-0506-0708-0102-030405060708"

// sessionOf returns the stored session behind the tab's session cookie, or nil when there is no
// cookie.
func sessionOf(t *testing.T, s *testServer, b *browser) *latchkey.Session {
	t.Helper()
	for _, c := range b.cookies(s.URL + "/") {
		if c.Name == "latchkey_session" && c.Value != "" {
			sess, err := s.Store.FindSession(context.Background(), signin.SessionID(c.Value), time.Now())
			if err != nil {
				t.Fatalf("session cookie has no live session in the store: %v", err)
			}
			return sess
		}
	}
	return nil
}

// newUser creates a user in the store and issues them a pass, as an admin would.
func newUser(t *testing.T, s *testServer, upn, name string) (*latchkey.User, string) {
	t.Helper()
	ctx := context.Background()
	u := &latchkey.User{UserPrincipalName: upn, DisplayName: name, Enabled: true}
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		t.Fatalf("create user %s: %v", upn, err)
	}
	pass, _, err := s.Auth.IssueAccessPass(ctx, u.ID, signin.IssueOptions{LifetimeMinutes: 60, CreatedBy: "test"})
	if err != nil {
		t.Fatalf("issue pass for %s: %v", upn, err)
	}
	return u, pass
}

// TestBrowserFirstDay is the first administrator's first day: the bootstrap pass printed by
// serve, the set-up wizard, a device-bound passkey, sign-out, and a usernameless sign-in with
// that passkey.
func TestBrowserFirstDay(t *testing.T) {
	s := startServer(t)
	if !strings.Contains(s.Stdout.String(), `(user "admin", one-time`) {
		t.Errorf("bootstrap line %q does not name the admin user and one-time use", s.Stdout.String())
	}
	admin := s.user(t, "admin")
	b := startBrowser(t)
	b.recordCredentialRequests()

	// The sign-in page links to the pass form; no authenticator yet, as on a new computer.
	b.navigate(s.URL + "/signin")
	b.waitVisible("#signin-form")
	b.click("#tap-link")
	b.waitPage("/signin/tap", "#tap-form")
	b.typeInto("#tap-username", "admin")
	b.typeInto("#tap-pass", s.Pass)
	b.click("#tap-submit")
	b.waitPage("/my/security-info", "#wizard")
	if got := b.text("#wizard h1"); got != "Welcome, "+admin.DisplayName {
		t.Errorf("wizard heading = %q, want %q", got, "Welcome, "+admin.DisplayName)
	}
	if sess := sessionOf(t, s, b); sess == nil || !slices.Equal(sess.Methods, []string{latchkey.MethodTAP}) {
		t.Fatalf("session after the pass = %+v, want a TAP session", sess)
	}

	// A device-bound platform authenticator: the laptop's fingerprint reader.
	platform := b.addAuthenticator(deviceBound())
	b.addPasskey()
	if n := b.count("li.passkey"); n != 1 {
		t.Fatalf("page lists %d passkeys, want 1", n)
	}
	if n := b.count(`li.passkey[data-kind="device-bound"]`); n != 1 {
		t.Fatalf("page shows no device-bound passkey%s", b.where())
	}
	if got := b.text("li.passkey .badge"); got != "On one device" {
		t.Errorf("badge = %q, want %q", got, "On one device")
	}
	if got := b.text("li.passkey .pk-desc"); !strings.Contains(got, "Device-bound passkey") {
		t.Errorf("description = %q, want it to say device-bound", got)
	}
	if b.count("#wizard") != 0 {
		t.Error("the wizard is still shown after a passkey was added")
	}

	pks := s.passkeys(t, "admin")
	if len(pks) != 1 {
		t.Fatalf("store has %d passkeys for admin, want 1", len(pks))
	}
	pk := pks[0]
	if pk.Kind != latchkey.KindDeviceBound || pk.BackupEligible || pk.BackupState {
		t.Errorf("stored passkey kind %q BE %v BS %v, want device-bound, false, false", pk.Kind, pk.BackupEligible, pk.BackupState)
	}
	if pk.AttestationFormat != "packed" {
		t.Errorf("attestation format = %q, want packed", pk.AttestationFormat)
	}
	if pk.AAGUID != chromiumAAGUID {
		t.Errorf("AAGUID = %q, want %q", pk.AAGUID, chromiumAAGUID)
	}
	if !pk.UserVerified || !slices.Contains(pk.Transports, "internal") {
		t.Errorf("stored passkey UV %v transports %v, want UV and internal", pk.UserVerified, pk.Transports)
	}
	if got := b.attr(`li.passkey`, "data-passkey-id"); got != pk.ID {
		t.Errorf("page lists passkey %q, store has %q", got, pk.ID)
	}
	if pk.LastUsedAt != nil {
		t.Errorf("a new passkey has LastUsedAt %v", pk.LastUsedAt)
	}

	// Keep the passkey but take the authenticator away while signing out: with it attached, the
	// sign-in page's autofill request would sign in by itself (see the top of this file), and
	// this test is about the button.
	cred := b.credentials(platform)
	if len(cred) != 1 {
		t.Fatalf("the authenticator holds %d credentials, want 1", len(cred))
	}
	b.removeAuthenticator(platform)
	b.signOut()
	// The page asked whether autofill is available as it loaded, and with no authenticator the
	// answer was no: it started no autofill request. (The browser answers in order, so once this
	// answer is here the page has had its own.)
	if awaitJS[bool](b, `PublicKeyCredential.isConditionalMediationAvailable()`) {
		t.Fatal("autofill is available with no authenticator attached; the page may have started an autofill request")
	}
	if sess := sessionOf(t, s, b); sess != nil {
		t.Fatalf("still has a session after signing out: %+v", sess)
	}
	b.importCredential(b.addAuthenticator(deviceBound()), cred[0])

	if v := eval[string](b, `document.querySelector("#username").value`); v != "" {
		t.Fatalf("user name field holds %q, want it empty", v)
	}
	b.click("#passkey-signin")
	b.waitPage("/my/security-info", "#signed-in-as")
	if got := b.text("#signed-in-as"); got != admin.DisplayName {
		t.Errorf("signed in as %q, want %q", got, admin.DisplayName)
	}
	var signIn []credentialRequest
	for _, r := range b.credentialRequests() {
		if r.Path == "/signin" {
			signIn = append(signIn, r)
		}
	}
	// Allow 0: the request named no credentials, so the passkey itself said whose it is.
	want := []credentialRequest{
		{Event: "start", Path: "/signin", Mediation: "optional", Allow: 0},
		{Event: "resolved", Path: "/signin", Mediation: "optional", Allow: 0},
	}
	if !slices.Equal(signIn, want) {
		t.Errorf("sign-in page's credential requests = %+v, want one usernameless modal request that resolved", signIn)
	}
	sess := sessionOf(t, s, b)
	if sess == nil || !slices.Equal(sess.Methods, []string{latchkey.MethodPasskey}) || sess.PasskeyID != pk.ID || sess.UserID != admin.ID {
		t.Errorf("session = %+v, want a passkey session of admin with passkey %s", sess, pk.ID)
	}
	after := s.passkeys(t, "admin")[0]
	if after.SignCount <= pk.SignCount {
		t.Errorf("sign count %d after sign-in, was %d at registration: it must advance", after.SignCount, pk.SignCount)
	}
	if after.LastUsedAt == nil {
		t.Error("LastUsedAt not set after signing in")
	}
}

// TestBrowserSyncedPasskeyShownAsSynced registers a passkey from a provider that backs it up
// (BE=1, BS=1) and checks that the page and the store call it synced.
func TestBrowserSyncedPasskeyShownAsSynced(t *testing.T) {
	s := startServer(t)
	_, pass := newUser(t, s, "carol@example.com", "Carol Jones")
	b := startBrowser(t)
	b.signInWithTAP(s, "carol@example.com", pass)
	b.waitVisible("#wizard")
	b.addAuthenticator(synced())
	b.addPasskey()

	if n := b.count("li.passkey"); n != 1 {
		t.Fatalf("page lists %d passkeys, want 1", n)
	}
	if n := b.count(`li.passkey[data-kind="synced"]`); n != 1 {
		t.Fatalf("page shows no synced passkey%s", b.where())
	}
	if got := b.text(`li.passkey[data-kind="synced"] .badge`); got != "Synced" {
		t.Errorf("badge = %q, want Synced", got)
	}
	if got := b.text(`li.passkey[data-kind="synced"] .pk-desc`); !strings.Contains(strings.ToLower(got), "synced") {
		t.Errorf("description = %q, want it to say synced", got)
	}
	pks := s.passkeys(t, "carol@example.com")
	if len(pks) != 1 {
		t.Fatalf("store has %d passkeys for carol, want 1", len(pks))
	}
	if pk := pks[0]; pk.Kind != latchkey.KindSynced || !pk.BackupEligible || !pk.BackupState {
		t.Errorf("stored passkey kind %q BE %v BS %v, want synced, true, true", pk.Kind, pk.BackupEligible, pk.BackupState)
	}
}

// TestBrowserSecurityKeyAsSecondPasskey adds a USB security key after a platform passkey, in the
// same pass session (a pass session may register again; a passkey session would need a recent
// sign-in).
func TestBrowserSecurityKeyAsSecondPasskey(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)
	platform := b.addAuthenticator(deviceBound())
	b.addPasskey()
	b.removeAuthenticator(platform)
	b.addAuthenticator(securityKey())
	b.addPasskey()

	pks := s.passkeys(t, "admin")
	if len(pks) != 2 {
		t.Fatalf("store has %d passkeys for admin, want 2", len(pks))
	}
	var key *latchkey.Passkey
	for _, pk := range pks {
		if slices.Contains(pk.Transports, "usb") {
			key = pk
		}
	}
	if key == nil {
		t.Fatalf("no stored passkey has transport usb: %v, %v", pks[0].Transports, pks[1].Transports)
	}
	if key.Kind != latchkey.KindDeviceBound || key.Nickname != "Security key" {
		t.Errorf("security key stored as kind %q named %q, want device-bound, Security key", key.Kind, key.Nickname)
	}
	if n := b.count("li.passkey"); n != 2 {
		t.Fatalf("page lists %d passkeys, want 2", n)
	}
	li := `li.passkey[data-passkey-id="` + key.ID + `"]`
	if got := b.text(li + " .pk-desc"); !strings.Contains(got, "Security key") {
		t.Errorf("security key's description = %q, want it to say security key", got)
	}
	if got := b.text(li + " .pk-name"); got != "Security key" {
		t.Errorf("security key's name = %q, want Security key", got)
	}
	for _, pk := range pks {
		if pk != key && !strings.Contains(b.text(`li.passkey[data-passkey-id="`+pk.ID+`"] .pk-desc`), "Device-bound passkey") {
			t.Errorf("the platform passkey's description does not say device-bound")
		}
	}
}

// TestBrowserCancelledCeremony: the device does not confirm it's the person (a cancelled or
// failed fingerprint); the page says so in plain words, stores nothing, and lets them try again.
func TestBrowserCancelledCeremony(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)
	b.waitVisible("#wizard")
	id := b.addAuthenticator(unverified())
	b.click("#add-passkey")
	b.waitVisible("#register-error")

	msg := b.text("#register-error")
	if !strings.Contains(msg, "didn't confirm it's you") {
		t.Errorf("error = %q, want the plain NotAllowedError message", msg)
	}
	for _, jargon := range []string{"NotAllowedError", "DOMException", "WebAuthn", "credential", "navigator"} {
		if strings.Contains(msg, jargon) {
			t.Errorf("error %q contains jargon %q", msg, jargon)
		}
	}
	if got := b.text("#register-status"); got != "" {
		t.Errorf("status still says %q after the failure", got)
	}
	if !eval[bool](b, `!document.querySelector("#add-passkey").disabled`) {
		t.Error("the add button stays disabled after the failure")
	}
	if pks := s.passkeys(t, "admin"); len(pks) != 0 {
		t.Fatalf("store has %d passkeys after a cancelled ceremony, want 0", len(pks))
	}

	// The person tries again and this time the device confirms: the page recovered.
	b.setUserVerified(id, true)
	b.addPasskey()
	if pks := s.passkeys(t, "admin"); len(pks) != 1 {
		t.Fatalf("store has %d passkeys after retrying, want 1", len(pks))
	}
}

// TestBrowserAutofillSignIn covers the sign-in page's autofill request (conditional mediation).
// Chromium's virtual authenticator answers it without any UI, so a page loaded while the
// authenticator holds the person's passkey signs in by itself; a real browser would first
// show the passkey among the user-name field's suggestions. The second half checks that a
// pending autofill request gives way to the button.
func TestBrowserAutofillSignIn(t *testing.T) {
	s := startServer(t)
	admin := s.user(t, "admin")
	b := startBrowser(t)
	b.recordCredentialRequests()
	b.signInWithTAP(s, "admin", s.Pass)
	platform := b.addAuthenticator(deviceBound())
	b.addPasskey()
	registered := s.passkeys(t, "admin")[0]

	// Sign out with the authenticator attached: the sign-in page starts an autofill request and
	// the authenticator answers it; nobody clicks anything.
	b.click("#signout")
	b.waitPage("/my/security-info", "#signed-in-as")
	if got := b.text("#signed-in-as"); got != admin.DisplayName {
		t.Errorf("signed in as %q, want %q", got, admin.DisplayName)
	}
	var signIn []credentialRequest
	for _, r := range b.credentialRequests() {
		if r.Path == "/signin" {
			signIn = append(signIn, r)
		}
	}
	want := []credentialRequest{{Event: "start", Path: "/signin", Mediation: "conditional"}, {Event: "resolved", Path: "/signin", Mediation: "conditional"}}
	if !slices.Equal(signIn, want) {
		t.Fatalf("sign-in page's credential requests = %+v, want one autofill (conditional) request that resolved", signIn)
	}
	if sess := sessionOf(t, s, b); sess == nil || !slices.Equal(sess.Methods, []string{latchkey.MethodPasskey}) || sess.PasskeyID != registered.ID {
		t.Errorf("session = %+v, want a passkey session with passkey %s", sess, registered.ID)
	}
	if pk := s.passkeys(t, "admin")[0]; pk.SignCount <= registered.SignCount || pk.LastUsedAt == nil {
		t.Errorf("after autofill sign-in: sign count %d (was %d), last used %v", pk.SignCount, registered.SignCount, pk.LastUsedAt)
	}

	// With presence simulation off the autofill request stays pending, as in a real browser while
	// the person has not picked a passkey. The button must cancel it, quietly, and start its own
	// request. (That request then waits for a touch that the virtual authenticator, with
	// presence off, never gives; TestBrowserFirstDay completes a button sign-in.)
	b.setPresence(platform, false)
	b.exec(`sessionStorage.removeItem("lk-requests")`)
	b.signOut()
	b.waitJS("the autofill request to start", `(sessionStorage.getItem("lk-requests") || "").includes('"mediation":"conditional"')`)
	b.click("#passkey-signin")
	b.waitJS("the button's request to start", `(sessionStorage.getItem("lk-requests") || "").includes('"mediation":"optional"')`)
	want = []credentialRequest{
		{Event: "start", Path: "/signin", Mediation: "conditional"},
		{Event: "rejected", Path: "/signin", Mediation: "conditional", Error: "AbortError"},
		{Event: "start", Path: "/signin", Mediation: "optional"},
	}
	if got := b.credentialRequests(); !slices.Equal(got, want) {
		t.Errorf("credential requests = %+v, want the autofill request aborted and a modal one started", got)
	}
	if got := b.text("#signin-error"); got != "" {
		t.Errorf("aborting the autofill request showed an error: %q", got)
	}
	if got := b.text("#signin-status"); !strings.Contains(got, "Follow the steps on your device") {
		t.Errorf("status = %q, want the prompt to follow the device", got)
	}
}

// TestBrowserAdminIssuesTAP: an admin adds a user and issues them a one-time pass in the admin
// pages; the user signs in with it in another browser profile and lands on the wizard.
func TestBrowserAdminIssuesTAP(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)
	b.click("#nav-admin")
	b.waitPage("/admin", "#attention")
	b.click("#nav-users")
	b.waitPage("/admin/users", "#add-user")
	if n := b.count("table#users tbody tr"); n != 1 {
		t.Errorf("users table has %d rows, want 1 (admin)", n)
	}

	b.typeInto(`#add-user input[name="upn"]`, "bob@example.com")
	b.typeInto(`#add-user input[name="displayName"]`, "Bob Smith")
	b.click(`#add-user button[type="submit"]`)
	b.waitJS("bob's page", "!"+staleMark+` && document.readyState === "complete" && location.pathname.startsWith("/admin/users/") && !!document.querySelector("#issue-tap")`)
	bob := s.user(t, "bob@example.com")
	if !strings.HasSuffix(b.location(), "/admin/users/"+bob.ID) {
		t.Errorf("after adding bob the page is %s, want his page /admin/users/%s", b.location(), bob.ID)
	}
	if got := b.text("#target-upn"); got != "bob@example.com" {
		t.Errorf("user page shows %q", got)
	}
	if bob.DisplayName != "Bob Smith" || !bob.Enabled || bob.UserType != latchkey.UserTypeMember || slices.Contains(bob.Roles, latchkey.RoleGlobalAdmin) {
		t.Errorf("stored bob = %+v", bob)
	}
	if got := b.text("#tap-state"); got != "None." {
		t.Errorf("tap state before issuing = %q, want None.", got)
	}

	if !eval[bool](b, `document.querySelector('#issue-tap input[name="oneTime"]').checked`) {
		b.click(`#issue-tap input[name="oneTime"]`)
	}
	b.click("#issue-tap-submit")
	b.waitVisible("output#tap-value")
	pass := b.text("output#tap-value")
	if !regexp.MustCompile(`^[A-Za-z2-9]{8,48}$`).MatchString(pass) {
		t.Fatalf("shown pass %q does not look like a pass", pass)
	}
	// Headless Chromium may refuse the clipboard; then the page selects the pass instead.
	b.click("#copy-tap")
	b.waitJS("the copy status", `document.querySelector("#copy-status").textContent !== ""`)
	if got := b.text("#copy-status"); got != "Copied." && !strings.HasPrefix(got, "Selected.") {
		t.Errorf("copy status = %q", got)
	}
	if got := b.text("#tap-state"); !strings.HasPrefix(got, "Pass: can be used") || !strings.Contains(got, "one-time") {
		t.Errorf("tap state = %q, want Active and one-time", got)
	}
	ap, err := s.Store.FindAccessPassByUser(context.Background(), bob.ID)
	if err != nil {
		t.Fatalf("no stored pass for bob: %v", err)
	}
	if !ap.OneTime || ap.UsedAt != nil || ap.CreatedBy != "admin" {
		t.Errorf("stored pass one-time %v used %v created by %q, want true, nil, admin", ap.OneTime, ap.UsedAt, ap.CreatedBy)
	}

	// Bob, in a browser context of his own.
	bb := b.newIsolatedTab()
	bb.signInWithTAP(s, "bob@example.com", pass)
	bb.waitVisible("#wizard")
	if got := bb.text("#wizard h1"); got != "Welcome, Bob Smith" {
		t.Errorf("bob's wizard says %q", got)
	}
	if got := bb.text("#signed-in-as"); got != "Bob Smith" {
		t.Errorf("bob's page is signed in as %q", got)
	}
	if sess := sessionOf(t, s, bb); sess == nil || sess.UserID != bob.ID || sess.AccessPassID != ap.ID {
		t.Errorf("bob's session = %+v, want bob's, made with pass %s", sess, ap.ID)
	}
	if ap, err := s.Store.FindAccessPassByUser(context.Background(), bob.ID); err != nil || ap.UsedAt == nil {
		t.Errorf("bob's one-time pass is not marked used: %+v, %v", ap, err)
	}
	// The admin's own tab is still the admin's.
	b.navigate(s.URL + "/my/security-info")
	if got := b.text("#signed-in-as"); got != "Administrator" {
		t.Errorf("admin's tab is signed in as %q after bob signed in elsewhere", got)
	}

	// One-time: the same pass does not work twice.
	bb.signOut()
	bb.navigate(s.URL + "/signin/tap")
	bb.typeInto("#tap-username", "bob@example.com")
	bb.typeInto("#tap-pass", pass)
	bb.click("#tap-submit")
	bb.waitPage("/signin/tap", "#page-error")
	if got := bb.attr("#page-error", "data-code"); got != "tap_used" {
		t.Errorf("reusing the one-time pass gave %q, want tap_used", got)
	}
}

// TestBrowserWrongTAPShowsPlainMessage: a wrong pass gets a plain sentence and a reference for IT,
// nothing more, and no session.
func TestBrowserWrongTAPShowsPlainMessage(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t)
	b.navigate(s.URL + "/signin/tap")
	b.waitVisible("#tap-form")
	b.typeInto("#tap-username", "admin")
	b.typeInto("#tap-pass", "Wrong2345")
	b.click("#tap-submit")
	b.waitPage("/signin/tap", "#page-error")

	if got := b.attr("#page-error", "data-code"); got != "tap_invalid" {
		t.Errorf("error code = %q, want tap_invalid", got)
	}
	const plain = "That user name and pass don't match. Check both and try again, or ask your IT admin for a new pass."
	if got := b.text("#page-error p"); got != plain {
		t.Errorf("message = %q, want %q", got, plain)
	}
	cid := b.text("#page-error .ref code")
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(cid) {
		t.Errorf("correlation id = %q, want 16 hex digits", cid)
	}
	all := b.text("#page-error")
	for _, leak := range []string{"wrong temporary access pass", "argon", "sign-in log", "admin has"} {
		if strings.Contains(all, leak) {
			t.Errorf("error block %q shows internal detail %q", all, leak)
		}
	}
	if got := eval[string](b, `document.querySelector("#tap-username").value`); got != "admin" {
		t.Errorf("the form forgot the user name: %q", got)
	}
	if v := eval[string](b, `document.querySelector("#tap-pass").value`); v != "" {
		t.Errorf("the form echoes the pass back: %q", v)
	}
	for _, c := range b.cookies(s.URL + "/") {
		if c.Name == "latchkey_session" {
			t.Errorf("a session cookie was set after a wrong pass: %+v", c)
		}
	}

	admin := s.user(t, "admin")
	events, err := s.Store.ListSignIns(context.Background(), admin.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Result != latchkey.SignInFailure || events[0].ErrorCode != "tap_invalid" || events[0].CorrelationID != cid {
		t.Errorf("sign-in log = %+v, want one tap_invalid failure with correlation id %s", events, cid)
	}
	if ap, err := s.Store.FindAccessPassByUser(context.Background(), admin.ID); err != nil || ap.UsedAt != nil {
		t.Errorf("the bootstrap pass was used up by a wrong guess: %+v, %v", ap, err)
	}
}
