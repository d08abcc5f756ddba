package main

// Helpers for the real-browser tests in browser_test.go: a Latchkey server started the way
// `latchkey serve` starts, and headless Chromium driven through chromedp with WebAuthn virtual
// authenticators (see /work/shared/TESTING.md for why each option is there).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// chromiumPath is Debian's Chromium binary itself; the /usr/bin/chromium wrapper prints noise.
const chromiumPath = "/usr/lib/chromium/chromium"

// Timeouts. A step is one page action or one wait; a ceremony never takes more than a few
// hundred milliseconds with a virtual authenticator, so anything near these limits is a hang.
const (
	stepTimeout = 10 * time.Second
	pollEvery   = 25 * time.Millisecond
)

// syncBuffer is a bytes.Buffer safe for the server goroutines and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testServer is a running Latchkey with a fresh SQLite store.
type testServer struct {
	*Serve
	URL    string // http://localhost:PORT, the public URL browsers must use
	Pass   string // the bootstrap temporary access pass of "admin"
	Stdout *syncBuffer
}

var bootstrapPassRE = regexp.MustCompile(`Temporary Access Pass: (\S+)`)

// startServer starts `latchkey serve --data <tmp> --listen 127.0.0.1:0` in process and reads the
// bootstrap pass from what it prints.
func startServer(t *testing.T) *testServer {
	t.Helper()
	out := &syncBuffer{}
	logs := &syncBuffer{}
	s := &Serve{Stdout: out, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	if err := s.ParseFlags([]string{"--data", t.TempDir(), "--listen", "127.0.0.1:0"}); err != nil {
		t.Fatalf("parse serve flags: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	m := bootstrapPassRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no bootstrap pass in the serve output %q", out.String())
	}
	if !strings.HasPrefix(s.PublicURL, "http://localhost:") {
		t.Fatalf("PublicURL = %q, want http://localhost:PORT", s.PublicURL)
	}
	return &testServer{Serve: s, URL: s.PublicURL, Pass: m[1], Stdout: out}
}

// user returns the stored user with upn.
func (s *testServer) user(t *testing.T, upn string) *latchkey.User {
	t.Helper()
	u, err := s.Store.FindUserByUPN(context.Background(), upn)
	if err != nil {
		t.Fatalf("find user %q: %v", upn, err)
	}
	return u
}

// passkeys returns the stored passkeys of the user with upn.
func (s *testServer) passkeys(t *testing.T, upn string) []*latchkey.Passkey {
	t.Helper()
	pks, err := s.Store.ListPasskeysByUser(context.Background(), s.user(t, upn).ID)
	if err != nil {
		t.Fatalf("list passkeys of %q: %v", upn, err)
	}
	return pks
}

// browser is one tab of a headless Chromium with its own profile.
type browser struct {
	t   *testing.T
	ctx context.Context // the tab; no deadline, every step adds its own
}

// browserOptions are the allocator options TESTING.md says work on the project's machines.
func browserOptions(t *testing.T) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
	)
}

// startBrowser starts headless Chromium with a fresh profile and opens a tab with the WebAuthn
// domain enabled. The browser ends with the test.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium is not installed at %s: run ./scripts/test.sh, which installs it, or apt-get install chromium: %v", chromiumPath, err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), browserOptions(t)...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	openTab(ctx, t, cancel)
	b := &browser{t: t, ctx: ctx}
	b.enableWebAuthn()
	return b
}

// openTab opens the tab of ctx, starting the browser when needed. The first Do binds the tab (and
// a new browser) to the context it gets, so it must get ctx itself, without a deadline; a
// watchdog fails the test instead if the start hangs.
func openTab(ctx context.Context, t *testing.T, cancel context.CancelFunc) {
	t.Helper()
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start Chromium: %v", err)
		}
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("Chromium did not open a tab within 30 seconds")
	}
}

// newIsolatedTab opens a tab in a fresh browser context (its own cookies and storage, like a private
// window) of the same browser, with the WebAuthn domain enabled.
func (b *browser) newIsolatedTab() *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	openTab(ctx, b.t, cancel)
	nb := &browser{t: b.t, ctx: ctx}
	nb.enableWebAuthn()
	return nb
}

