package server

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

const legacyPassword = "tangerine velvet orbit 42"

var (
	tokenFieldRE = regexp.MustCompile(`name="token" value="([^"]+)"`)
	secretRE     = regexp.MustCompile(`data-secret="([A-Z2-7]+)"`)
	methodRE     = regexp.MustCompile(`data-method="([a-z]+)"`)
)

// enableLegacy turns password and TOTP on for everyone, with the campaign's snoozes.
func (h *harness) enableLegacy(snoozes int) {
	h.t.Helper()
	p := policy.DefaultMethodsPolicy()
	p.Password.State, p.TOTP.State = policy.StateEnabled, policy.StateEnabled
	p.RegistrationCampaign.SnoozesAllowed = snoozes
	if err := h.policies.SetMethodsPolicy(context.Background(), latchkey.SystemActor, p); err != nil {
		h.t.Fatal(err)
	}
}

// withLegacyCredentials gives u a password and, when withTOTP, a confirmed authenticator app
// whose secret it returns, as a TAP session would set them up.
func (h *harness) withLegacyCredentials(u *latchkey.User, withTOTP bool) string {
	h.t.Helper()
	ctx := context.Background()
	sess := &latchkey.Session{UserID: u.ID, Methods: []string{latchkey.MethodTAP}, AuthenticatedAt: h.clock.Now()}
	if err := h.svc.SetPassword(ctx, sess, u, legacyPassword); err != nil {
		h.t.Fatal(err)
	}
	if !withTOTP {
		return ""
	}
	e, err := h.svc.BeginTOTPEnrollment(ctx, sess, u)
	if err != nil {
		h.t.Fatal(err)
	}
	code, _ := totp.GenerateCode(e.Secret, h.clock.Now())
	if err := h.svc.ConfirmTOTPEnrollment(ctx, sess, u, code); err != nil {
		h.t.Fatal(err)
	}
	// The confirmation used this step's code: sign-ins in the tests use the next ones.
	h.clock.Advance(30 * time.Second)
	return e.Secret
}

// legacyFormRoutes are the legacy methods' form routes for TestBadFormInput, each with a valid
// request; the valid ones are sent in this order after every refusal.
func legacyFormRoutes(t *testing.T, h *harness, admin *client, adminUser *latchkey.User, token string) []caFormRoute {
	t.Helper()
	ctx := context.Background()
	h.enableLegacy(3)
	// The admin's TAP session confirms an authenticator app begun here.
	e, err := h.svc.BeginTOTPEnrollment(ctx, &latchkey.Session{Methods: []string{latchkey.MethodTAP}, AuthenticatedAt: h.clock.Now()}, adminUser)
	if err != nil {
		t.Fatal(err)
	}
	// Quinn has a password and an app: the code step needs a token from a right password.
	quinn := h.createUser("quinn@example.com", false)
	secret := h.withLegacyCredentials(quinn, true)
	res, err := h.svc.SignInWithPassword(ctx, "quinn@example.com", legacyPassword, signin.Client{IP: "192.0.2.50"})
	if err != nil || res.TOTPToken == "" {
		t.Fatalf("quinn's password step: %+v, %v", res, err)
	}
	quinnCode, _ := totp.GenerateCode(secret, h.clock.Now())
	// The admin's code is taken after withLegacyCredentials moved the clock on a step, so that
	// it is within one step of the time the form is posted.
	code, _ := totp.GenerateCode(e.Secret, h.clock.Now())
	pat := h.createUser("pat@example.com", false)
	h.withLegacyCredentials(pat, false)
	anon := h.newClient()
	anonToken := anon.formCSRF()
	return []caFormRoute{
		{"POST /admin/policy/legacy", "/admin/policy/legacy", admin, token, url.Values{"passwordState": {"enabled"}, "passwordInclude": {policy.AllUsers},
			"passwordMinLength": {"15"}, "totpState": {"enabled"}, "totpInclude": {policy.AllUsers}, "campaign": {"yes"}, "snoozesAllowed": {"3"}}},
		{"POST /my/security-info/password", "/my/security-info/password", admin, token, url.Values{"password": {legacyPassword}, "confirm": {legacyPassword}}},
		{"POST /my/security-info/password/remove", "/my/security-info/password/remove", admin, token, url.Values{}},
		{"POST /my/security-info/totp/confirm", "/my/security-info/totp/confirm", admin, token, url.Values{"code": {code}}},
		{"POST /my/security-info/totp/remove", "/my/security-info/totp/remove", admin, token, url.Values{}},
		{"POST /my/security-info/totp", "/my/security-info/totp", admin, token, url.Values{}},
		{"POST /signin/methods", "/signin/methods", anon, anonToken, url.Values{"username": {"pat@example.com"}}},
		{"POST /signin/password", "/signin/password", anon, anonToken, url.Values{"username": {"pat@example.com"}, "password": {legacyPassword}}},
		{"POST /signin/nudge/snooze", "/signin/nudge/snooze", anon, anonToken, url.Values{"next": {"/my/security-info"}}},
		{"POST /signin/totp", "/signin/totp", anon, anonToken, url.Values{"token": {res.TOTPToken}, "code": {quinnCode}}},
	}
}

