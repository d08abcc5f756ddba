package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/latchkey/latchkey/internal/api"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// jsonRoute is a route that reads a JSON body, with a well-formed body for it and a body that is
// well-formed JSON with a value of the wrong type.
type jsonRoute struct {
	pattern      string // the route as server.go registers it, naming the subtest
	method, path string
	session      bool     // sent with the admin's session
	bodyOptional bool     // an empty body is a valid request
	valid        string   // the shape of a real request, for the truncation and content-type cases
	wrongType    string   // "" when the route reads no fields: registration options accept any JSON
	wrongCode    string   // the code wrongType gets
	moreWrong    []string // further well-formed bodies refused as wrong_type
}

// TestBadJSONInput sends every JSON route malformed, truncated, mistyped, oversized and
// mislabelled bodies: each answer is a 4xx with the error JSON, and nothing is written.
func TestBadJSONInput(t *testing.T) {
	h := newHarness(t)
	admin, adminUser := h.signedInClient("admin@example.com", true)
	pk := admin.mustRegister(h.newDevice())
	target := h.createUser("bob@example.com", false)
	h.issueTAP(target.ID, signin.IssueOptions{})
	ctx := context.Background()
	tapBefore, err := h.store.FindAccessPassByUser(ctx, target.ID)
	if err != nil {
		t.Fatal(err)
	}
	usersBefore, err := h.store.CountUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}

	credential := `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}`
	routes := []jsonRoute{
		{pattern: "POST /api/v1/signin/tap", method: "POST", path: "/api/v1/signin/tap", valid: `{"username":"bob@example.com","tap":"abcdefgh"}`,
			wrongType: `{"username": 5, "tap": "abcdefgh"}`, wrongCode: "wrong_type"},
		{pattern: "POST /api/v1/webauthn/registration/options", method: "POST", path: "/api/v1/webauthn/registration/options", session: true, bodyOptional: true, valid: `{}`},
		{pattern: "POST /api/v1/webauthn/registration/verify", method: "POST", path: "/api/v1/webauthn/registration/verify", session: true, valid: credential,
			wrongType: `{"username": 5}`, wrongCode: "registration_invalid"},
		{pattern: "POST /api/v1/webauthn/authentication/options", method: "POST", path: "/api/v1/webauthn/authentication/options", bodyOptional: true, valid: `{"username":"admin@example.com"}`,
			wrongType: `{"username": 5}`, wrongCode: "wrong_type"},
		{pattern: "POST /api/v1/webauthn/authentication/verify", method: "POST", path: "/api/v1/webauthn/authentication/verify", valid: credential,
			wrongType: `{"username": 5}`, wrongCode: "assertion_invalid"},
		{pattern: "PATCH /api/v1/me/passkeys/{id}", method: "PATCH", path: "/api/v1/me/passkeys/" + pk.ID, session: true, valid: `{"displayName":"Renamed"}`,
			wrongType: `{"displayName": 5}`, wrongCode: "wrong_type"},
		{pattern: "POST /api/v1/users", method: "POST", path: "/api/v1/users", session: true, valid: `{"userPrincipalName":"carol@example.com"}`,
			wrongType: `{"userPrincipalName": 5}`, wrongCode: "wrong_type"},
		{pattern: "POST /api/v1/users/{id}/authentication/temporaryAccessPassMethods", method: "POST", path: "/api/v1/users/" + target.ID + "/authentication/temporaryAccessPassMethods", session: true, bodyOptional: true,
			valid: `{"lifetimeInMinutes":60}`, wrongType: `{"lifetimeInMinutes": "60"}`, wrongCode: "wrong_type",
			moreWrong: []string{`{"startDateTime": "yesterday"}`, `{"startDateTime": 5}`, `{"isUsableOnce": "true"}`, `{"lifetimeInMinutes": 1e20}`}},
	}
	routes = append(routes, caJSONRoutes(t, h)...)

	type badInput struct {
		name, contentType, body string
		status                  int
		code                    string
	}
	for _, rt := range routes {
		t.Run(rt.pattern, func(t *testing.T) {
			cases := []badInput{
				{"malformed", "application/json", `{"username": }`, 400, "malformed_json"},
				{"not JSON at all", "application/json", `username=bob`, 400, "malformed_json"},
				{"truncated", "application/json", rt.valid[:len(rt.valid)/2], 400, "malformed_json"},
				{"trailing data", "application/json", rt.valid + `{}`, 400, "malformed_json"},
				{"oversized", "application/json", `{"username":"` + strings.Repeat("a", httpedge.MaxBodyBytes) + `"}`, 413, "body_too_large"},
				{"text/plain", "text/plain", rt.valid, 415, "unsupported_media_type"},
				{"form", "application/x-www-form-urlencoded", "username=bob&tap=abcdefgh", 415, "unsupported_media_type"},
				{"multipart", "multipart/form-data; boundary=x", "--x--", 415, "unsupported_media_type"},
				{"no content type", "", rt.valid, 415, "unsupported_media_type"},
				{"JSON lookalike type", "application/jsonp", rt.valid, 415, "unsupported_media_type"},
			}
			if rt.wrongType != "" {
				// Well-formed JSON that is not the object the route reads.
				cases = append(cases,
					badInput{"wrong type", "application/json", rt.wrongType, 400, rt.wrongCode},
					badInput{"array", "application/json", `[]`, 400, ""},
					badInput{"string", "application/json", `"x"`, 400, ""},
					badInput{"number", "application/json", `5`, 400, ""})
			}
			for i, body := range rt.moreWrong {
				cases = append(cases, badInput{fmt.Sprintf("wrong type %d", i+2), "application/json", body, 400, "wrong_type"})
			}
			if !rt.bodyOptional {
				cases = append(cases,
					badInput{"empty body", "application/json", "", 400, "malformed_json"},
					badInput{"null", "application/json", "null", 400, ""},
					badInput{"empty object", "application/json", "{}", 400, ""})
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c := admin
					if !rt.session {
						c = h.newClient()
					}
					r := c.do(rt.method, rt.path, tc.contentType, strings.NewReader(tc.body))
					e := errorBody(t, r, tc.status, tc.code)
					if strings.Contains(e.Detail, "struct {") {
						t.Errorf("detail %q shows Go internals", e.Detail)
					}
					if !rt.session && c.sessionCookie() != nil {
						t.Error("a refused request left a session cookie")
					}
				})
			}
		})
	}

	// Nothing was written: no passkey, no user, no new pass, no rename, no session.
	if pks := h.passkeys(adminUser.ID); len(pks) != 1 || pks[0].Nickname != pk.Nickname {
		t.Errorf("admin's passkeys changed: %v", pks)
	}
	if n, _ := h.store.CountUsers(ctx); n != usersBefore {
		t.Errorf("%d users, want %d", n, usersBefore)
	}
	if ap, err := h.store.FindAccessPassByUser(ctx, target.ID); err != nil || ap.ID != tapBefore.ID {
		t.Errorf("bob's pass was replaced or removed (%v)", err)
	}
	if r := admin.get("/api/v1/me"); r.status != http.StatusOK {
		t.Errorf("the admin's session did not survive bad input: %d %s", r.status, r.body)
	}
}

