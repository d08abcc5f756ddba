package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/latchkey/latchkey/internal/api"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/web"
)

// The fuzz targets below send every input through the real handler (Server.Handler, with its
// middleware) of one harness built per target on the *testing.F. Inputs are served in-process
// with httptest.ResponseRecorder, so a fuzz call costs no round trip, and nothing inside a fuzz
// call touches the harness's F (whose Fatal/Helper panic there). Each call checks: no panic and
// no status of 500 or more (the middleware turns a panic into a logged 500), no error logged by
// the server, and a 4xx is the error JSON with all four fields filled (API) or an error page
// with #page-error, its data-code and the correlation id (pages).
//
// Without -fuzz, the seeds run as ordinary tests. Run one fuzzer with, for example:
//
//	go test -run XXX -fuzz '^FuzzTAPSignIn$' -fuzztime 30s -fuzzminimizetime 3s ./internal/server/
//
// (-fuzzminimizetime bounds the minimizing of each new interesting input, which otherwise stalls
// the slower targets for up to a minute at a time, showing "0/sec".) Inputs that name a real user
// and a pass cost an argon2 hash each (about 20-40 ms), unknown users included: the service hashes
// for them too, so that timing tells nothing.

// fuzzServer is a harness driven in-process.
type fuzzServer struct {
	h       *harness
	handler http.Handler
	ips     atomic.Uint64
}

func newFuzzServer(f *testing.F) *fuzzServer {
	h := newHarness(f)
	return &fuzzServer{h: h, handler: h.srv.Handler()}
}

// request builds a same-origin request as a browser's fetch or form post sends it.
func (fs *fuzzServer) request(method, path, contentType string, body []byte, cookies ...*http.Cookie) *http.Request {
	req := httptest.NewRequest(method, fs.h.origin+path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Origin", fs.h.origin)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return req
}

// freshAddress gives req an address of its own, so that the per-address TAP throttle (20 free
// failures) does not end up answering every input with 429 before it reaches the user look-up.
func (fs *fuzzServer) freshAddress(req *http.Request) {
	n := fs.ips.Add(1)
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", byte(n>>16), byte(n>>8), byte(n))
}

// serve runs req through the handler and fails the input on a panic, a 5xx or a logged error.
func (fs *fuzzServer) serve(t *testing.T, req *http.Request) *response {
	t.Helper()
	logged := fs.h.errors.count()
	rec := httptest.NewRecorder()
	fs.handler.ServeHTTP(rec, req)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	r := &response{status: res.StatusCode, header: res.Header, body: body, resp: res}
	if records := fs.h.errors.since(logged); len(records) > 0 {
		t.Errorf("%s %s: the server logged an error: %q", req.Method, req.URL.Path, records)
	}
	if r.status >= 500 {
		t.Fatalf("%s %s: status %d: %.2000s", req.Method, req.URL.Path, r.status, r.body)
	}
	return r
}

// serveAPI serves an API request and checks that a refusal is the error JSON.
func (fs *fuzzServer) serveAPI(t *testing.T, req *http.Request) *response {
	t.Helper()
	r := fs.serve(t, req)
	if r.status >= 400 {
		checkErrorShape(t, r, "")
	}
	return r
}

// servePage serves a form post and checks that a refusal is an error page, a path that no page
// route matches included (testdata/fuzz/FuzzAdminForms: /admin/users/%2F/tap).
func (fs *fuzzServer) servePage(t *testing.T, req *http.Request) *response {
	t.Helper()
	r := fs.serve(t, req)
	if r.status >= 400 {
		checkErrorPage(t, r, "")
	}
	return r
}

// sessionOf returns the session cookie c holds.
func sessionOf(f *testing.F, c *client) *http.Cookie {
	f.Helper()
	ck := c.sessionCookie()
	if ck == nil {
		f.Fatal("the client holds no session")
	}
	return &http.Cookie{Name: httpedge.SessionCookie, Value: ck.Value}
}

// count and since let a fuzz call see what the server logged while serving it.
func (l *errorLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.records)
}

func (l *errorLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.records[n:]...)
}

// addAll adds each body as a seed.
func addAll(f *testing.F, bodies ...string) {
	for _, b := range bodies {
		f.Add([]byte(b))
	}
}

// brokenJSON are bodies that are not the JSON object a route reads (routes whose body is
// optional accept the empty one, and those that decode into a struct accept null).
var brokenJSON = []string{
	"", "null", "[]", `"x"`, "5", "{", `{"username": }`, "{}{}", "\xff\xfe", `{"a":` + strings.Repeat("[", 10000),
}