func (b *browser) enableWebAuthn() {
	b.t.Helper()
	b.step("enable WebAuthn", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{EnableUI: new(false)})
		return err
	})
}

// step runs f with a deadline and fails the test when it errs or times out.
func (b *browser) step(what string, f func(ctx context.Context) error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := f(ctx); err != nil {
		b.t.Fatalf("%s: %v%s", what, err, b.where())
	}
}

// where describes the page for failure messages.
func (b *browser) where() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + (document.body ? document.body.innerText : "")`))
	if err != nil {
		return ""
	}
	if r := []rune(s); len(r) > 1500 {
		s = string(r[:1500]) + "…"
	}
	return "\n--- page: " + strings.ReplaceAll(s, "\n", "\n    ")
}

// Authenticator kinds, as TESTING.md describes them.

// deviceBound is a platform authenticator whose passkeys cannot leave it (BE=0).
func deviceBound() webauthn.VirtualAuthenticatorOptions {
	return webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
		Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true,
		HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}
}

// synced is a platform authenticator backed up by a passkey provider (BE=1, BS=1).
func synced() webauthn.VirtualAuthenticatorOptions {
	o := deviceBound()
	o.DefaultBackupEligibility, o.DefaultBackupState = true, true
	return o
}

// securityKey is a USB security key with a PIN, able to hold discoverable credentials.
func securityKey() webauthn.VirtualAuthenticatorOptions {
	o := deviceBound()
	o.Transport = webauthn.AuthenticatorTransportUsb
	return o
}

// unverified can verify users but fails to: the person cancels or the fingerprint is not
// recognised, so the browser answers NotAllowedError.
func unverified() webauthn.VirtualAuthenticatorOptions {
	o := deviceBound()
	o.IsUserVerified = false
	return o
}

// addAuthenticator attaches a virtual authenticator to the tab. It lasts until
// removeAuthenticator, or until the browser closes at the end of the test.
func (b *browser) addAuthenticator(o webauthn.VirtualAuthenticatorOptions) webauthn.AuthenticatorID {
	b.t.Helper()
	var id webauthn.AuthenticatorID
	b.step("add virtual authenticator", func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &o})
		id = res.AuthenticatorID
		return err
	})
	return id
}

func (b *browser) removeAuthenticator(id webauthn.AuthenticatorID) {
	b.t.Helper()
	b.step("remove virtual authenticator", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: id})
		return err
	})
}

// credentials returns the credentials the virtual authenticator holds.
func (b *browser) credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	b.t.Helper()
	var creds []*webauthn.Credential
	b.step("get credentials", func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		creds = res.Credentials
		return err
	})
	return creds
}

// Page actions.

func (b *browser) navigate(url string) {
	b.t.Helper()
	b.step("navigate to "+url, func(ctx context.Context) error { return chromedp.Do(ctx, chromedp.Navigate(url)) })
}

// click clicks the visible element sel with the mouse, as a person would. It first marks the
// document as the old one, so that waitPage after a click that navigates waits for the new
// document rather than matching the page it started on.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.step("click "+sel, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](staleMark+" = true"), chromedp.Click(chromedp.CSS(sel)))
	})
}

// staleMark is set on a document before a click; a document without it is a newer one.
const staleMark = "window.__latchkeyTestOldPage"

// typeInto types text into the field sel.
func (b *browser) typeInto(sel, text string) {
	b.t.Helper()
	b.step("type into "+sel, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(sel), text))
	})
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	var v T
	b.step("evaluate "+expr, func(ctx context.Context) (err error) {
		v, err = chromedp.Run(ctx, chromedp.Evaluate[T](expr))
		return err
	})
	return v
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// waitJS waits until the expression is truthy. It polls, so it keeps working across the
// navigations a click or a ceremony causes (an evaluation while the page changes just fails and
// is tried again).
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	var lastErr error
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		lastErr = err
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			b.t.Fatalf("waited %s for %s (last error: %v)%s", stepTimeout, what, lastErr, b.where())
		}
		time.Sleep(pollEvery)
	}
}

// visibleJS is true when sel matches an element that is displayed.
func visibleJS(sel string) string {
	return fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden"; })()`, js(sel))
}