// TestMalformedCredentials sends verify routes credentials that are JSON of the right shape but
// broken inside.
func TestMalformedCredentials(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)
	d := h.newDevice()
	good := d.attest(t, c.registrationOptions())
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	bodies := map[string]string{
		"no response":          `{"id":"AAAA","rawId":"AAAA","type":"public-key"}`,
		"empty response":       `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}`,
		"wrong type":           strings.Replace(good, `"type":"public-key"`, `"type":"password"`, 1),
		"id differs from raw":  strings.Replace(good, `"id":"`, `"id":"AAAA`, 1),
		"not base64":           `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"!!!","attestationObject":"!!!","authenticatorData":"!!!","signature":"!!!"}}`,
		"client data not JSON": `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"` + b64("nope") + `","attestationObject":"oA","authenticatorData":"AA","signature":"AA"}}`,
		"huge challenge": editClientData(t, good, func(cd map[string]any) {
			cd["challenge"] = strings.Repeat("A", 1000)
		}),
		"no challenge":               editClientData(t, good, func(cd map[string]any) { delete(cd, "challenge") }),
		"attestation object garbage": strings.Replace(good, `"attestationObject":"`, `"attestationObject":"AAAA`, 1),
	}
	for name, body := range bodies {
		t.Run("registration/"+name, func(t *testing.T) {
			checkErrorShape(t, c.post("/api/v1/webauthn/registration/verify", body), "")
		})
		t.Run("authentication/"+name, func(t *testing.T) {
			anon := h.newClient()
			checkErrorShape(t, anon.post("/api/v1/webauthn/authentication/verify", body), "")
			if anon.sessionCookie() != nil {
				t.Error("a refused sign-in set a session cookie")
			}
		})
	}
	if n := len(h.passkeys(u.ID)); n != 0 {
		t.Errorf("%d passkeys stored from malformed credentials", n)
	}
}

func TestUnknownChallenge(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)
	d := h.newDevice()

	// A well-signed registration for a challenge the server never issued.
	unknown := randomChallenge()
	opts := withOptionsChallenge(t, c.registrationOptions(), unknown)
	errorBody(t, c.post("/api/v1/webauthn/registration/verify", d.attest(t, opts)), http.StatusBadRequest, "challenge_not_found")
	if n := len(h.passkeys(u.ID)); n != 0 {
		t.Fatalf("%d passkeys stored for an unknown challenge", n)
	}

	// The same for a sign-in, with a registered passkey.
	c.mustRegister(d)
	anon := h.newClient()
	d.cred.Counter++
	assertion := d.assert(t, []byte(`{"publicKey":{"challenge":"`+unknown+`","rpId":"localhost"}}`))
	errorBody(t, anon.post("/api/v1/webauthn/authentication/verify", assertion), http.StatusBadRequest, "challenge_not_found")
	checkNoSession(t, anon)
}

// checkNoSession checks that c holds no session, in its jar or on the server.
func checkNoSession(t *testing.T, c *client) {
	t.Helper()
	if c.sessionCookie() != nil {
		t.Error("a refused request left a session cookie")
	}
	if r := c.get("/api/v1/me"); r.status != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me: %d, want 401", r.status)
	}
}

func TestExpiredChallenge(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)
	d := h.newDevice()

	opts := c.registrationOptions()
	h.clock.Advance(6 * time.Minute) // past the 5-minute ceremony timeout; the pass lasts an hour
	errorBody(t, c.post("/api/v1/webauthn/registration/verify", d.attest(t, opts)), http.StatusBadRequest, "challenge_not_found")
	if n := len(h.passkeys(u.ID)); n != 0 {
		t.Fatalf("%d passkeys stored for an expired challenge", n)
	}

	c.mustRegister(d)
	anon := h.newClient()
	opts = anon.authenticationOptions("")
	h.clock.Advance(6 * time.Minute)
	d.cred.Counter++
	errorBody(t, anon.post("/api/v1/webauthn/authentication/verify", d.assert(t, opts)), http.StatusBadRequest, "challenge_not_found")
	checkNoSession(t, anon)
}