func FuzzTAPSignIn(f *testing.F) {
	fs := newFuzzServer(f)
	alice := fs.h.createUser("alice@example.com", false)
	pass := fs.h.issueTAP(alice.ID, signin.IssueOptions{LifetimeMinutes: 480})
	fs.h.createUser("bob@example.com", false) // a user without a pass

	// Valid first, so that the per-user throttle has not started when it runs.
	addAll(f,
		`{"username":"alice@example.com","tap":"`+pass+`"}`,
		`{"username":" ALICE@example.com ","tap":" `+pass+` "}`,
		`{"tap":"`+pass+`","username":"alice@example.com","extra":[1,2,{"x":null}]}`,
		`{"username":"alice@example.com","tap":"WRONGPASS"}`,
		`{"username":"bob@example.com","tap":"ABCDEFGH"}`,
		`{"username":"nobody@example.com","tap":"ABCDEFGH"}`,
		`{"username":"alice@example.com","tap":"`+strings.Repeat("A", 49)+`"}`,
		`{"username":"`+strings.Repeat("a", 255)+`","tap":"ABCDEFGH"}`,
		`{"username":"","tap":""}`,
		`{"username":"alice\u0000@example.com","tap":"\ud800"}`,
		`{"username":5,"tap":"ABCDEFGH"}`,
		`{"username":"alice@example.com","tap":null}`,
		`{"username":"alice@example.com","tap":"`+pass[:4],
	)
	addAll(f, brokenJSON...)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := fs.request(http.MethodPost, "/api/v1/signin/tap", "application/json", body)
		fs.freshAddress(req)
		r := fs.serveAPI(t, req)
		if r.status == http.StatusOK && !hasCookie(r, httpedge.SessionCookie) {
			t.Errorf("a TAP sign-in answered 200 without a session cookie: %s", r.body)
		}
	})
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func hasCookie(r *response, name string) bool {
	for _, ck := range r.resp.Cookies() {
		if ck.Name == name && ck.Value != "" {
			return true
		}
	}
	return false
}

// credentialSeeds returns a real WebAuthn response and broken variants of it.
func credentialSeeds(f *testing.F, good string) []string {
	b64 := func(s string) string { return base64URL([]byte(s)) }
	return []string{
		good,
		good[:len(good)/2],
		good + " ",
		strings.Replace(good, `"type":"public-key"`, `"type":"password"`, 1),
		strings.Replace(good, `"id":"`, `"id":"AAAA`, 1),
		strings.Replace(good, `"clientDataJSON":"`, `"clientDataJSON":"AAAA`, 1),
		strings.Replace(good, `"attestationObject":"`, `"attestationObject":"AAAA`, 1),
		strings.Replace(good, `"authenticatorData":"`, `"authenticatorData":"AAAA`, 1),
		strings.Replace(good, `"signature":"`, `"signature":"AAAA`, 1),
		strings.Replace(good, `"userHandle":"`, `"userHandle":"AAAA`, 1),
		strings.Replace(good, `"userHandle":"`, `"userHandleX":"`, 1),
		editClientData(f, good, func(cd map[string]any) { cd["challenge"] = strings.Repeat("A", 1000) }),
		editClientData(f, good, func(cd map[string]any) { delete(cd, "challenge") }),
		editClientData(f, good, func(cd map[string]any) { cd["type"] = 5 }),
		`{"id":"AAAA","rawId":"AAAA","type":"public-key"}`,
		`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}`,
		`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"!!!","attestationObject":"!!!","authenticatorData":"!!!","signature":"!!!"}}`,
		`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"` + b64("nope") + `","attestationObject":"oA","authenticatorData":"AA","signature":"AA"}}`,
		`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"` + b64(`{"type":"webauthn.get","challenge":"AAAA","origin":"x"}`) + `","attestationObject":"oA","authenticatorData":"` + base64URL(make([]byte, 37)) + `","signature":"AA"}}`,
	}
}

// The Parts fuzzers below fuzz what a WebAuthn response carries inside its base64url fields
// (clientDataJSON, authenticator data, attestation statement, signature) and assemble a
// well-formed body around it, so that mutations reach the parsers and checks behind the JSON
// rather than break the JSON. In clientDataJSON, challengePlaceholder stands for a challenge the
// server has just issued (asked for through the handler before each input), and an empty
// signature is replaced by the software authenticator's signature over the fuzzed data: so
// inputs also get past the challenge and signature checks into origin, flag, counter and
// attestation handling.
const challengePlaceholder = "CHALLENGE"

