package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/api"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/loadtest"
	"github.com/latchkey/latchkey/internal/policyadmin"

	"github.com/descope/virtualwebauthn"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// testClock is the service clock: real time plus an offset that tests move forward, so that
// go-webauthn's own (real-time) checks still pass while Latchkey sees time go by.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// errorLog keeps the error-level records the server logs, so that a test notices an internal
// error hidden behind a 4xx or a failed write to the sign-in log.
type errorLog struct {
	mu      sync.Mutex
	records []string
}

func (l *errorLog) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelError }
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler               { return l }
func (l *errorLog) WithGroup(string) slog.Handler                    { return l }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, b.String())
	return nil
}

// harness is a Latchkey server on a real SQLite store, reached at http://localhost:PORT.
type harness struct {
	t     testing.TB // a *testing.F for fuzz targets, which build one harness for all inputs
	store *sqlite.Store
	svc   *signin.Service
	// policies changes policies as the admin surfaces do (lint on save).
	policies *policyadmin.Service
	srv      *Server
	ts       *httptest.Server
	origin   string // http://localhost:PORT: the WebAuthn origin and the base of every request
	clock    *testClock
	rp       virtualwebauthn.RelyingParty
	errors   *errorLog
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })

	// The server's URL must be known before the relying party is built, so the test server
	// starts with a handler that forwards to the one made below.
	var handler http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	_, port, err := net.SplitHostPort(ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://localhost:" + port

	wa, err := passkey.NewWebAuthn(origin, "Latchkey test")
	if err != nil {
		t.Fatalf("relying party: %v", err)
	}
	elog := &errorLog{}
	logger := slog.New(elog)
	clock := &testClock{}
	svc := signin.New(store, wa, logger)
	svc.Now = clock.Now
	srv, err := New(svc, logger)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	handler = srv.Handler()

	h := &harness{t: t, store: store, svc: svc, policies: policyadmin.New(svc), srv: srv, ts: ts, origin: origin, clock: clock, errors: elog,
		rp: virtualwebauthn.RelyingParty{ID: "localhost", Name: "Latchkey test", Origin: origin}}
	t.Cleanup(func() {
		elog.mu.Lock()
		defer elog.mu.Unlock()
		for _, r := range elog.records {
			t.Errorf("server logged an error: %s", r)
		}
	})
	return h
}

// createUser stores an enabled member, a global admin when admin is set.
func (h *harness) createUser(upn string, admin bool) *latchkey.User {
	h.t.Helper()
	u := &latchkey.User{UserPrincipalName: upn, Enabled: true}
	if admin {
		u.Roles = []string{latchkey.RoleGlobalAdmin}
	}
	if err := u.Validate(); err != nil {
		h.t.Fatal(err)
	}
	if err := h.store.CreateUser(context.Background(), u); err != nil {
		h.t.Fatalf("create user %s: %v", upn, err)
	}
	return u
}

// issueTAP issues a pass for user and returns it.
func (h *harness) issueTAP(userID string, o signin.IssueOptions) string {
	h.t.Helper()
	pass, _, err := h.svc.IssueAccessPass(context.Background(), userID, o)
	if err != nil {
		h.t.Fatalf("issue TAP: %v", err)
	}
	return pass
}

// passkeys returns the user's stored passkeys.
func (h *harness) passkeys(userID string) []*latchkey.Passkey {
	h.t.Helper()
	pks, err := h.store.ListPasskeysByUser(context.Background(), userID)
	if err != nil {
		h.t.Fatalf("list passkeys: %v", err)
	}
	return pks
}

// client is one browser: a cookie jar and the server's origin on every state-changing request.
type client struct {
	h    *harness
	jar  *cookiejar.Jar
	http *http.Client
}