func TestResponseForAnotherChallenge(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)
	d := h.newDevice()

	// Registration: answer the first options, then claim the second challenge; the signature
	// no longer covers the client data.
	first, second := c.registrationOptions(), c.registrationOptions()
	answer := d.attest(t, first)
	errorBody(t, c.post("/api/v1/webauthn/registration/verify", withChallenge(t, answer, challengeOf(t, second))), http.StatusBadRequest, "registration_invalid")
	if n := len(h.passkeys(u.ID)); n != 0 {
		t.Fatalf("%d passkeys stored from a tampered response", n)
	}
	// The untouched first ceremony still completes.
	if r := c.post("/api/v1/webauthn/registration/verify", answer); r.status != http.StatusOK {
		t.Fatalf("the first ceremony after a tampered second: %d %s", r.status, r.body)
	}

	// Sign-in: the same tampering.
	anon := h.newClient()
	first, second = anon.authenticationOptions(""), anon.authenticationOptions("")
	d.cred.Counter++
	errorBody(t, anon.post("/api/v1/webauthn/authentication/verify", withChallenge(t, d.assert(t, first), challengeOf(t, second))), http.StatusBadRequest, "assertion_invalid")
	checkNoSession(t, anon)

	// A sign-in challenge answered as a registration, and the reverse: sign-in challenges are
	// self-contained and never stored as registration challenges, and a registration challenge
	// does not carry a sign-in challenge's authentication, so each is unknown to the other.
	errorBody(t, c.post("/api/v1/webauthn/registration/verify", h.newDevice().attest(t, withOptionsChallenge(t, c.registrationOptions(), challengeOf(t, anon.authenticationOptions(""))))), http.StatusBadRequest, "challenge_not_found")
	d.cred.Counter++
	errorBody(t, anon.post("/api/v1/webauthn/authentication/verify", d.assert(t, withOptionsChallenge(t, anon.authenticationOptions(""), challengeOf(t, c.registrationOptions())))), http.StatusBadRequest, "challenge_not_found")
	checkNoSession(t, anon)

	// A registration challenge of alice's session answered in bob's.
	bob, bobUser := h.signedInClient("bob@example.com", false)
	errorBody(t, bob.post("/api/v1/webauthn/registration/verify", h.newDevice().attest(t, c.registrationOptions())), http.StatusBadRequest, "challenge_mismatch")
	if n := len(h.passkeys(bobUser.ID)); n != 0 {
		t.Errorf("bob has %d passkeys, want 0", n)
	}
	if n := len(h.passkeys(u.ID)); n != 1 {
		t.Errorf("alice has %d passkeys, want 1", n)
	}

	// A username-first sign-in for alice answered with bob's passkey.
	bobKey := h.newDevice()
	bob.mustRegister(bobKey)
	other := h.newClient()
	bobKey.cred.Counter++
	errorBody(t, other.post("/api/v1/webauthn/authentication/verify", bobKey.assert(t, withOptionsChallenge(t, other.authenticationOptions("bob@example.com"), challengeOf(t, other.authenticationOptions("alice@example.com"))))),
		http.StatusUnauthorized, "passkey_not_for_user")
	checkNoSession(t, other)
}

// withOptionsChallenge returns options with their challenge replaced, for an authenticator to
// answer a challenge that was issued elsewhere.
func withOptionsChallenge(t *testing.T, options []byte, challenge string) []byte {
	t.Helper()
	old := challengeOf(t, options)
	return []byte(strings.Replace(string(options), `"challenge":"`+old+`"`, `"challenge":"`+challenge+`"`, 1))
}

func TestReplayedResponses(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)
	d := h.newDevice()

	answer := d.attest(t, c.registrationOptions())
	if r := c.post("/api/v1/webauthn/registration/verify", answer); r.status != http.StatusOK {
		t.Fatalf("registration: %d %s", r.status, r.body)
	}
	errorBody(t, c.post("/api/v1/webauthn/registration/verify", answer), http.StatusBadRequest, "challenge_not_found")
	if n := len(h.passkeys(u.ID)); n != 1 {
		t.Errorf("%d passkeys after a replayed registration, want 1", n)
	}

	first := h.newClient()
	d.cred.Counter++
	assertion := d.assert(t, first.authenticationOptions(""))
	checkPasskeySignIn(t, first.post("/api/v1/webauthn/authentication/verify", assertion), u)
	thief := h.newClient()
	errorBody(t, thief.post("/api/v1/webauthn/authentication/verify", assertion), http.StatusBadRequest, "challenge_not_found")
	checkNoSession(t, thief)
}

func TestWrongOrigin(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)

	phished := h.newDevice()
	phished.rp.Origin = "https://evil.example"
	errorBody(t, c.register(phished), http.StatusBadRequest, "origin_mismatch")
	otherRP := h.newDevice()
	otherRP.rp.ID = "evil.example"
	errorBody(t, c.register(otherRP), http.StatusBadRequest, "origin_mismatch")
	if n := len(h.passkeys(u.ID)); n != 0 {
		t.Fatalf("%d passkeys stored from another origin", n)
	}

	d := h.newDevice()
	c.mustRegister(d)
	for name, edit := range map[string]func(*authenticator){
		"origin": func(d *authenticator) { d.rp.Origin = "https://evil.example" },
		"RP ID":  func(d *authenticator) { d.rp.ID = "evil.example" },
	} {
		t.Run(name, func(t *testing.T) {
			wrong := *d
			edit(&wrong)
			anon := h.newClient()
			wrong.cred.Counter = d.cred.Counter + 1
			errorBody(t, anon.signIn(&wrong, ""), http.StatusBadRequest, "origin_mismatch")
			checkNoSession(t, anon)
		})
	}
}