// challengeFor asks the handler for options and returns their challenge.
func (fs *fuzzServer) challengeFor(t *testing.T, path string, body []byte, cookies ...*http.Cookie) []byte {
	t.Helper()
	ct := ""
	if len(body) > 0 {
		ct = "application/json"
	}
	r := fs.serveAPI(t, fs.request(http.MethodPost, path, ct, body, cookies...))
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(r.body, &o); err != nil || r.status != http.StatusOK || o.PublicKey.Challenge == "" {
		t.Fatalf("POST %s: %d %s", path, r.status, r.body)
	}
	return []byte(o.PublicKey.Challenge)
}

// signed returns the device's signature over authData and the hash of clientDataJSON, as
// WebAuthn assertions and packed self-attestation sign.
func (d *authenticator) signed(t *testing.T, authData, clientDataJSON []byte) []byte {
	cdHash := sha256.Sum256(clientDataJSON)
	digest := sha256.Sum256(append(bytes.Clone(authData), cdHash[:]...))
	sig, err := d.cred.Key.Sign(digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// authData returns authenticator data for the harness's relying party: flags, sign count and,
// when attested is set, the device's AAGUID, credential id and COSE public key.
func (d *authenticator) authData(flags byte, count uint32, attested bool) []byte {
	rpIDHash := sha256.Sum256([]byte(d.rp.ID))
	b := append(rpIDHash[:], flags, byte(count>>24), byte(count>>16), byte(count>>8), byte(count))
	if attested {
		b = append(b, d.auth.Aaguid[:]...)
		b = append(b, byte(len(d.cred.ID)>>8), byte(len(d.cred.ID)))
		b = append(b, d.cred.ID...)
		b = append(b, d.cred.Key.AttestationData()...)
	}
	return b
}

// Authenticator data flags.
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
	flagED = 0x80
)

// A few CBOR encoders, for attestation objects and statements.
func cborHead(major byte, n int) []byte {
	switch {
	case n < 24:
		return []byte{major<<5 | byte(n)}
	case n < 1<<8:
		return []byte{major<<5 | 24, byte(n)}
	case n < 1<<16:
		return []byte{major<<5 | 25, byte(n >> 8), byte(n)}
	}
	return []byte{major<<5 | 26, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
}

func cborBytes(b []byte) []byte { return append(cborHead(2, len(b)), b...) }
func cborText(s string) []byte  { return append(cborHead(3, len(s)), s...) }

func cborInt(n int) []byte {
	if n < 0 {
		return cborHead(1, -1-n)
	}
	return cborHead(0, n)
}

func cborArray(items ...[]byte) []byte {
	return append(cborHead(4, len(items)), bytes.Join(items, nil)...)
}

// cborMap encodes text keys and encoded values, alternating.
func cborMap(kv ...any) []byte {
	b := cborHead(5, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		b = append(b, cborText(kv[i].(string))...)
		b = append(b, kv[i+1].([]byte)...)
	}
	return b
}

// clientDataTemplate returns clientDataJSON for a ceremony type, with the challenge placeholder.
func clientDataTemplate(typ, origin string, extra string) []byte {
	return []byte(`{"type":"` + typ + `","challenge":"` + challengePlaceholder + `","origin":"` + origin + `"` + extra + `}`)
}

// credentialBody returns a well-formed PublicKeyCredential JSON with the given raw id and
// response fields, base64url-encoded as browsers send them.
func credentialBody(id []byte, response map[string][]byte) []byte {
	resp := map[string]string{}
	for k, v := range response {
		resp[k] = base64URL(v)
	}
	b, _ := json.Marshal(map[string]any{"id": base64URL(id), "rawId": base64URL(id), "type": "public-key",
		"response": resp, "clientExtensionResults": map[string]any{}, "authenticatorAttachment": "platform"})
	return b
}

// registrationFuzz is the set-up of the registration fuzzers: a TAP session and a real
// RegistrationResponseJSON for one of its challenges.
type registrationFuzz struct {
	fs     *fuzzServer
	user   *latchkey.User
	cookie *http.Cookie
	good   string
}

func newRegistrationFuzz(f *testing.F) *registrationFuzz {
	fs := newFuzzServer(f)
	c, user := fs.h.signedInClient("alice@example.com", false)
	good := fs.h.newDevice().attest(f, c.registrationOptions())
	return &registrationFuzz{fs: fs, user: user, cookie: sessionOf(f, c), good: good}
}

// verify sends body; a passkey it registers is removed again, so that the next input starts
// from the same state.
func (rf *registrationFuzz) verify(t *testing.T, body []byte) *response {
	r := rf.fs.serveAPI(t, rf.fs.request(http.MethodPost, "/api/v1/webauthn/registration/verify", "application/json", body, rf.cookie))
	if r.status == http.StatusOK {
		var pk api.PasskeyJSON
		if err := json.Unmarshal(r.body, &pk); err != nil || pk.Passkey == nil || pk.ID == "" {
			t.Fatalf("registration answer %s (%v)", r.body, err)
		}
		if err := rf.fs.h.store.DeletePasskey(context.Background(), rf.user.ID, pk.ID); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// FuzzRegistrationVerify fuzzes the RegistrationResponseJSON body as bytes.
func FuzzRegistrationVerify(f *testing.F) {
	rf := newRegistrationFuzz(f)
	addAll(f, credentialSeeds(f, rf.good)...)
	addAll(f, brokenJSON...)
	f.Fuzz(func(t *testing.T, body []byte) { rf.verify(t, body) })
}

// FuzzRegistrationVerifyParts fuzzes clientDataJSON, the authenticator data and the attestation
// statement of a registration (see challengePlaceholder). An empty statement of the packed
// format is replaced by a valid self-attestation.
func FuzzRegistrationVerifyParts(f *testing.F) {
	rf := newRegistrationFuzz(f)
	d := rf.fs.h.newDevice()
	origin := rf.fs.h.origin
	cd := clientDataTemplate("webauthn.create", origin, "")
	ad := d.authData(flagUP|flagUV|flagAT, 0, true)
	anySig := cborBytes(make([]byte, 70))
	cert := cborBytes([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Add(cd, ad, "packed", []byte{})
	f.Add(cd, ad, "none", cborMap())
	f.Add(cd, d.authData(flagUP|flagUV|flagBE|flagBS|flagAT, 7, true), "packed", []byte{})
	f.Add(cd, d.authData(flagUP|flagAT, 0, true), "packed", []byte{})
	f.Add(cd, d.authData(flagUV|flagAT, 0, true), "packed", []byte{})
	f.Add(cd, d.authData(flagUP|flagUV|flagBS|flagAT, 0, true), "packed", []byte{})
	f.Add(cd, d.authData(flagUP|flagUV, 0, false), "none", cborMap())
	f.Add(cd, append(d.authData(flagUP|flagUV|flagAT|flagED, 0, true), cborMap("credProtect", cborInt(2))...), "packed", []byte{})
	f.Add(cd, append(bytes.Clone(ad), 0x00), "none", cborMap())
	f.Add(cd, ad[:60], "none", cborMap())
	f.Add(clientDataTemplate("webauthn.create", "https://evil.example", ""), ad, "packed", []byte{})
	f.Add(clientDataTemplate("webauthn.get", origin, ""), ad, "packed", []byte{})
	f.Add(clientDataTemplate("webauthn.create", origin, `,"crossOrigin":true,"topOrigin":"https://evil.example"`), ad, "none", cborMap())
	f.Add(clientDataTemplate("webauthn.create", origin, `,"tokenBinding":{"status":"present","id":"AAAA"}`), ad, "none", cborMap())
	f.Add([]byte(`{"type":"webauthn.create","challenge":"AAAA","origin":"`+origin+`"}`), ad, "none", cborMap())
	f.Add([]byte(`{}`), ad, "none", cborMap())
	f.Add(cd, ad, "packed", cborMap("alg", cborInt(-7), "sig", anySig))
	f.Add(cd, ad, "packed", cborMap("alg", cborInt(-7), "sig", anySig, "x5c", cborArray(cert)))
	f.Add(cd, ad, "packed", cborMap("alg", cborInt(-257), "sig", anySig))
	f.Add(cd, ad, "fido-u2f", cborMap("sig", anySig, "x5c", cborArray(cert)))
	f.Add(cd, ad, "tpm", cborMap("ver", cborText("2.0"), "alg", cborInt(-7), "x5c", cborArray(cert), "sig", anySig,
		"certInfo", cborBytes(make([]byte, 40)), "pubArea", cborBytes(make([]byte, 40))))
	f.Add(cd, ad, "android-key", cborMap("alg", cborInt(-7), "sig", anySig, "x5c", cborArray(cert)))
	f.Add(cd, ad, "android-safetynet", cborMap("ver", cborText("1"), "response", cborBytes([]byte("a.b.c"))))
	f.Add(cd, ad, "apple", cborMap("x5c", cborArray(cert)))
	f.Add(cd, ad, "compound", cborMap("attStmts", cborArray()))
	f.Add(cd, ad, "unknown", cborMap())
	f.Add(cd, ad, "none", cborMap("alg", cborInt(-7)))
	f.Add(cd, ad, "packed", []byte{0xff})
	f.Fuzz(func(t *testing.T, clientDataJSON, authData []byte, format string, statement []byte) {
		challenge := rf.fs.challengeFor(t, "/api/v1/webauthn/registration/options", nil, rf.cookie)
		clientDataJSON = bytes.ReplaceAll(clientDataJSON, []byte(challengePlaceholder), challenge)
		if len(statement) == 0 && format == "packed" {
			statement = cborMap("alg", cborInt(-7), "sig", cborBytes(d.signed(t, authData, clientDataJSON)))
		}
		// The credential id, from the attested credential data when there is one.
		id := []byte("no attested credential data")
		if len(authData) >= 55 {
			if n := int(authData[53])<<8 | int(authData[54]); 55+n <= len(authData) {
				id = authData[55 : 55+n]
			}
		}
		object := append(append(append(cborHead(5, 3), cborText("fmt")...), cborText(format)...), cborText("attStmt")...)
		object = append(object, statement...)
		object = append(append(object, cborText("authData")...), cborBytes(authData)...)
		rf.verify(t, credentialBody(id, map[string][]byte{"clientDataJSON": clientDataJSON, "attestationObject": object}))
	})
}

func FuzzAuthenticationOptions(f *testing.F) {
	fs := newFuzzServer(f)
	c, _ := fs.h.signedInClient("alice@example.com", false)
	c.mustRegister(fs.h.newDevice())
	fs.h.createUser("bob@example.com", false)
	addAll(f,
		`{}`,
		`{"username":"alice@example.com"}`,
		`{"username":" ALICE@EXAMPLE.COM "}`,
		`{"username":"bob@example.com"}`,
		`{"username":"nobody@example.com"}`,
		`{"username":""}`,
		`{"username":"`+strings.Repeat("a", 5000)+`"}`,
		`{"username":"alice\u0000"}`,
		`{"username":5}`,
		`{"username":null,"other":true}`,
	)
	addAll(f, brokenJSON...)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fs.serveAPI(t, fs.request(http.MethodPost, "/api/v1/webauthn/authentication/options", "application/json", body))
		if r.status == http.StatusOK && !bytes.Contains(r.body, []byte(`"challenge"`)) {
			t.Errorf("options without a challenge: %s", r.body)
		}
	})
}

// authenticationFuzz is the set-up of the sign-in fuzzers: alice's registered passkey and a real
// AuthenticationResponseJSON of it. After any input that used or flagged the passkey, it is put
// back as registered, so that the fuzzer keeps reaching the counter and clone checks.
type authenticationFuzz struct {
	fs       *fuzzServer
	user     *latchkey.User
	d        *authenticator
	pristine *latchkey.Passkey
	good     string
}

func newAuthenticationFuzz(f *testing.F) *authenticationFuzz {
	fs := newFuzzServer(f)
	c, user := fs.h.signedInClient("alice@example.com", false)
	d := fs.h.newDevice()
	registered := c.mustRegister(d)
	pristine, err := fs.h.store.FindPasskeyByID(context.Background(), registered.ID)
	if err != nil {
		f.Fatal(err)
	}
	d.cred.Counter++
	good := d.assert(f, fs.h.newClient().authenticationOptions(""))
	return &authenticationFuzz{fs: fs, user: user, d: d, pristine: pristine, good: good}
}

func (af *authenticationFuzz) verify(t *testing.T, body []byte) *response {
	r := af.fs.serveAPI(t, af.fs.request(http.MethodPost, "/api/v1/webauthn/authentication/verify", "application/json", body))
	if r.status == http.StatusOK && !hasCookie(r, httpedge.SessionCookie) {
		t.Errorf("a passkey sign-in answered 200 without a session cookie: %s", r.body)
	}
	ctx := context.Background()
	pk, err := af.fs.h.store.FindPasskeyByID(ctx, af.pristine.ID)
	if err != nil {
		t.Fatalf("the registered passkey is gone: %v", err)
	}
	if pk.SignCount != af.pristine.SignCount || pk.PossibleClone {
		again := *af.pristine
		if err := af.fs.h.store.DeletePasskey(ctx, af.user.ID, pk.ID); err != nil {
			t.Fatal(err)
		}
		if err := af.fs.h.store.CreatePasskey(ctx, &again); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// FuzzAuthenticationVerify fuzzes the AuthenticationResponseJSON body as bytes.
func FuzzAuthenticationVerify(f *testing.F) {
	af := newAuthenticationFuzz(f)
	addAll(f, credentialSeeds(f, af.good)...)
	addAll(f, brokenJSON...)
	f.Fuzz(func(t *testing.T, body []byte) { af.verify(t, body) })
}

// FuzzAuthenticationVerifyParts fuzzes clientDataJSON, the authenticator data, the user handle
// and the signature of a sign-in with alice's passkey (see challengePlaceholder), usernameless or
// username-first. An empty signature is replaced by the passkey's signature.
func FuzzAuthenticationVerifyParts(f *testing.F) {
	af := newAuthenticationFuzz(f)
	d, origin := af.d, af.fs.h.origin
	cd := clientDataTemplate("webauthn.get", origin, "")
	ad := d.authData(flagUP|flagUV, 1, false)
	handle := d.auth.Options.UserHandle
	f.Add(false, cd, ad, handle, []byte{})
	f.Add(true, cd, ad, handle, []byte{})
	f.Add(false, cd, ad, []byte{}, []byte{})
	f.Add(false, cd, ad, []byte("0123456789abcdef"), []byte{})
	f.Add(false, cd, d.authData(flagUP|flagUV, 0, false), handle, []byte{})
	f.Add(false, cd, d.authData(flagUP, 2, false), handle, []byte{})
	f.Add(false, cd, d.authData(flagUV, 2, false), handle, []byte{})
	f.Add(false, cd, d.authData(flagUP|flagUV|flagBE|flagBS, 2, false), handle, []byte{})
	f.Add(false, cd, d.authData(flagUP|flagUV|flagBS, 2, false), handle, []byte{})
	f.Add(false, cd, d.authData(flagUP|flagUV|flagAT, 2, true), handle, []byte{})
	f.Add(false, cd, append(d.authData(flagUP|flagUV|flagED, 2, false), cborMap("appid", []byte{0xf5})...), handle, []byte{})
	f.Add(false, cd, append(bytes.Clone(ad), 0xa0), handle, []byte{})
	f.Add(false, cd, ad[:36], handle, []byte{})
	f.Add(false, cd, ad, handle, []byte{0x30, 0x00})
	f.Add(false, cd, ad, handle, make([]byte, 72))
	f.Add(false, clientDataTemplate("webauthn.get", "https://evil.example", ""), ad, handle, []byte{})
	f.Add(false, clientDataTemplate("webauthn.create", origin, ""), ad, handle, []byte{})
	f.Add(false, clientDataTemplate("webauthn.get", origin, `,"crossOrigin":true,"topOrigin":"https://evil.example"`), ad, handle, []byte{})
	f.Add(false, []byte(`{"type":"webauthn.get","challenge":"AAAA","origin":"`+origin+`"}`), ad, handle, []byte{})
	f.Add(false, []byte(`{}`), ad, handle, []byte{})
	f.Fuzz(func(t *testing.T, usernameFirst bool, clientDataJSON, authData, userHandle, signature []byte) {
		var options []byte
		if usernameFirst {
			options = []byte(`{"username":"alice@example.com"}`)
		}
		challenge := af.fs.challengeFor(t, "/api/v1/webauthn/authentication/options", options)
		clientDataJSON = bytes.ReplaceAll(clientDataJSON, []byte(challengePlaceholder), challenge)
		if len(signature) == 0 {
			signature = d.signed(t, authData, clientDataJSON)
		}
		af.verify(t, credentialBody(d.cred.ID, map[string][]byte{"clientDataJSON": clientDataJSON,
			"authenticatorData": authData, "signature": signature, "userHandle": userHandle}))
	})
}

func FuzzRenamePasskey(f *testing.F) {
	fs := newFuzzServer(f)
	c, _ := fs.h.signedInClient("alice@example.com", false)
	cookie := sessionOf(f, c)
	pk := c.mustRegister(fs.h.newDevice())
	other, _ := fs.h.signedInClient("bob@example.com", false)
	bobs := other.mustRegister(fs.h.newDevice())
	for _, body := range []string{
		`{"displayName":"Work laptop"}`,
		`{"displayName":"  padded  "}`,
		`{"displayName":"` + strings.Repeat("é", 64) + `"}`,
		`{"displayName":"` + strings.Repeat("é", 65) + `"}`,
		`{"displayName":" "}`,
		`{"displayName":"tab\tnew\nline\u0000nul\u202e"}`,
		`{"displayName":"\ud800"}`,
		`{"displayName":5}`,
		`{"displayName":null}`,
		`{"displayName":"x","displayName":"y"}`,
	} {
		f.Add(pk.ID, []byte(body))
	}
	f.Add(bobs.ID, []byte(`{"displayName":"mine now"}`))
	f.Add("not-a-passkey", []byte(`{"displayName":"x"}`))
	f.Add("", []byte(`{"displayName":"x"}`))
	f.Add("..", []byte(`{"displayName":"x"}`))
	f.Add("a/b", []byte(`{"displayName":"x"}`))
	for _, b := range brokenJSON {
		f.Add(pk.ID, []byte(b))
	}
	f.Fuzz(func(t *testing.T, id string, body []byte) {
		r := fs.serveAPI(t, fs.request(http.MethodPatch, "/api/v1/me/passkeys/"+url.PathEscape(id), "application/json", body, cookie))
		if r.status == http.StatusOK && id == bobs.ID {
			t.Errorf("alice renamed bob's passkey: %s", r.body)
		}
	})
}

func FuzzCreateUser(f *testing.F) {
	fs := newFuzzServer(f)
	admin, _ := fs.h.signedInClient("admin@example.com", true)
	cookie := sessionOf(f, admin)
	addAll(f,
		`{"userPrincipalName":"carol@example.com"}`,
		`{"userPrincipalName":"dave@example.com","displayName":"Dave","givenName":"Dave","surname":"D","employeeId":"42","userType":"guest","roles":["globalAdmin"],"accountEnabled":false}`,
		`{"userPrincipalName":"ADMIN@example.com"}`,
		`{"userPrincipalName":"e@example.com","id":"chosen","createdDateTime":"2001-01-01T00:00:00Z"}`,
		`{"userPrincipalName":"f@example.com","createdDateTime":"yesterday"}`,
		`{"userPrincipalName":"g@example.com","roles":["root"]}`,
		`{"userPrincipalName":"h@example.com","userType":"robot"}`,
		`{"userPrincipalName":"i@example.com","roles":null,"accountEnabled":null}`,
		`{"userPrincipalName":"with space@example.com"}`,
		`{"userPrincipalName":"nul\u0000@example.com"}`,
		`{"userPrincipalName":"j@example.com","displayName":"\u0007bell"}`,
		`{"userPrincipalName":"`+strings.Repeat("k", 255)+`"}`,
		`{"userPrincipalName":"l@example.com","employeeId":"`+strings.Repeat("9", 65)+`"}`,
		`{"userPrincipalName":"\ud800@example.com"}`,
		`{"userPrincipalName":"Ⱥ@example.com"}`,
		`{"userPrincipalName":5}`,
		`{"userPrincipalName":"m@example.com","roles":"globalAdmin"}`,
	)
	addAll(f, brokenJSON...)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fs.serveAPI(t, fs.request(http.MethodPost, "/api/v1/users", "application/json", body, cookie))
		if r.status == http.StatusCreated {
			var u latchkey.User
			if err := json.Unmarshal(r.body, &u); err != nil || u.ID == "" || u.UserPrincipalName == "" {
				t.Errorf("created user %s (%v)", r.body, err)
			}
		}
	})
}

func FuzzIssueTAP(f *testing.F) {
	fs := newFuzzServer(f)
	admin, adminUser := fs.h.signedInClient("admin@example.com", true)
	cookie := sessionOf(f, admin)
	bob := fs.h.createUser("bob@example.com", false)
	// Each accepted body costs one argon2 hash; most seeds are refusals.
	for _, body := range []string{
		`{"lifetimeInMinutes":60,"isUsableOnce":true}`,
		`{"lifetimeInMinutes":5}`,
		`{"lifetimeInMinutes":481}`,
		`{"lifetimeInMinutes":-1}`,
		`{"lifetimeInMinutes":9223372036854775807}`,
		`{"lifetimeInMinutes":1e20}`,
		`{"lifetimeInMinutes":"60"}`,
		`{"startDateTime":"9999-12-31T23:59:59Z"}`,
		`{"startDateTime":"0001-01-01T00:00:00Z","lifetimeInMinutes":0}`,
		`{"startDateTime":"2026-13-45T99:99:99Z"}`,
		`{"startDateTime":"yesterday"}`,
		`{"startDateTime":5}`,
		`{"isUsableOnce":"true"}`,
		`{}`,
	} {
		f.Add(bob.ID, []byte(body))
	}
	f.Add("bob@example.com", []byte(`{"lifetimeInMinutes":5}`))
	f.Add(adminUser.ID, []byte(`{}`))
	f.Add("nobody@example.com", []byte(`{}`))
	f.Add("", []byte(`{}`))
	for _, b := range brokenJSON {
		f.Add(bob.ID, []byte(b))
	}
	f.Fuzz(func(t *testing.T, id string, body []byte) {
		path := "/api/v1/users/" + url.PathEscape(id) + "/authentication/temporaryAccessPassMethods"
		r := fs.serveAPI(t, fs.request(http.MethodPost, path, "application/json", body, cookie))
		if r.status == http.StatusCreated {
			var tap api.TAPJSON
			if err := json.Unmarshal(r.body, &tap); err != nil || tap.TemporaryAccessPass == "" {
				t.Errorf("issued pass %s (%v)", r.body, err)
			}
			if tap.UserID == adminUser.ID {
				t.Errorf("the admin issued a pass for themself: %s", r.body)
			}
		}
	})
}

// csrfPair returns a pre-session cookie and the form field that a page shown to a browser with
// it (and with session, when not nil) would carry.
func (fs *fuzzServer) csrfPair(tb testing.TB, session *http.Cookie) (*http.Cookie, string) {
	c := &http.Cookie{Name: web.CSRFCookie, Value: signin.NewToken()}
	r := httptest.NewRequest(http.MethodGet, fs.h.origin+"/", nil)
	r.AddCookie(c)
	if session != nil {
		r.AddCookie(session)
	}
	tok, err := fs.h.srv.web.CSRFToken(httptest.NewRecorder(), r)
	if err != nil {
		tb.Fatal(err)
	}
	return c, web.CSRFField + "=" + url.QueryEscape(tok) + "&"
}

// FuzzTAPForm fuzzes the TAP sign-in form. Every input follows a valid CSRF field, so that the
// fuzzer works on what the handler reads after the CSRF check.
func FuzzTAPForm(f *testing.F) {
	fs := newFuzzServer(f)
	alice := fs.h.createUser("alice@example.com", false)
	pass := fs.h.issueTAP(alice.ID, signin.IssueOptions{LifetimeMinutes: 480})
	csrf, field := fs.csrfPair(f, nil)
	for _, body := range []string{
		"username=alice%40example.com&tap=" + pass,
		"tap=" + pass + "&username=+ALICE%40example.com+",
		"username=alice%40example.com&tap=WRONGPASS",
		"username=nobody%40example.com&tap=ABCDEFGH",
		"username=&tap=",
		"username=alice%40example.com",
		"username=" + strings.Repeat("a", 300) + "&tap=ABCDEFGH",
		"username=%00%ff&tap=%80",
		"username=a&username=b&tap=c&tap=d",
		"username=%zz&tap=x",
		"username=a;tap=b",
		"csrf=other&username=a&tap=b",
		"&&&==&",
	} {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, form string) {
		req := fs.request(http.MethodPost, "/signin/tap", "application/x-www-form-urlencoded", []byte(field+form), csrf)
		fs.freshAddress(req)
		r := fs.servePage(t, req)
		if r.status == http.StatusSeeOther && !hasCookie(r, httpedge.SessionCookie) {
			t.Errorf("a TAP form sign-in redirected without a session cookie")
		}
	})
}

// FuzzAdminForms fuzzes the admin's add-user form (route 0) and issue-pass form (route 1, for
// the user whose id or UPN is id). Every input follows a valid CSRF field.
func FuzzAdminForms(f *testing.F) {
	fs := newFuzzServer(f)
	admin, adminUser := fs.h.signedInClient("admin@example.com", true)
	cookie := sessionOf(f, admin)
	bob := fs.h.createUser("bob@example.com", false)
	csrf, field := fs.csrfPair(f, cookie)
	for _, form := range []string{
		"upn=carol%40example.com&displayName=Carol",
		"upn=dave%40example.com&displayName=+Dave+&givenName=Dave&surname=D&employeeId=42&userType=guest&globalAdmin=yes",
		"upn=ADMIN%40example.com",
		"upn=",
		"upn=with+space%40example.com",
		"upn=nul%00%40example.com",
		"upn=e%40example.com&displayName=%07bell",
		"upn=f%40example.com&displayName=%ff%fe",
		"upn=g%40example.com&userType=robot",
		"upn=" + strings.Repeat("h", 255),
		"upn=%zz",
	} {
		f.Add(uint8(0), "", form)
	}
	for _, form := range []string{
		"lifetime=60&oneTime=yes",
		"lifetime=5",
		"lifetime=-1",
		"lifetime=99999999999999999999",
		"lifetime=abc",
		"start=2026-12-01T09%3A00",
		"start=9999-12-31T23%3A59",
		"start=0000-01-01T00%3A00",
		"start=2026-13-45T99%3A99",
		"start=yesterday",
		"lifetime=+60+&start=+",
	} {
		f.Add(uint8(1), bob.ID, form)
	}
	f.Add(uint8(1), "bob@example.com", "lifetime=5")
	f.Add(uint8(1), adminUser.ID, "")
	f.Add(uint8(1), "nobody", "")
	f.Add(uint8(1), "", "")
	ownPass, err := fs.h.store.FindAccessPassByUser(context.Background(), adminUser.ID)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, route uint8, id, form string) {
		path := "/admin/users"
		if route%2 == 1 {
			path = "/admin/users/" + url.PathEscape(id) + "/tap"
		}
		fs.servePage(t, fs.request(http.MethodPost, path, "application/x-www-form-urlencoded", []byte(field+form), csrf, cookie))
		if ap, err := fs.h.store.FindAccessPassByUser(context.Background(), adminUser.ID); err != nil || ap.ID != ownPass.ID {
			t.Errorf("the admin's own pass was replaced from the web (%v)", err)
		}
	})
}