// waitVisible waits until sel is on the page and displayed.
func (b *browser) waitVisible(sel string) {
	b.t.Helper()
	b.waitJS(sel+" to be visible", visibleJS(sel))
}

// waitPage waits until the tab shows a document loaded after the last click, at path, with sel
// visible on it, and its page code started (the load event has fired, so the DOMContentLoaded
// handlers of latchkey.js have run).
func (b *browser) waitPage(path, sel string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf("a new page %s with %s", path, sel),
		fmt.Sprintf(`!%s && location.pathname === %s && document.readyState === "complete" && %s`, staleMark, js(path), visibleJS(sel)))
}

// text returns the trimmed text content of sel, or fails when there is no such element.
func (b *browser) text(sel string) string {
	b.t.Helper()
	v := eval[*string](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.textContent.trim() : null; })()`, js(sel)))
	if v == nil {
		b.t.Fatalf("no element %s%s", sel, b.where())
	}
	return *v
}

// count returns how many elements match sel.
func (b *browser) count(sel string) int {
	b.t.Helper()
	return eval[int](b, fmt.Sprintf(`document.querySelectorAll(%s).length`, js(sel)))
}

// location returns the tab's URL.
func (b *browser) location() string {
	b.t.Helper()
	return eval[string](b, `location.href`)
}

// cookies returns the tab's cookies for url.
func (b *browser) cookies(url string) []*network.Cookie {
	b.t.Helper()
	var cs []*network.Cookie
	b.step("get cookies", func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		cs = res.Cookies
		return err
	})
	return cs
}

// awaitJS evaluates an expression that returns a promise and waits for its value.
func awaitJS[T any](b *browser, expr string) T {
	b.t.Helper()
	var v T
	b.step("await "+expr, func(ctx context.Context) (err error) {
		v, err = chromedp.Run(ctx, chromedp.Evaluate[T](expr, func(p *runtime.EvaluateParams) { p.AwaitPromise = new(true) }))
		return err
	})
	return v
}

// Flows the tests share.

// signInWithTAP signs in through the pass form and waits for the security-info page.
func (b *browser) signInWithTAP(s *testServer, upn, pass string) {
	b.t.Helper()
	b.navigate(s.URL + "/signin/tap")
	b.waitVisible("#tap-form")
	b.typeInto("#tap-username", upn)
	b.typeInto("#tap-pass", pass)
	b.click("#tap-submit")
	b.waitPage("/my/security-info", "#signed-in-as")
}

// addPasskey clicks #add-passkey on the security-info page and waits for the page that says it
// was added. An authenticator must be attached, or the ceremony never ends.
func (b *browser) addPasskey() {
	b.t.Helper()
	b.waitVisible("#add-passkey")
	b.click("#add-passkey")
	// Wait for the whole page, not only the notice: a click while it still loads can catch a node
	// that parsing replaces.
	b.waitJS("the passkey-added page", "!"+staleMark+` && location.search.includes("notice=added") && document.readyState === "complete" && !!document.querySelector("#added-notice")`)
}

// signOut clicks the header's sign-out button and waits for the sign-in page.
func (b *browser) signOut() {
	b.t.Helper()
	b.click("#signout")
	b.waitPage("/signin", "#signin-form")
}

// recordCredentialRequests makes every page of the tab log its navigator.credentials.get calls
// (mediation, how many credentials they allow, and how each ended) in sessionStorage, which
// outlives the navigation a sign-in causes. The page code itself is unchanged; the wrapper only
// watches.
func (b *browser) recordCredentialRequests() {
	b.t.Helper()
	const src = `(() => {
  if (!navigator.credentials) return;
  const get = navigator.credentials.get.bind(navigator.credentials);
  const log = (e) => {
    const all = JSON.parse(sessionStorage.getItem("lk-requests") || "[]");
    all.push(e);
    sessionStorage.setItem("lk-requests", JSON.stringify(all));
  };
  navigator.credentials.get = (opts) => {
    const pk = (opts && opts.publicKey) || {};
    const rec = { path: location.pathname, mediation: (opts && opts.mediation) || "optional", allow: (pk.allowCredentials || []).length };
    log(Object.assign({ event: "start" }, rec));
    return get(opts).then(
      (c) => { log(Object.assign({ event: "resolved" }, rec)); return c; },
      (e) => { log(Object.assign({ event: "rejected", error: e && e.name }, rec)); throw e; });
  };
})();`
	b.step("install the credential request recorder", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	})
}

// credentialRequest is one entry of what recordCredentialRequests logged.
type credentialRequest struct {
	Event     string `json:"event"`
	Path      string `json:"path"`
	Mediation string `json:"mediation"`
	Allow     int    `json:"allow"` // how many allowCredentials: 0 for a usernameless request
	Error     string `json:"error"`
}

func (b *browser) credentialRequests() []credentialRequest {
	b.t.Helper()
	raw := eval[string](b, `sessionStorage.getItem("lk-requests") || "[]"`)
	var reqs []credentialRequest
	if err := json.Unmarshal([]byte(raw), &reqs); err != nil {
		b.t.Fatalf("decode recorded credential requests %q: %v", raw, err)
	}
	return reqs
}

// addCredentialParams is WebAuthn.addCredential without the credential-manager (CMTG) fields
// that cdproto always sends and Chromium 156 refuses ("CMTG is not supported by this
// authenticator").
type addCredentialParams struct {
	AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
	Credential      struct {
		CredentialID         []byte  `json:"credentialId"`
		IsResidentCredential bool    `json:"isResidentCredential"`
		RpID                 string  `json:"rpId"`
		PrivateKey           []byte  `json:"privateKey"`
		UserHandle           []byte  `json:"userHandle,omitempty"`
		SignCount            float64 `json:"signCount"`
		BackupEligibility    bool    `json:"backupEligibility"`
		BackupState          bool    `json:"backupState"`
		UserName             string  `json:"userName,omitempty"`
		UserDisplayName      string  `json:"userDisplayName,omitempty"`
	} `json:"credential"`
}

var addCredential = cdp.Command[addCredentialParams, cdp.Empty]{Method: webauthn.CommandAddCredential}

// importCredential stores a copy of c (as GetCredentials returned it from another virtual
// authenticator) in the authenticator id: the same passkey, with its key and sign count.
func (b *browser) importCredential(id webauthn.AuthenticatorID, c *webauthn.Credential) {
	b.t.Helper()
	var p addCredentialParams
	p.AuthenticatorID = id
	p.Credential.CredentialID, p.Credential.IsResidentCredential, p.Credential.RpID = c.CredentialID, c.IsResidentCredential, c.RpID
	p.Credential.PrivateKey, p.Credential.UserHandle, p.Credential.SignCount = c.PrivateKey, c.UserHandle, c.SignCount
	p.Credential.BackupEligibility, p.Credential.BackupState = c.BackupEligibility, c.BackupState
	p.Credential.UserName, p.Credential.UserDisplayName = c.UserName, c.UserDisplayName
	b.step("add credential", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, addCredential, p)
		return err
	})
}

// setPresence turns the authenticator's automatic user-presence simulation on or off; with it
// off, a ceremony that reaches the authenticator waits as if nobody touched it.
func (b *browser) setPresence(id webauthn.AuthenticatorID, on bool) {
	b.t.Helper()
	b.step("set automatic presence simulation", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, webauthn.SetAutomaticPresenceSimulation, webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: id, Enabled: on})
		return err
	})
}

// setUserVerified makes the authenticator's user verification succeed or fail.
func (b *browser) setUserVerified(id webauthn.AuthenticatorID, ok bool) {
	b.t.Helper()
	b.step("set user verified", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: id, IsUserVerified: ok})
		return err
	})
}

// attr returns the attribute name of sel, or fails when there is no such element.
func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	v := eval[*string](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? (e.getAttribute(%s) || "") : null; })()`, js(sel), js(name)))
	if v == nil {
		b.t.Fatalf("no element %s%s", sel, b.where())
	}
	return *v
}

// exec runs a JavaScript statement in the page.
func (b *browser) exec(src string) {
	b.t.Helper()
	b.step("run "+src, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](src))
	})
}