func TestTAPRefusals(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice := h.createUser("alice@example.com", false)

	t.Run("expired", func(t *testing.T) {
		pass := h.issueTAP(alice.ID, signin.IssueOptions{LifetimeMinutes: 60})
		h.clock.Advance(61 * time.Minute)
		c := h.newClient()
		errorBody(t, c.signInTAP("alice@example.com", pass), http.StatusUnauthorized, "tap_expired")
		checkNoSession(t, c)
	})

	t.Run("not yet valid", func(t *testing.T) {
		pass := h.issueTAP(alice.ID, signin.IssueOptions{StartAt: h.clock.Now().Add(time.Hour)})
		c := h.newClient()
		errorBody(t, c.signInTAP("alice@example.com", pass), http.StatusUnauthorized, "tap_not_yet_valid")
		checkNoSession(t, c)
	})

	t.Run("one-time used", func(t *testing.T) {
		pass := h.issueTAP(alice.ID, signin.IssueOptions{OneTime: true})
		h.newClient().mustSignInTAP("alice@example.com", pass)
		c := h.newClient()
		errorBody(t, c.signInTAP("alice@example.com", pass), http.StatusUnauthorized, "tap_used")
		checkNoSession(t, c)
	})

	t.Run("guessed", func(t *testing.T) {
		h.issueTAP(alice.ID, signin.IssueOptions{})
		c := h.newClient()
		wrong := errorBody(t, c.signInTAP("alice@example.com", "ABCDEFGH"), http.StatusUnauthorized, "tap_invalid")
		checkNoSession(t, c)
		// An unknown user gets the very same answer, so that it tells nobody who has an account.
		unknown := errorBody(t, c.signInTAP("nobody@example.com", "ABCDEFGH"), http.StatusUnauthorized, "tap_invalid")
		if unknown.Message != wrong.Message || unknown.Detail != wrong.Detail {
			t.Errorf("an unknown user is told apart: %+v vs %+v", unknown, wrong)
		}
		errorBody(t, c.signInTAP(" ", "ABCDEFGH"), http.StatusBadRequest, "missing_field")
		errorBody(t, c.signInTAP("alice@example.com", strings.Repeat("A", 49)), http.StatusUnauthorized, "tap_invalid")
	})

	t.Run("throttled", func(t *testing.T) {
		pass := h.issueTAP(alice.ID, signin.IssueOptions{}) // a new pass clears the user's count
		c := h.newClientAt("127.0.0.2")                     // an address with no guesses yet
		for i := 0; i < 5; i++ {
			errorBody(t, c.signInTAP("alice@example.com", "WRONGPASS"), http.StatusUnauthorized, "tap_invalid")
		}
		// Now even the right pass must wait.
		e := errorBody(t, c.signInTAP("alice@example.com", pass), http.StatusTooManyRequests, "too_many_attempts")
		if !strings.Contains(e.Message, "Wait") {
			t.Errorf("message %q does not tell the person to wait", e.Message)
		}
		checkNoSession(t, c)
		for _, key := range []string{"tap:user:" + alice.ID, "tap:name-ip:alice@example.com|127.0.0.2"} {
			th, err := h.store.FindThrottle(ctx, key)
			if err != nil || th.Failures != 5 {
				t.Errorf("throttle %+v (%v), want 5 failures: the refused attempt is not counted", th, err)
			}
		}

		h.clock.Advance(2 * time.Second)
		c.mustSignInTAP("alice@example.com", pass)
		if th, _ := h.store.FindThrottle(ctx, "tap:user:"+alice.ID); th.Failures != 0 {
			t.Errorf("a successful sign-in left %d failures", th.Failures)
		}
	})

	t.Run("disabled account", func(t *testing.T) {
		pass := h.issueTAP(alice.ID, signin.IssueOptions{})
		if _, err := h.store.UpdateUser(ctx, alice.ID, func(u *latchkey.User) error { u.Enabled = false; return nil }); err != nil {
			t.Fatal(err)
		}
		c := h.newClient()
		errorBody(t, c.signInTAP("alice@example.com", pass), http.StatusForbidden, "account_disabled")
		checkNoSession(t, c)
	})
}

