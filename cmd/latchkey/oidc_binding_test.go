package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// attacker is someone with an HTTP client of their own that follows no redirects, so that they
// see every Location Latchkey answers with; the client keeps no cookies unless jar is set.
type attacker struct {
	t    *testing.T
	base string
	http *http.Client

	mu       sync.Mutex
	polls    int
	statuses map[int]int    // callback poll answers by status
	refusals map[string]int // refusal codes of the pages the polls got
	codes    []string       // codes a poll received
}

func newAttacker(t *testing.T, base string, jar http.CookieJar) *attacker {
	return &attacker{t: t, base: base, statuses: map[int]int{}, refusals: map[string]int{}, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// authorize sends the issue's literal request (the attacker's own PKCE challenge for a public
// application and its registered redirect URI) and returns the authorization request id of the
// sign-in link Latchkey answers with.
func (a *attacker) authorize(clientID, redirectURI, challenge string) string {
	a.t.Helper()
	resp, err := a.http.Get(a.base + "/authorize?client_id=" + url.QueryEscape(clientID) + "&redirect_uri=" + url.QueryEscape(redirectURI) +
		"&response_type=code&scope=openid&code_challenge=" + challenge + "&code_challenge_method=S256")
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil || loc.Path != "/oidc/login" || loc.Query().Get("authRequestID") == "" {
		a.t.Fatalf("attacker's /authorize: %d Location %v (%v), want 302 to /oidc/login?authRequestID=…", resp.StatusCode, loc, err)
	}
	return loc.Query().Get("authRequestID")
}

// poll asks for the request's callback once, as the attacker keeps doing, and records whether
// Latchkey answered with a code. It reports whether Latchkey answered at all.
func (a *attacker) poll(id string) bool {
	resp, err := a.http.Get(a.base + "/authorize/callback?id=" + url.QueryEscape(id))
	if err != nil {
		a.t.Errorf("attacker's poll: %v", err)
		return false
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.polls++
	a.statuses[resp.StatusCode]++
	if m := dataCode.FindStringSubmatch(string(b)); m != nil {
		a.refusals[m[1]]++
	}
	if loc, err := resp.Location(); err == nil && loc.Query().Get("code") != "" {
		a.codes = append(a.codes, loc.Query().Get("code"))
	}
	return true
}

// keepPolling polls the callback until the returned function is called (at the latest when the
// test ends) or Latchkey stops answering.
func (a *attacker) keepPolling(id string) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			default:
				if !a.poll(id) {
					return
				}
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(done); <-stopped }) }
	a.t.Cleanup(stop)
	return stop
}

var dataCode = regexp.MustCompile(`id="page-error" data-code="([a-z_]+)"`)

// noCodes fails when any poll received a code, after trying it with the attacker's verifier, or
// when a poll was not refused with the page whose code is refusal.
func (a *attacker) noCodes(cfg *oauth2.Config, verifier, refusal string) {
	a.t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.t.Logf("the attacker polled the callback %d times: answers by status %v, refusals %v", a.polls, a.statuses, a.refusals)
	for _, code := range a.codes {
		tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
		a.t.Errorf("the attacker's poll received a code; exchanged with the attacker's verifier: %v (id_token present: %v)", err, tok != nil && tok.Extra("id_token") != nil)
	}
	if a.polls == 0 || a.statuses[http.StatusForbidden] != a.polls || a.refusals[refusal] != a.polls {
		a.t.Errorf("callback polls answered %v with pages %v, want every one refused with 403 %s", a.statuses, a.refusals, refusal)
	}
}