// TestLegacySignInOverHTTP walks a person through the pages: password and authenticator app set
// up on My security info after a TAP sign-in, a two-step sign-in that keeps next, the nudge and
// its snoozes, and the refusals in plain words.
func TestLegacySignInOverHTTP(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, _ := h.signedInClient("admin@example.com", true)
	g := &latchkey.Group{DisplayName: "Legacy"}
	if err := h.store.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	// The admin turns password and TOTP on for the group Legacy, with 1 snooze.
	r := admin.postForm("/admin/policy/legacy", url.Values{"passwordState": {"enabled"}, "passwordInclude": {g.ID}, "passwordMinLength": {"15"},
		"totpState": {"enabled"}, "totpInclude": {g.ID}, "campaign": {"yes"}, "snoozesAllowed": {"1"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/policy?notice=legacy" {
		t.Fatalf("policy form: %d %s %.300s", r.status, r.header.Get("Location"), r.body)
	}
	if page := admin.get("/admin/policy"); !strings.Contains(string(page.body), `id="password-state">enabled; included: Legacy`) {
		t.Errorf("the policy page does not show passwords on for Legacy: %.3000s", page.body)
	}
	r = admin.postForm("/admin/policy/legacy", url.Values{"passwordState": {"enabled"}, "passwordMinLength": {"7"}, "totpState": {"disabled"}, "snoozesAllowed": {"1"}})
	if checkErrorPage(t, r, "invalid_policy"); !strings.Contains(string(r.body), "between 8 and 64 characters") {
		t.Errorf("refusal does not say the bounds: %.2000s", r.body)
	}

	// Lee, in Legacy, signs in with a pass and sets a password and an app.
	lee, leeUser := h.signedInClient("lee@example.com", false)
	if err := h.store.AddGroupMember(ctx, g.ID, leeUser.ID); err != nil {
		t.Fatal(err)
	}
	page := string(lee.get("/my/security-info").body)
	for _, want := range []string{`id="password-card"`, `id="totp-card"`, "at least 15 characters"} {
		if !strings.Contains(page, want) {
			t.Errorf("My security info lacks %s", want)
		}
	}
	r = lee.postForm("/my/security-info/password", url.Values{"password": {"short phrase"}, "confirm": {"short phrase"}})
	checkErrorPage(t, r, "password_too_short")
	r = lee.postForm("/my/security-info/password", url.Values{"password": {"lee's long password"}, "confirm": {"lee's long password"}})
	checkErrorPage(t, r, "password_contains_name")
	r = lee.postForm("/my/security-info/password", url.Values{"password": {legacyPassword}, "confirm": {legacyPassword + "x"}})
	checkErrorPage(t, r, "password_mismatch")
	r = lee.postForm("/my/security-info/password", url.Values{"password": {legacyPassword}, "confirm": {legacyPassword}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/my/security-info?notice=password" {
		t.Fatalf("set password: %d %.500s", r.status, r.body)
	}
	r = lee.postForm("/my/security-info/totp", nil)
	m := secretRE.FindSubmatch(r.body)
	if r.status != http.StatusOK || m == nil || !strings.Contains(string(r.body), `src="data:image/png;base64,`) {
		t.Fatalf("TOTP setup page: %d %.1500s", r.status, r.body)
	}
	secret := string(m[1])
	r = lee.postForm("/my/security-info/totp/confirm", url.Values{"code": {"12345"}})
	if checkErrorPage(t, r, "totp_invalid"); !strings.Contains(string(r.body), secret) {
		t.Error("after a wrong code the setup page does not show the same secret again")
	}
	code, _ := totp.GenerateCode(secret, h.clock.Now())
	r = lee.postForm("/my/security-info/totp/confirm", url.Values{"code": {code}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/my/security-info?notice=totp" {
		t.Fatalf("confirm TOTP: %d %.500s", r.status, r.body)
	}
	// Later, the pass has expired (with it, a pass would come first).
	h.clock.Advance(2 * time.Hour)

	// Signed out, Lee signs in another way, keeping next.
	next := "/oidc/login?id=abc123"
	b := h.newClient()
	if body := string(b.get("/signin?next=" + url.QueryEscape(next)).body); !strings.Contains(body, `id="other-ways" href="/signin/methods?next=%2foidc%2flogin%3fid%3dabc123"`) {
		t.Errorf("the sign-in page has no 'Sign in another way' keeping next: %s", body)
	}
	if body := string(b.get("/signin/methods?next=" + url.QueryEscape(next)).body); !strings.Contains(html.UnescapeString(body), `name="next" value="/oidc/login?id=abc123"`) {
		t.Errorf("the methods page does not keep next: %s", body)
	}
	r = b.postForm("/signin/methods", url.Values{"username": {"lee@example.com"}, "next": {next}})
	if got := methodsOf(r); got != "password passkey" {
		t.Errorf("methods offered to lee: %q, want password then passkey", got)
	}
	r = b.postForm("/signin/password", url.Values{"username": {"lee@example.com"}, "password": {"wrong " + legacyPassword}, "next": {next}})
	wrong := checkErrorPage(t, r, "password_invalid")
	r2 := b.postForm("/signin/password", url.Values{"username": {"nobody@example.com"}, "password": {legacyPassword}, "next": {next}})
	checkErrorPage(t, r2, wrong)
	if msg := pageErrorRE.Find(r.body); !strings.Contains(string(msg), "That user name and password don&#39;t match") {
		t.Errorf("wrong-password message: %s", msg)
	}
	r = b.postForm("/signin/password", url.Values{"username": {"lee@example.com"}, "password": {legacyPassword}, "next": {next}})
	tm := tokenFieldRE.FindSubmatch(r.body)
	if r.status != http.StatusOK || tm == nil || b.sessionCookie() != nil {
		t.Fatalf("password step: %d, cookie %v: %.1000s", r.status, b.sessionCookie(), r.body)
	}
	for _, want := range []string{`autocomplete="one-time-code"`, `inputmode="numeric"`, `name="next" value="/oidc/login?id=abc123"`} {
		if !strings.Contains(html.UnescapeString(string(r.body)), want) {
			t.Errorf("the code page lacks %s", want)
		}
	}
	token := html.UnescapeString(string(tm[1]))
	r = b.postForm("/signin/totp", url.Values{"token": {token}, "code": {"000"}, "next": {next}})
	checkErrorPage(t, r, "totp_invalid")
	code, _ = totp.GenerateCode(secret, h.clock.Now())
	r = b.postForm("/signin/totp", url.Values{"token": {token}, "code": {code}, "next": {next}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin/nudge?next="+url.QueryEscape(next) || b.sessionCookie() == nil {
		t.Fatalf("code step: %d Location %q: %.500s", r.status, r.header.Get("Location"), r.body)
	}
	r = b.get(r.header.Get("Location"))
	body := string(r.body)
	for _, want := range []string{"Create a passkey", `id="add-passkey"`, "Not now (1 left)", `data-next="/oidc/login?id=abc123"`} {
		if !strings.Contains(html.UnescapeString(body), want) {
			t.Errorf("the nudge lacks %s: %s", want, body)
		}
	}
	r = b.postForm("/signin/nudge/snooze", url.Values{"next": {next}})
	if r.status != http.StatusOK || !strings.Contains(html.UnescapeString(string(r.body)), `href="/oidc/login?id=abc123"`) {
		t.Errorf("Not now does not continue to next: %d %.800s", r.status, r.body)
	}
	// The same code again, in a new sign-in, is refused; the next one works and the nudge can no
	// longer be skipped.
	c := h.newClient()
	r = c.postForm("/signin/password", url.Values{"username": {"lee@example.com"}, "password": {legacyPassword}})
	token = html.UnescapeString(string(tokenFieldRE.FindSubmatch(r.body)[1]))
	r = c.postForm("/signin/totp", url.Values{"token": {token}, "code": {code}})
	checkErrorPage(t, r, "totp_reused")
	h.clock.Advance(30 * time.Second)
	code, _ = totp.GenerateCode(secret, h.clock.Now())
	r = c.postForm("/signin/totp", url.Values{"token": {token}, "code": {code}})
	if r.header.Get("Location") != "/signin/nudge" {
		t.Fatalf("second sign-in: %d %q", r.status, r.header.Get("Location"))
	}
	body = string(c.get("/signin/nudge").body)
	if strings.Contains(body, "Not now") || !strings.Contains(body, `id="nudge-required"`) {
		t.Errorf("after the snoozes, the nudge still offers Not now: %s", body)
	}
	checkErrorPage(t, c.postForm("/signin/nudge/snooze", nil), "passkey_required")
	// This password + TOTP session may register a passkey: the nudge's button works.
	c.mustRegister(h.newDevice())
	if r := c.get("/signin/nudge?next=/my/security-info"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/my/security-info" {
		t.Errorf("the nudge after a passkey was created: %d %q", r.status, r.header.Get("Location"))
	}
	events, err := h.store.ListSignIns(ctx, leeUser.ID, 20)
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for _, e := range events {
		log = append(log, e.Method+":"+e.Result+":"+e.ErrorCode)
	}
	want := "password:success: totp:failure:totp_reused password:success: totp:failure:totp_invalid password:failure:password_invalid tap:success:"
	if strings.Join(log, " ") != want {
		t.Errorf("lee's sign-in log:\n%s\nwant\n%s", strings.Join(log, " "), want)
	}
	if amr := strings.Join(events[0].AMR, " "); amr != "mfa otp pwd" || events[0].ACR != policy.ACRAAL2 {
		t.Errorf("password + TOTP sign-in acr %s amr %s", events[0].ACR, amr)
	}
}

// methodsOf returns the methods a methods page offers, in order.
func methodsOf(r *response) string {
	var out []string
	for _, m := range methodRE.FindAllSubmatch(r.body, -1) {
		out = append(out, string(m[1]))
	}
	return strings.Join(out, " ")
}

// TestSystemPreferredSignIn checks the order of DESIGN §5 on the methods page: a person with an
// active pass goes to the pass page, a person with a passkey is offered it first, and an unknown
// user name sees what a person without either sees.
func TestSystemPreferredSignIn(t *testing.T) {
	h := newHarness(t)
	h.enableLegacy(3)
	pk, _ := h.signedInClient("pia@example.com", false)
	pk.mustRegister(h.newDevice())
	pia, _ := h.store.FindUserByUPN(context.Background(), "pia@example.com")
	if err := h.store.DeleteAccessPass(context.Background(), pia.ID); err != nil {
		t.Fatal(err)
	}
	h.withLegacyCredentials(pia, false)
	tap := h.createUser("tom@example.com", false)
	h.issueTAP(tap.ID, signin.IssueOptions{})
	pat := h.createUser("pat@example.com", false)
	h.withLegacyCredentials(pat, false)

	c := h.newClient()
	r := c.postForm("/signin/methods", url.Values{"username": {"tom@example.com"}, "next": {"/oidc/login?id=1"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin/tap?next=%2Foidc%2Flogin%3Fid%3D1&username=tom%40example.com" {
		t.Errorf("a person with an active pass: %d %q", r.status, r.header.Get("Location"))
	}
	// A next that leaves the site is dropped.
	r = c.postForm("/signin/methods", url.Values{"username": {"tom@example.com"}, "next": {"//evil.example/x"}})
	if loc := r.header.Get("Location"); loc != "/signin/tap?username=tom%40example.com" {
		t.Errorf("an outside next was kept: %q", loc)
	}
	for upn, want := range map[string]string{
		"pia@example.com":    "passkey password",
		"pat@example.com":    "password passkey",
		"nobody@example.com": "password passkey",
	} {
		r := c.postForm("/signin/methods", url.Values{"username": {upn}})
		if got := methodsOf(r); got != want {
			t.Errorf("%s is offered %q, want %q", upn, got, want)
		}
		if !regexp.MustCompile(`class="button primary" data-method="` + strings.Fields(want)[0] + `"`).Match(r.body) {
			t.Errorf("%s: the first method is not the prominent one: %s", upn, r.body)
		}
	}
	// With passwords off for everyone, nobody is offered one (pat, with only a password, is
	// locked out: the override confirms it).
	if _, err := h.policies.ChangeMethodsPolicy(context.Background(), latchkey.SystemActor, 1, func(p *policy.MethodsPolicy) error {
		*p = policy.DefaultMethodsPolicy()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, upn := range []string{"pat@example.com", "nobody@example.com"} {
		if got := methodsOf(c.postForm("/signin/methods", url.Values{"username": {upn}})); got != "passkey" {
			t.Errorf("with passwords off, %s is offered %q", upn, got)
		}
	}
	checkErrorPage(t, c.postForm("/signin/methods", url.Values{"username": {""}}), "missing_field")
}

// TestPasswordAloneSession checks what a password alone may do: sign in, be nudged towards an
// authenticator app, never register a passkey.
func TestPasswordAloneSession(t *testing.T) {
	h := newHarness(t)
	h.enableLegacy(3)
	pat := h.createUser("pat@example.com", false)
	h.withLegacyCredentials(pat, false)
	c := h.newClient()
	r := c.postForm("/signin/password", url.Values{"username": {"pat@example.com"}, "password": {legacyPassword}, "next": {"/my/security-info"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin/nudge?next=%2Fmy%2Fsecurity-info" {
		t.Fatalf("password sign-in: %d %q %.500s", r.status, r.header.Get("Location"), r.body)
	}
	body := string(c.get(r.header.Get("Location")).body)
	for _, want := range []string{`id="nudge-setup-totp"`, `id="nudge-continue"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the password-alone nudge lacks %s: %s", want, body)
		}
	}
	if strings.Contains(body, `id="add-passkey"`) {
		t.Error("the password-alone nudge offers to create a passkey")
	}
	errorBody(t, c.post("/api/v1/webauthn/registration/options", nil), http.StatusUnauthorized, "strong_signin_required")
	checkErrorPage(t, c.postForm("/my/security-info/password", url.Values{"password": {"another long phrase 7"}, "confirm": {"another long phrase 7"}}),
		"strong_signin_required")
	// "Continue for now" does not use up a snooze: nothing could be created.
	r = c.postForm("/signin/nudge/snooze", url.Values{"next": {"/my/security-info"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/my/security-info" {
		t.Errorf("continue: %d %q", r.status, r.header.Get("Location"))
	}
	creds, _ := h.store.FindLegacyCredentials(context.Background(), pat.ID)
	if creds.NudgeSnoozes != 0 {
		t.Errorf("%d snoozes counted for a session that could not register", creds.NudgeSnoozes)
	}
	// The first authenticator app may be set up from this session.
	if r := c.postForm("/my/security-info/totp", nil); r.status != http.StatusOK || secretRE.Find(r.body) == nil {
		t.Errorf("TOTP setup from a fresh password session: %d %.500s", r.status, r.body)
	}
}