func TestCrossOriginRequestsRefused(t *testing.T) {
	h := newHarness(t)
	alice := h.createUser("alice@example.com", false)
	pass := h.issueTAP(alice.ID, signin.IssueOptions{})
	body := `{"username":"alice@example.com","tap":"` + pass + `"}`

	for name, header := range map[string][]string{
		"Origin":         {"Origin", "https://evil.example"},
		"Sec-Fetch-Site": {"Sec-Fetch-Site", "cross-site"},
		"both":           {"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
		"null Origin":    {"Origin", "null"},
	} {
		t.Run(name, func(t *testing.T) {
			c := h.newClient()
			errorBody(t, c.do(http.MethodPost, "/api/v1/signin/tap", "application/json", strings.NewReader(body), header...), http.StatusForbidden, "cross_origin_request")
			checkNoSession(t, c)
			// A form post elsewhere is refused too, with the error page.
			r := c.do(http.MethodPost, "/signin/tap", "application/x-www-form-urlencoded", strings.NewReader("username=alice%40example.com&tap="+pass), header...)
			if r.status != http.StatusForbidden {
				t.Errorf("cross-site form post: %d, want 403", r.status)
			}
			checkNoSession(t, c)
		})
	}

	// A signed-in browser tricked into a cross-site call registers nothing.
	c := h.newClient()
	c.mustSignInTAP("alice@example.com", pass)
	errorBody(t, c.do(http.MethodPost, "/api/v1/webauthn/registration/options", "", nil, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "cross_origin_request")
	errorBody(t, c.do(http.MethodPost, "/api/v1/signout", "", nil, "Origin", "https://evil.example"), http.StatusForbidden, "cross_origin_request")
	if r := c.get("/api/v1/me"); r.status != http.StatusOK {
		t.Errorf("a refused cross-site sign-out ended the session: %d", r.status)
	}
	// Same-origin browser requests pass.
	if r := c.do(http.MethodPost, "/api/v1/webauthn/registration/options", "", nil, "Sec-Fetch-Site", "same-origin"); r.status != http.StatusOK {
		t.Errorf("same-origin request: %d %s", r.status, r.body)
	}
}

func TestAuthenticatorFlagsRefused(t *testing.T) {
	h := newHarness(t)
	c, u := h.signedInClient("alice@example.com", false)

	unverified := h.newDeviceWith(virtualwebauthn.AuthenticatorOptions{UserNotVerified: true})
	errorBody(t, c.register(unverified), http.StatusBadRequest, "user_verification_required")
	absent := h.newDeviceWith(virtualwebauthn.AuthenticatorOptions{UserNotPresent: true})
	errorBody(t, c.register(absent), http.StatusBadRequest, "registration_invalid")
	backedUpButNotEligible := h.newDeviceWith(virtualwebauthn.AuthenticatorOptions{BackupState: true})
	errorBody(t, c.register(backedUpButNotEligible), http.StatusBadRequest, "registration_invalid")
	if n := len(h.passkeys(u.ID)); n != 0 {
		t.Fatalf("%d passkeys stored from refused registrations", n)
	}

	d := h.newDevice()
	c.mustRegister(d)
	for name, tc := range map[string]struct {
		o          virtualwebauthn.AuthenticatorOptions
		keepHandle bool // answer with the user handle given at registration
		code       string
	}{
		"not verified":        {virtualwebauthn.AuthenticatorOptions{UserNotVerified: true}, true, "user_verification_required"},
		"not present":         {virtualwebauthn.AuthenticatorOptions{UserNotPresent: true}, true, "assertion_invalid"},
		"backup eligibility":  {virtualwebauthn.AuthenticatorOptions{BackupEligible: true, BackupState: true}, true, "assertion_invalid"},
		"BS without BE":       {virtualwebauthn.AuthenticatorOptions{BackupState: true}, true, "assertion_invalid"},
		"no user handle":      {virtualwebauthn.AuthenticatorOptions{}, false, "assertion_invalid"},
		"another user handle": {virtualwebauthn.AuthenticatorOptions{UserHandle: []byte("0123456789abcdef")}, false, "user_handle_mismatch"},
	} {
		t.Run(name, func(t *testing.T) {
			changed := *d
			changed.auth.Options = tc.o
			if tc.keepHandle {
				changed.auth.Options.UserHandle = d.auth.Options.UserHandle
			}
			changed.cred.Counter = d.cred.Counter + 10
			anon := h.newClient()
			checkErrorShape(t, anon.signIn(&changed, ""), tc.code)
			checkNoSession(t, anon)
		})
	}
	if pk := h.passkeys(u.ID)[0]; pk.SignCount != 0 || pk.LastUsedAt != nil {
		t.Errorf("refused sign-ins moved the passkey's sign count to %d", pk.SignCount)
	}
}

// TestAPIWrongMethod: an API address used with a method it does not take answers 405 with the
// methods it does take; an address that does not exist answers 404.
func TestAPIWrongMethod(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("wrongmethod@example.com", true)
	for _, tc := range []struct {
		method, path, allow string
	}{
		{"DELETE", "/api/v1/me", "GET"},
		{"PUT", "/api/v1/users", "GET, POST"},
		{"GET", "/api/v1/signin/tap", "POST"},
	} {
		r := admin.do(tc.method, tc.path, "", nil)
		errorBody(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
		if got := r.header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
	errorBody(t, admin.do("GET", "/api/v1/nothing-here", "", nil), http.StatusNotFound, "not_found")
}

// storedState is everything a create or rename could have written, for checking that a refusal
// wrote nothing.
func storedState(t *testing.T, h *harness, userID string) string {
	t.Helper()
	ctx := context.Background()
	users, err := h.store.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := h.store.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cls, err := h.store.ListClients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := h.svc.ConditionalAccess(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := h.svc.MethodsPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{"users": users, "groups": groups, "apps": cls, "ca": ca, "methods": mp, "passkeys": h.passkeys(userID)})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// nameRoute is an API route that creates or renames something, with a body that gives the
// thing the name in its JSON (a quoted JSON string, or raw bytes that are not).
type nameRoute struct {
	method, path string
	body         func(name string) string
	nameCode     string // the code of a refused name
	fieldCode    string // the code of an unknown field
}

// TestGarbageIsNotStored sends the literal garbage of the hardening issue (NUL, CR/LF, a
// zero-width space, a right-to-left override, invalid UTF-8 bytes, an escaped lone surrogate, a
// 60,000-character name, an unknown field, a null body, 9,000-level nesting) to every route of
// Latchkey's own API that creates or renames something: each is a 400 with the error JSON, and
// nothing is stored. Duplicate names are a 409; ids that name nothing, well-formed or not, a 404.
func TestGarbageIsNotStored(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, adminUser := h.signedInClient("admin@example.com", true)
	pk := admin.mustRegister(h.newDevice())
	pol, _, err := h.policies.CreateCAPolicy(ctx, latchkey.SystemActor, policy.ConditionalAccessPolicy{Name: "Block everyone off", State: policy.CAStateDisabled,
		Users: policy.Users{IncludeUsers: []string{policy.All}}, Applications: policy.Applications{IncludeApplications: []string{policy.All}},
		Grant: policy.Grant{Block: true}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := h.policies.CreateCAPolicy(ctx, latchkey.SystemActor, policy.ConditionalAccessPolicy{Name: "Second", State: policy.CAStateDisabled,
		Users: policy.Users{IncludeUsers: []string{policy.All}}, Applications: policy.Applications{IncludeApplications: []string{policy.All}},
		Grant: policy.Grant{Block: true}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := h.policies.CreateStrength(ctx, latchkey.SystemActor, policy.Strength{Name: "Passkey only", AllowedCombinations: []string{"passkey"}})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := h.policies.CreateNamedLocation(ctx, latchkey.SystemActor, policy.NamedLocation{Name: "Office", CIDRs: []string{"203.0.113.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := admin.post("/api/v1/applications", map[string]any{"name": "Intranet", "redirectUris": []string{"https://intranet.example/cb"}}); r.status != http.StatusCreated {
		t.Fatalf("create application: %d %s", r.status, r.body)
	}

	caPolicy := func(name string) string {
		return `{"displayName":` + name + `,"state":"disabled","users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"grantControls":{"block":true}}`
	}
	profile := func(name string) string {
		return `{"passkey":{"passkeyProfiles":[{"id":"default","name":` + name + `,"targetGroupIds":[],"passkeyTypes":"both","attestationEnforcement":"disabled","keyRestrictions":{"isEnforced":false,"enforcementType":"block","aaGuids":[]}}],"defaultPasskeyProfileId":"default"}}`
	}
	routes := []nameRoute{
		{"POST", "/api/v1/users", func(n string) string { return `{"userPrincipalName":` + n + `}` }, "invalid_user", "unknown_field"},
		{"POST", "/api/v1/users", func(n string) string { return `{"userPrincipalName":"named@example.com","displayName":` + n + `}` }, "invalid_name", "unknown_field"},
		{"PATCH", "/api/v1/me/passkeys/" + pk.ID, func(n string) string { return `{"displayName":` + n + `}` }, "invalid_name", "unknown_field"},
		{"POST", api.CAPath + "/policies", caPolicy, "invalid_name", "invalid_policy"},
		{"PUT", api.CAPath + "/policies/" + pol.ID, caPolicy, "invalid_name", "invalid_policy"},
		{"POST", api.CAPath + "/authenticationStrength/policies", func(n string) string { return `{"displayName":` + n + `,"allowedCombinations":["passkey"]}` }, "invalid_name", "invalid_policy"},
		{"PUT", api.CAPath + "/authenticationStrength/policies/" + st.ID, func(n string) string { return `{"displayName":` + n + `,"allowedCombinations":["passkey"]}` }, "invalid_name", "invalid_policy"},
		{"POST", api.CAPath + "/namedLocations", func(n string) string { return `{"displayName":` + n + `,"ipRanges":["192.0.2.0/24"]}` }, "invalid_name", "invalid_policy"},
		{"PUT", api.CAPath + "/namedLocations/" + loc.ID, func(n string) string { return `{"displayName":` + n + `,"ipRanges":["192.0.2.0/24"]}` }, "invalid_name", "invalid_policy"},
		{"POST", "/api/v1/applications", func(n string) string { return `{"name":` + n + `,"redirectUris":["https://a.example/cb"]}` }, "invalid_name", "unknown_field"},
		{"PUT", "/api/v1/policies/authenticationMethods", profile, "invalid_name", "invalid_policy"},
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	garbage := []struct {
		name, json string // json: the name as it appears in the body
		code       string // "" for the route's nameCode
	}{
		{"NUL", q("a\x00b@example.com"), ""},
		{"CRLF", q("a\r\nb@example.com"), ""},
		{"zero-width space", q("a\u200bb@example.com"), ""},
		{"right-to-left override", q("a\u202eb@example.com"), ""},
		{"invalid UTF-8 bytes", "\"a\xff\xfeb@example.com\"", "malformed_json"},
		{"escaped lone surrogate", `"a\ud800b@example.com"`, ""},
		{"60,000 characters", q(strings.Repeat("n", 60000)), ""},
		{"trailing space", q("ab@example.com "), ""},
	}
	for i, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			// The route's body is right: a good name is not what is refused.
			if r := admin.do(rt.method, rt.path, "application/json", strings.NewReader(rt.body(q(fmt.Sprintf("Fine-name-%d@example.com", i))))); r.status >= 300 {
				t.Fatalf("a good name: %d %s", r.status, r.body)
			}
			state := storedState(t, h, adminUser.ID)
			for _, g := range garbage {
				code := g.code
				if code == "" {
					code = rt.nameCode
				}
				t.Run(g.name, func(t *testing.T) {
					e := errorBody(t, admin.do(rt.method, rt.path, "application/json", strings.NewReader(rt.body(g.json))), http.StatusBadRequest, code)
					if len(e.Detail) > 400 {
						t.Errorf("a detail of %d bytes repeats the input", len(e.Detail))
					}
				})
			}
			good := rt.body(q(fmt.Sprintf("Other-name-%d@example.com", i)))
			for name, tc := range map[string]struct{ body, code string }{
				"unknown field": {strings.Replace(good, "{", `{"colour":"red",`, 1), rt.fieldCode},
				"null body":     {"null", "wrong_type"},
				"array body":    {"[" + good + "]", "wrong_type"},
				"9,000 levels":  {`{"x":` + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + "}", "json_too_deep"},
			} {
				t.Run(name, func(t *testing.T) {
					errorBody(t, admin.do(rt.method, rt.path, "application/json", strings.NewReader(tc.body)), http.StatusBadRequest, tc.code)
				})
			}
			if after := storedState(t, h, adminUser.ID); after != state {
				t.Errorf("a refused request changed what is stored")
			}
		})
	}

	// Duplicate names, in another case, are a 409 on create and on rename; nothing is stored.
	// (The strength and location the routes above created are named Fine-name-5 and -7.)
	state := storedState(t, h, adminUser.ID)
	for _, tc := range []struct {
		method, path, body, code string
	}{
		{"POST", api.CAPath + "/policies", caPolicy(q("SECOND")), "policy_exists"},
		{"PUT", api.CAPath + "/policies/" + pol.ID, caPolicy(q("second")), "policy_exists"},
		{"POST", api.CAPath + "/authenticationStrength/policies", `{"displayName":"FINE-NAME-5@EXAMPLE.COM","allowedCombinations":["passkey"]}`, "strength_exists"},
		{"POST", api.CAPath + "/namedLocations", `{"displayName":"fine-name-7@example.com","ipRanges":["192.0.2.0/24"]}`, "location_exists"},
		{"POST", "/api/v1/applications", `{"name":"INTRANET","redirectUris":["https://b.example/cb"]}`, "app_exists"},
		{"POST", "/api/v1/users", `{"userPrincipalName":"ADMIN@example.com"}`, "user_exists"},
		{"PUT", "/api/v1/policies/authenticationMethods", `{"passkey":{"passkeyProfiles":[` +
			`{"id":"a","name":"Keys","passkeyTypes":"both","attestationEnforcement":"disabled"},` +
			`{"id":"b","name":"KEYS","passkeyTypes":"both","attestationEnforcement":"disabled"}],"defaultPasskeyProfileId":"a"}}`, "profile_exists"},
	} {
		errorBody(t, admin.do(tc.method, tc.path, "application/json", strings.NewReader(tc.body)), http.StatusConflict, tc.code)
	}
	if after := storedState(t, h, adminUser.ID); after != state {
		t.Errorf("a refused duplicate changed what is stored")
	}
	if got, _ := h.policies.FindCAPolicy(ctx, latchkey.SystemActor, other.ID); got.Name != "Second" {
		t.Errorf("policy %s is now named %q", other.ID, got.Name)
	}

	// Ids that name nothing, well-formed or not, are a 404 on every route that takes one.
	for _, id := range []string{latchkey.NewID(), "not-an-id", "%00", "%FF", "a%20b", "%E2%80%AE"} {
		for _, tc := range []struct{ method, path, body string }{
			{"GET", "/api/v1/users/" + id, ""},
			{"GET", "/api/v1/users/" + id + "/authentication/fido2Methods", ""},
			{"POST", "/api/v1/users/" + id + "/authentication/temporaryAccessPassMethods", "{}"},
			{"PATCH", "/api/v1/me/passkeys/" + id, `{"displayName":"x"}`},
			{"DELETE", "/api/v1/me/passkeys/" + id, ""},
			{"GET", api.CAPath + "/policies/" + id, ""},
			{"PUT", api.CAPath + "/policies/" + id, caPolicy(q("Fresh"))},
			{"PATCH", api.CAPath + "/policies/" + id, `{"state":"disabled"}`},
			{"DELETE", api.CAPath + "/policies/" + id, ""},
			{"PUT", api.CAPath + "/authenticationStrength/policies/" + id, `{"displayName":"Fresh","allowedCombinations":["passkey"]}`},
			{"DELETE", api.CAPath + "/authenticationStrength/policies/" + id, ""},
			{"PUT", api.CAPath + "/namedLocations/" + id, `{"displayName":"Fresh","ipRanges":["192.0.2.0/24"]}`},
			{"DELETE", api.CAPath + "/namedLocations/" + id, ""},
			{"DELETE", "/api/v1/applications/" + id, ""},
		} {
			ct := ""
			if tc.body != "" {
				ct = "application/json"
			}
			r := admin.do(tc.method, tc.path, ct, strings.NewReader(tc.body))
			if r.status != http.StatusNotFound {
				t.Errorf("%s %s: %d %s, want 404", tc.method, tc.path, r.status, r.body)
				continue
			}
			checkErrorShape(t, r, "")
		}
	}
	if after := storedState(t, h, adminUser.ID); after != state {
		t.Errorf("a request for an unknown id changed what is stored")
	}
	if len(h.errors.since(0)) > 0 {
		t.Errorf("the server logged errors: %q", h.errors.since(0))
	}
}

// TestFormRefusesUnofferedValues posts forms with a select, radio or checkbox value the page does
// not offer: each is a 400 page with invalid_choice, not stored as a default. Page addresses with
// ids that name nothing are a 404 page.
func TestFormRefusesUnofferedValues(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, adminUser := h.signedInClient("admin@example.com", true)
	pol, _, err := h.policies.CreateCAPolicy(ctx, latchkey.SystemActor, policy.ConditionalAccessPolicy{Name: "Off", State: policy.CAStateDisabled,
		Users: policy.Users{IncludeUsers: []string{policy.All}}, Applications: policy.Applications{IncludeApplications: []string{policy.All}},
		Grant: policy.Grant{Block: true}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := h.policies.CreateNamedLocation(ctx, latchkey.SystemActor, policy.NamedLocation{Name: "Office", CIDRs: []string{"203.0.113.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	bob := h.createUser("bob@example.com", false)
	methods := url.Values{"passkeyState": {"enabled"}, "tapState": {"enabled"}, "selfService": {"yes"}, "userVerification": {"yes"},
		"tapDefaultLifetime": {"60"}, "tapMinLifetime": {"60"}, "tapMaxLifetime": {"480"}, "tapLength": {"8"}}
	with := func(v url.Values, k string, vs ...string) url.Values {
		out := url.Values{}
		for kk, vv := range v {
			out[kk] = vv
		}
		out[k] = vs
		return out
	}
	caForm := url.Values{"name": {"New"}, "state": {"disabled"}, "users": {"all"}, "target": {"all"}, "grant": {"block"}}
	state := storedState(t, h, adminUser.ID)
	for _, tc := range []struct {
		name, path string
		form       url.Values
	}{
		{"user: admin checkbox says true", "/admin/users", url.Values{"upn": {"carol@example.com"}, "globalAdmin": {"true"}}},
		{"user: empty type", "/admin/users", url.Values{"upn": {"carol@example.com"}, "userType": {""}}},
		{"pass: one-time says 1", "/admin/users/" + bob.ID + "/tap", url.Values{"oneTime": {"1"}}},
		{"methods: self-service says no", "/admin/policy/methods", with(methods, "selfService", "no")},
		{"methods: two states", "/admin/policy/methods", with(methods, "passkeyState", "enabled", "disabled")},
		{"methods: user verification says off", "/admin/policy/methods", with(methods, "userVerification", "off")},
		{"profile: attestation says always", "/admin/policy/profiles", url.Values{"name": {"Keys"}, "passkeyTypes": {"both"}, "attestation": {"always"}}},
		{"profile: default says true", "/admin/policy/profiles", url.Values{"name": {"Keys"}, "passkeyTypes": {"both"}, "default": {"true"}}},
		{"legacy: campaign says on", "/admin/policy/legacy", url.Values{"passwordState": {"disabled"}, "totpState": {"disabled"}, "passwordMinLength": {"15"},
			"snoozesAllowed": {"3"}, "campaign": {"on"}}},
		{"CA: target everything", "/admin/ca", with(caForm, "target", "everything")},
		{"CA: users nobody", "/admin/ca", with(caForm, "users", "nobody")},
		{"CA: grant maybe", "/admin/ca", with(caForm, "grant", "maybe")},
		{"CA: guests checkbox says true", "/admin/ca", with(caForm, "includeGuests", "true")},
		{"CA: state on", "/admin/ca/" + pol.ID + "/state", url.Values{"state": {"on"}}},
		{"strength: attestation says true", "/admin/strengths", url.Values{"name": {"Keys"}, "combinations": {"passkey"}, "attestationRequired": {"true"}}},
		{"location: trusted says 1", "/admin/locations", url.Values{"name": {"Home"}, "ranges": {"192.0.2.0/24"}, "trusted": {"1"}}},
		{"location edit: trusted says no", "/admin/locations/" + loc.ID, url.Values{"name": {"Office"}, "ranges": {"203.0.113.0/24"}, "trusted": {"no"}}},
		{"app: public says true", "/admin/apps", url.Values{"name": {"Wiki"}, "redirectUris": {"https://wiki.example/cb"}, "public": {"true"}}},
		{"token: expires in 7 days", "/admin/tokens", url.Values{"name": {"CI"}, "scopes": {latchkey.ScopeUserReadAll}, "expires": {"7"}}},
		{"token: a scope not offered", "/admin/tokens", url.Values{"name": {"CI"}, "scopes": {"Directory.ReadWrite.All"}, "expires": {"90"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := admin.postForm(tc.path, tc.form)
			if r.status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", r.status)
			}
			checkErrorPage(t, r, "invalid_choice")
		})
	}
	if after := storedState(t, h, adminUser.ID); after != state {
		t.Errorf("a refused form changed what is stored")
	}

	for _, id := range []string{latchkey.NewID(), "not-an-id", "%00", "%FF"} {
		for _, path := range []string{"/admin/users/" + id, "/admin/ca/" + id} {
			if r := admin.get(path); r.status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, r.status)
			} else {
				checkErrorPage(t, r, "")
			}
		}
		for _, tc := range []struct {
			path string
			form url.Values
		}{
			{"/admin/users/" + id + "/tap", nil},
			{"/admin/ca/" + id, caForm},
			{"/admin/ca/" + id + "/state", url.Values{"state": {"disabled"}}},
			{"/admin/ca/" + id + "/delete", nil},
			{"/admin/strengths/" + id + "/delete", nil},
			{"/admin/locations/" + id, url.Values{"name": {"Office 2"}, "ranges": {"203.0.113.0/24"}}},
			{"/admin/locations/" + id + "/delete", nil},
			{"/admin/apps/" + id + "/delete", nil},
			{"/admin/tokens/" + id + "/revoke", nil},
			{"/admin/policy/profiles/" + id, url.Values{"name": {"X"}, "passkeyTypes": {"both"}}},
			{"/admin/policy/profiles/" + id + "/delete", nil},
			{"/my/security-info/passkeys/" + id + "/rename", url.Values{"name": {"X"}}},
			{"/my/security-info/passkeys/" + id + "/remove", nil},
		} {
			r := admin.postForm(tc.path, tc.form)
			if r.status != http.StatusNotFound {
				t.Errorf("POST %s: %d, want 404", tc.path, r.status)
				continue
			}
			checkErrorPage(t, r, "")
		}
	}
	if after := storedState(t, h, adminUser.ID); after != state {
		t.Errorf("a form for an unknown id changed what is stored")
	}
}