// pollBeforeCallback makes c, before it follows a redirect to the callback, let the attacker
// poll that callback once: the attacker's loop wins the race with the browser this way, as it
// did every time in the issue's scripted attack.
func pollBeforeCallback(c *http.Client, a *attacker) {
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/authorize/callback" {
			a.poll(req.URL.Query().Get("id"))
		}
		return nil
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOIDCStolenCodeAttack is the issue's attack, literally: with no cookie, the attacker starts
// an authorization request for a public application with their own PKCE challenge, keeps polling
// /authorize/callback for it, and sends the sign-in link to a signed-in person. The person's
// browser is refused with a plain page, and no poll ever receives a code.
func TestOIDCStolenCodeAttack(t *testing.T) {
	e := startOIDC(t)
	ctx := context.Background()
	cfg := addApp(t, e, "Wiki")
	victim := newPerson(e.base)
	if err := victim.api.SignInTAP(ctx, "admin", e.pass); err != nil {
		t.Fatal(err)
	}

	a := newAttacker(t, e.base, nil)
	verifier := oauth2.GenerateVerifier()
	id := a.authorize(cfg.ClientID, e.redirect, oauth2.S256ChallengeFromVerifier(verifier))
	stop := a.keepPolling(id)
	pollBeforeCallback(victim.http, a)

	// The person opens the link the attacker sent.
	resp, err := victim.http.Get(e.base + "/oidc/login?authRequestID=" + url.QueryEscape(id))
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	a.poll(id) // after the person's visit, when a completed request would hand out its code
	stop()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `data-code="auth_request_other_browser"`) ||
		!strings.Contains(body, "This sign-in was started in another browser or window that is not this one. Go back to the application and start again.") {
		t.Errorf("the person's browser got %d %s, want the 403 page auth_request_other_browser:\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	a.noCodes(cfg, verifier, "auth_request_other_browser")
	noCallback(t, e, "the attacker's link")
	if req, err := e.s.Store.FindAuthRequest(ctx, id, time.Now()); err != nil || req.Done || req.UserID != "" {
		t.Errorf("the attacker's request after the person's visit: %+v %v, want it pending, signed in for by nobody", req, err)
	}
}

// TestOIDCCallbackOnlyForItsBrowserAndSession: a person's own sign-in, whose request id an
// attacker has learnt, releases its code only to the person's browser. Polls by the attacker
// without cookies, with the person's binding cookie but no session, and with it and a session of
// their own are all refused and use nothing up: the person's browser then gets the code, and the
// application's exchange works.
func TestOIDCCallbackOnlyForItsBrowserAndSession(t *testing.T) {
	e := startOIDC(t)
	ctx := context.Background()
	cfg := addApp(t, e, "Wiki")
	victim := newPerson(e.base)
	if err := victim.api.SignInTAP(ctx, "admin", e.pass); err != nil {
		t.Fatal(err)
	}
	other := newPerson(e.base) // the attacker, signed in as someone else
	id, err := victim.api.CreateUser(ctx, "mallory@example.com")
	if err != nil {
		t.Fatal(err)
	}
	pass, err := victim.api.IssueTAP(ctx, id, 60)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.api.SignInTAP(ctx, "mallory@example.com", pass); err != nil {
		t.Fatal(err)
	}

	bare := newAttacker(t, e.base, nil)
	cookieOnly, _ := cookiejar.New(nil)
	withCookie := newAttacker(t, e.base, cookieOnly)
	withSession := newAttacker(t, e.base, other.http.Jar)
	base, _ := url.Parse(e.base)
	attackers := func(req *http.Request) {
		// The attackers copy the person's binding cookie, the moment it exists.
		for _, c := range victim.http.Jar.Cookies(base) {
			if c.Name == "__Host-latchkey_browser" {
				cookieOnly.SetCookies(base, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/", Secure: true}})
				other.http.Jar.SetCookies(base, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/", Secure: true}})
			}
		}
		for _, a := range []*attacker{bare, withCookie, withSession} {
			a.poll(req.URL.Query().Get("id"))
		}
		// Other spellings of the callback's path, and POST, get no code either.
		for _, v := range []struct{ method, path string }{{"GET", "/authorize/callback/"}, {"GET", "/authorize//callback"},
			{"GET", "/authorize/%63allback"}, {"POST", "/authorize/callback"}} {
			r, _ := http.NewRequest(v.method, e.base+v.path+"?id="+url.QueryEscape(req.URL.Query().Get("id")), nil)
			resp, err := bare.http.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if loc := resp.Header.Get("Location"); resp.StatusCode < 300 || resp.StatusCode >= 500 || strings.Contains(loc, "code=") {
				t.Errorf("%s %s: %d Location %q, want a 4xx (or a redirect to a refused path) and no code", v.method, v.path, resp.StatusCode, loc)
			}
		}
	}
	victim.http.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/authorize/callback" {
			attackers(req)
		}
		return nil
	}

	verifier := oauth2.GenerateVerifier()
	resp, err := victim.http.Get(cfg.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	q := callback(t, e, "the person's own sign-in", resp, body)
	if q.Get("code") == "" || q.Get("state") != "state-1" {
		t.Fatalf("the person's callback %v, want a code and state-1", q)
	}
	for _, tc := range []struct {
		name    string
		a       *attacker
		refusal string
	}{
		{"no cookies", bare, "auth_request_other_browser"},
		{"the binding cookie only", withCookie, "auth_request_not_signed_in_here"},
		{"the binding cookie and another session", withSession, "auth_request_not_signed_in_here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.a.t = t
			tc.a.noCodes(cfg, "", tc.refusal)
		})
	}
	if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("the application's exchange of the person's code: %v", err)
	}
}

// TestOIDCTwoApplicationsAtOnce: two applications start signing in in one browser before the
// person has signed in; after one sign-in both complete (the binding is per browser, not per
// request), each with its own state.
func TestOIDCTwoApplicationsAtOnce(t *testing.T) {
	e := startOIDC(t)
	ctx := context.Background()
	wiki, mail := addApp(t, e, "Wiki"), addApp(t, e, "Mail")
	p := newPerson(e.base)
	next := map[string]string{}
	verifiers := map[string]string{}
	for name, cfg := range map[string]*oauth2.Config{"wiki": wiki, "mail": mail} {
		verifiers[name] = oauth2.GenerateVerifier()
		resp, err := p.http.Get(cfg.AuthCodeURL("state-"+name, oauth2.S256ChallengeOption(verifiers[name])))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Request.URL.Path != "/signin" {
			t.Fatalf("%s: landed on %s, want the sign-in page", name, resp.Request.URL)
		}
		next[name] = resp.Request.URL.Query().Get("next")
	}
	if err := p.api.SignInTAP(ctx, "admin", e.pass); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mail", "wiki"} {
		cfg := map[string]*oauth2.Config{"wiki": wiki, "mail": mail}[name]
		resp, err := p.http.Get(e.base + next[name])
		if err != nil {
			t.Fatal(err)
		}
		q := callback(t, e, name, resp, readBody(t, resp))
		if q.Get("state") != "state-"+name || q.Get("code") == "" {
			t.Fatalf("%s: callback %v", name, q)
		}
		if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifiers[name])); err != nil {
			t.Fatalf("%s: exchange: %v", name, err)
		}
	}
}