func (h *harness) newClient() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	// localhost always reaches the test server, whatever the resolver prefers.
	addr := h.ts.Listener.Addr().String()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	h.t.Cleanup(tr.CloseIdleConnections)
	return &client{h: h, jar: jar, http: &http.Client{Jar: jar, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
	resp   *http.Response
}

// decode unmarshals the body into v.
func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// object returns the body as a JSON object.
func (r *response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// do sends a request; header pairs are name, value, name, value... Unless a header says
// otherwise, POST/PATCH/DELETE carry Origin: the server's origin, as a browser's fetch does.
func (c *client) do(method, path, contentType string, body io.Reader, header ...string) *response {
	c.h.t.Helper()
	req, err := http.NewRequest(method, c.h.origin+path, body)
	if err != nil {
		c.h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method != http.MethodGet && method != http.MethodHead {
		req.Header.Set("Origin", c.h.origin)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.h.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b, resp: resp}
}

// post sends a JSON body: a string or []byte as it is, anything else marshalled.
func (c *client) post(path string, body any) *response {
	c.h.t.Helper()
	return c.send(http.MethodPost, path, body)
}

func (c *client) send(method, path string, body any) *response {
	c.h.t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			c.h.t.Fatal(err)
		}
	}
	ct := "application/json"
	if body == nil {
		ct = ""
	}
	return c.do(method, path, ct, bytes.NewReader(b))
}

func (c *client) get(path string) *response {
	c.h.t.Helper()
	return c.do(http.MethodGet, path, "", nil)
}

// originURL is the server's origin as a URL, for the cookie jar.
func (h *harness) originURL() *url.URL {
	u, err := url.Parse(h.origin + "/")
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

// sessionCookie returns the session cookie the jar would send, or nil.
func (c *client) sessionCookie() *http.Cookie {
	for _, ck := range c.jar.Cookies(c.h.originURL()) {
		if ck.Name == httpedge.SessionCookie {
			return ck
		}
	}
	return nil
}

// signInTAP signs in with a pass and returns the answer, without judging it.
func (c *client) signInTAP(upn, pass string) *response {
	c.h.t.Helper()
	return c.post("/api/v1/signin/tap", map[string]string{"username": upn, "tap": pass})
}

// mustSignInTAP signs in with a pass and fails the test unless it works.
func (c *client) mustSignInTAP(upn, pass string) {
	c.h.t.Helper()
	if r := c.signInTAP(upn, pass); r.status != http.StatusOK {
		c.h.t.Fatalf("TAP sign-in as %s: %d %s", upn, r.status, r.body)
	}
	if c.sessionCookie() == nil {
		c.h.t.Fatal("TAP sign-in set no session cookie")
	}
}

// signedInClient creates a user with a pass and a client signed in with it.
func (h *harness) signedInClient(upn string, admin bool) (*client, *latchkey.User) {
	h.t.Helper()
	u := h.createUser(upn, admin)
	c := h.newClient()
	c.mustSignInTAP(upn, h.issueTAP(u.ID, signin.IssueOptions{}))
	return c, u
}

// authenticator is a software authenticator holding one credential.
type authenticator struct {
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
	rp   virtualwebauthn.RelyingParty
}

// newDevice returns a device-bound authenticator (BE=0) for the harness's relying party.
func (h *harness) newDevice() *authenticator {
	return h.newDeviceWith(virtualwebauthn.AuthenticatorOptions{})
}

// newSyncedDevice returns an authenticator whose credentials are backed up (BE=1, BS=1).
func (h *harness) newSyncedDevice() *authenticator {
	return h.newDeviceWith(virtualwebauthn.AuthenticatorOptions{BackupEligible: true, BackupState: true})
}

func (h *harness) newDeviceWith(o virtualwebauthn.AuthenticatorOptions) *authenticator {
	return &authenticator{auth: virtualwebauthn.NewAuthenticatorWithOptions(o), cred: newCredential(h.t), rp: h.rp}
}

// newCredential returns a P-256 credential (loadtest.NewCredential works around virtualwebauthn
// dropping leading zero bytes of the key's coordinates).
func newCredential(t testing.TB) virtualwebauthn.Credential {
	t.Helper()
	c, err := loadtest.NewCredential()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// attest answers creation options (the server's JSON) as navigator.credentials.create would,
// and remembers the user handle for later discoverable sign-ins.
func (d *authenticator) attest(t testing.TB, options []byte) string {
	t.Helper()
	o, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatalf("parse creation options %s: %v", options, err)
	}
	d.auth.Options.UserHandle = []byte(o.UserID)
	return virtualwebauthn.CreateAttestationResponse(d.rp, d.auth, d.cred, *o)
}

// assert answers request options with the credential's current sign count.
func (d *authenticator) assert(t testing.TB, options []byte) string {
	t.Helper()
	o, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		t.Fatalf("parse request options %s: %v", options, err)
	}
	return virtualwebauthn.CreateAssertionResponse(d.rp, d.auth, d.cred, *o)
}

// registrationOptions asks for creation options and fails the test unless they come.
func (c *client) registrationOptions() []byte {
	c.h.t.Helper()
	r := c.post("/api/v1/webauthn/registration/options", nil)
	if r.status != http.StatusOK {
		c.h.t.Fatalf("registration options: %d %s", r.status, r.body)
	}
	return r.body
}

// register runs a whole registration with d and returns the verify answer.
func (c *client) register(d *authenticator) *response {
	c.h.t.Helper()
	return c.post("/api/v1/webauthn/registration/verify", d.attest(c.h.t, c.registrationOptions()))
}

// mustRegister registers d and returns the new passkey as the server described it.
func (c *client) mustRegister(d *authenticator) api.PasskeyJSON {
	c.h.t.Helper()
	r := c.register(d)
	if r.status != http.StatusOK {
		c.h.t.Fatalf("registration verify: %d %s", r.status, r.body)
	}
	var pk api.PasskeyJSON
	r.decode(c.h.t, &pk)
	return pk
}

// authenticationOptions asks for request options, username-first when username is set.
func (c *client) authenticationOptions(username string) []byte {
	c.h.t.Helper()
	var body any
	if username != "" {
		body = map[string]string{"username": username}
	}
	r := c.post("/api/v1/webauthn/authentication/options", body)
	if r.status != http.StatusOK {
		c.h.t.Fatalf("authentication options: %d %s", r.status, r.body)
	}
	return r.body
}

// signIn runs a passkey sign-in with d, advancing its sign count first as a real
// authenticator does, and returns the verify answer.
func (c *client) signIn(d *authenticator, username string) *response {
	c.h.t.Helper()
	d.cred.Counter++
	return c.post("/api/v1/webauthn/authentication/verify", d.assert(c.h.t, c.authenticationOptions(username)))
}

// errorBody checks that r is a refusal with the given status and code in the documented JSON
// shape (DESIGN §4), every field filled, and returns it.
func errorBody(t *testing.T, r *response, status int, code string) httpedge.ErrorBody {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d (body %s)", r.status, status, r.body)
	}
	return checkErrorShape(t, r, code)
}

// checkErrorShape checks a 4xx refusal's JSON shape and, when code is not empty, its code.
func checkErrorShape(t *testing.T, r *response, code string) httpedge.ErrorBody {
	t.Helper()
	if r.status < 400 || r.status > 499 {
		t.Errorf("status %d, want a 4xx (body %s)", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json (body %s)", ct, r.body)
	}
	var e httpedge.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if e.Error == "" || e.Message == "" || e.Detail == "" || e.CorrelationID == "" {
		t.Errorf("error body has an empty field: %+v", e)
	}
	if e.CorrelationID != r.header.Get("X-Correlation-Id") {
		t.Errorf("correlationId %q differs from X-Correlation-Id %q", e.CorrelationID, r.header.Get("X-Correlation-Id"))
	}
	if code != "" && e.Error != code {
		t.Errorf("error code %q, want %q (message %q, detail %q)", e.Error, code, e.Message, e.Detail)
	}
	for _, ck := range r.resp.Cookies() {
		if ck.Name == httpedge.SessionCookie && ck.Value != "" {
			t.Errorf("a refusal set a session cookie")
		}
	}
	return e
}

// challengeOf returns the challenge in creation or request options.
func challengeOf(t *testing.T, options []byte) string {
	t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil || o.PublicKey.Challenge == "" {
		t.Fatalf("no challenge in options %s: %v", options, err)
	}
	return o.PublicKey.Challenge
}

// withChallenge rewrites the challenge in a credential's clientDataJSON, leaving the signature
// as it was, so that it no longer matches.
func withChallenge(t *testing.T, credential, challenge string) string {
	t.Helper()
	return editClientData(t, credential, func(cd map[string]any) { cd["challenge"] = challenge })
}

// editClientData changes a credential's clientDataJSON with edit.
func editClientData(t testing.TB, credential string, edit func(map[string]any)) string {
	t.Helper()
	var cred map[string]any
	if err := json.Unmarshal([]byte(credential), &cred); err != nil {
		t.Fatal(err)
	}
	resp := cred["response"].(map[string]any)
	raw, err := base64.RawURLEncoding.DecodeString(resp["clientDataJSON"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var cd map[string]any
	if err := json.Unmarshal(raw, &cd); err != nil {
		t.Fatal(err)
	}
	edit(cd)
	raw, _ = json.Marshal(cd)
	resp["clientDataJSON"] = base64.RawURLEncoding.EncodeToString(raw)
	out, _ := json.Marshal(cred)
	return string(out)
}

// randomChallenge returns a challenge the server never issued.
func randomChallenge() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
