package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/web"
)

// newClientAt is newClient whose connections come from ip, a loopback address other than
// 127.0.0.1, so that the server sees the requests come from that address.
func (h *harness) newClientAt(ip string) *client {
	h.t.Helper()
	c := h.newClient()
	addr := h.ts.Listener.Addr().String()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return d.DialContext(ctx, network, addr)
	}, MaxIdleConnsPerHost: 100}
	h.t.Cleanup(tr.CloseIdleConnections)
	c.http.Transport = tr
	return c
}

// stopClock is a service clock that moves only when told, so that a burst of requests all
// happen at one instant however slowly the machine runs them.
type stopClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stopClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stopClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// stopServiceClock stops the service's clock at the harness's current time.
func (h *harness) stopServiceClock() *stopClock {
	sc := &stopClock{now: h.clock.Now()}
	h.svc.Now = sc.Now
	return sc
}

// hashCount counts the argon2id hashes the service runs, and the most running at once.
type hashCount struct{ calls, peak atomic.Int64 }

func countHashes(svc *signin.Service) *hashCount {
	hc := &hashCount{}
	svc.OnHash = func(running int) {
		hc.calls.Add(1)
		for p := hc.peak.Load(); int64(running) > p && !hc.peak.CompareAndSwap(p, int64(running)); p = hc.peak.Load() {
		}
	}
	return hc
}

// answer is one refusal (or success) as the caller sees it, from JSON or from a page.
type answer struct {
	status     int
	code       string
	message    string
	detail     string
	retryAfter string
	body       []byte
	cookie     bool // a session cookie was set
}

var (
	pageCodeRE    = regexp.MustCompile(`data-code="([^"]*)">\s*<p>([^<]*)</p>`)
	rfc3339RE     = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	loopbackAddrs = regexp.MustCompile(`127\.0\.0\.\d+`)
)

// readAnswer reads an answer: the error JSON of the API, or the refusal shown on a page.
func readAnswer(resp *http.Response) (answer, error) {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: body}
	for _, ck := range resp.Cookies() {
		if ck.Name == httpedge.SessionCookie && ck.Value != "" {
			a.cookie = true
		}
	}
	if resp.StatusCode < 400 {
		return a, nil
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var e httpedge.ErrorBody
		if err := json.Unmarshal(body, &e); err != nil {
			return a, fmt.Errorf("status %d: not the error JSON: %s", resp.StatusCode, body)
		}
		a.code, a.message, a.detail = e.Error, e.Message, e.Detail
		return a, nil
	}
	m := pageCodeRE.FindSubmatch(body)
	if m == nil {
		return a, fmt.Errorf("status %d: no refusal on the page: %.500s", resp.StatusCode, body)
	}
	a.code, a.message = string(m[1]), html.UnescapeString(string(m[2]))
	return a, nil
}

// burst sends n requests made by mk at once (released together) and returns their answers.
func burst(t *testing.T, c *client, n int, mk func(i int) *http.Request) []answer {
	t.Helper()
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = mk(i)
	}
	answers := make([]answer, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Go(func() {
			<-start
			resp, err := c.http.Do(reqs[i])
			if err != nil {
				errs[i] = err
				return
			}
			answers[i], errs[i] = readAnswer(resp)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return answers
}

// guessTarget is whom an attempt is for: a user name as typed, or (for a code) the token of a
// password step, which names its user.
type guessTarget struct {
	name  string
	user  *latchkey.User // nil for a name nobody has
	token string
}

// guessMethod is one guessable secret, sent over HTTP as a person's browser or program sends it.
type guessMethod struct {
	name    string
	invalid string // the code of a wrong guess
	// prepare sets up alice, whose secret the attacker guesses, and returns her target and her
	// right secret; prepare runs before the service clock is stopped.
	prepare func(h *harness) (alice guessTarget, right func() string)
	// begin readies a target for attempts from ip (the code step needs a password step first).
	begin func(h *harness, tg guessTarget, ip string) guessTarget
	// others returns n more targets for the per-address test (set up before the clock stops).
	others func(h *harness, n int) []guessTarget
	wrong  func(h *harness, tg guessTarget) string
	send   func(c *client, csrf string, tg guessTarget, secret string) *http.Request
	// unknownNames: whether an attempt names a user (then a name nobody has must be answered
	// exactly as alice's is).
	unknownNames bool
}

func jsonRequest(c *client, path string, v any) *http.Request {
	b, _ := json.Marshal(v)
	req, _ := http.NewRequest(http.MethodPost, c.h.origin+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", c.h.origin)
	return req
}

func formRequest(c *client, csrf, path string, fields url.Values) *http.Request {
	fields.Set(web.CSRFField, csrf)
	req, _ := http.NewRequest(http.MethodPost, c.h.origin+path, strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.h.origin)
	return req
}

// wrongTOTPCode returns a code that matches none of the steps the service accepts now.
func wrongTOTPCode(secret string, now time.Time) string {
	valid := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		c, _ := totp.GenerateCode(secret, now.Add(d))
		valid[c] = true
	}
	for n := 0; ; n++ {
		if c := fmt.Sprintf("%06d", (n*104729+7)%1000000); !valid[c] {
			return c
		}
	}
}

var guessMethods = []guessMethod{
	{
		name: "tap", invalid: "tap_invalid", unknownNames: true,
		prepare: func(h *harness) (guessTarget, func() string) {
			u := h.createUser("alice@example.com", false)
			pass := h.issueTAP(u.ID, signin.IssueOptions{})
			return guessTarget{name: u.UserPrincipalName, user: u}, func() string { return pass }
		},
		others: func(h *harness, n int) []guessTarget {
			var ts []guessTarget
			for i := range n {
				u := h.createUser(fmt.Sprintf("user%d@example.com", i), false)
				ts = append(ts, guessTarget{name: u.UserPrincipalName, user: u})
			}
			return ts
		},
		wrong: func(*harness, guessTarget) string { return "WRONGPAS" },
		send: func(c *client, _ string, tg guessTarget, secret string) *http.Request {
			return jsonRequest(c, "/api/v1/signin/tap", map[string]string{"username": tg.name, "tap": secret})
		},
	},
	{
		name: "password", invalid: "password_invalid", unknownNames: true,
		prepare: func(h *harness) (guessTarget, func() string) {
			h.enableLegacy(3)
			u := h.createUser("alice@example.com", false)
			h.withLegacyCredentials(u, false)
			return guessTarget{name: u.UserPrincipalName, user: u}, func() string { return legacyPassword }
		},
		others: func(h *harness, n int) []guessTarget {
			var ts []guessTarget
			for i := range n {
				u := h.createUser(fmt.Sprintf("user%d@example.com", i), false)
				h.withLegacyCredentials(u, false)
				ts = append(ts, guessTarget{name: u.UserPrincipalName, user: u})
			}
			return ts
		},
		wrong: func(*harness, guessTarget) string { return "not the password at all" },
		send: func(c *client, csrf string, tg guessTarget, secret string) *http.Request {
			return formRequest(c, csrf, "/signin/password", url.Values{"username": {tg.name}, "password": {secret}})
		},
	},
	{
		name: "totp", invalid: "totp_invalid",
		prepare: func(h *harness) (guessTarget, func() string) {
			h.enableLegacy(3)
			u := h.createUser("alice@example.com", false)
			secret := h.withLegacyCredentials(u, true)
			return guessTarget{name: u.UserPrincipalName, user: u}, func() string {
				code, _ := totp.GenerateCode(secret, h.svc.Now())
				return code
			}
		},
		// The attacker knows the password: each target is a user whose password step is done.
		begin: func(h *harness, tg guessTarget, ip string) guessTarget {
			res, err := h.svc.SignInWithPassword(context.Background(), tg.name, legacyPassword, signin.Client{IP: ip})
			if err != nil || res.TOTPToken == "" {
				h.t.Fatalf("password step of %s: %+v, %v", tg.name, res, err)
			}
			tg.token = res.TOTPToken
			return tg
		},
		others: func(h *harness, n int) []guessTarget {
			var ts []guessTarget
			for i := range n {
				u := h.createUser(fmt.Sprintf("user%d@example.com", i), false)
				h.withLegacyCredentials(u, true)
				ts = append(ts, guessTarget{name: u.UserPrincipalName, user: u})
			}
			return ts
		},
		wrong: func(h *harness, tg guessTarget) string {
			creds, err := h.store.FindLegacyCredentials(context.Background(), tg.user.ID)
			if err != nil {
				h.t.Fatal(err)
			}
			return wrongTOTPCode(creds.TOTPSecret, h.svc.Now())
		},
		send: func(c *client, csrf string, tg guessTarget, secret string) *http.Request {
			return formRequest(c, csrf, "/signin/totp", url.Values{"token": {tg.token}, "code": {secret}})
		},
	},
}

// freeAttempts and freePerAddress are the rule of DESIGN §5: 5 free wrong guesses for one user
// from one address, 20 for one address over all users.
const (
	freeAttempts   = 5
	freePerAddress = 20
)

// checkBurst checks the answers to a burst of wrong guesses for one target from one address:
// at most the free ones were checked (the method's invalid code, 401), every other was refused
// with 429, too_many_attempts and a Retry-After of whole seconds, and no answer carries an
// internal id. It returns the number checked.
func checkBurst(t *testing.T, m guessMethod, answers []answer, ids []string) int {
	t.Helper()
	checked := 0
	for i, a := range answers {
		switch {
		case a.status == http.StatusUnauthorized && a.code == m.invalid:
			checked++
		case a.status == http.StatusTooManyRequests && a.code == "too_many_attempts":
			if n, err := strconv.Atoi(a.retryAfter); err != nil || n < 1 {
				t.Errorf("answer %d: 429 with Retry-After %q, want whole seconds", i, a.retryAfter)
			}
		default:
			t.Errorf("answer %d: %d %s, want 401 %s or 429 too_many_attempts (%.300s)", i, a.status, a.code, m.invalid, a.body)
		}
		if a.cookie {
			t.Errorf("answer %d set a session cookie", i)
		}
		for _, id := range ids {
			if id != "" && bytes.Contains(a.body, []byte(id)) {
				t.Errorf("answer %d carries the internal id %s: %.300s", i, id, a.body)
			}
		}
	}
	if checked > freeAttempts {
		t.Errorf("%d of %d concurrent wrong guesses were checked (401), want at most %d; the rest 429", checked, len(answers), freeAttempts)
	}
	if checked == 0 {
		t.Errorf("none of %d wrong guesses was checked: the free ones must be", len(answers))
	}
	return checked
}

// shapes returns the distinct answers of a burst with what differs by right (the caller's
// address and the time the next try is allowed) blanked out.
func shapes(answers []answer) map[string]int {
	m := map[string]int{}
	for _, a := range answers {
		detail := rfc3339RE.ReplaceAllString(loopbackAddrs.ReplaceAllString(a.detail, "ADDR"), "TIME")
		m[fmt.Sprintf("%d %s %q %q Retry-After:%v", a.status, a.code, a.message, detail, a.retryAfter != "")]++
	}
	return m
}

// TestGuessingBurst is the attack of the hardening issue, for a pass, a password and an
// authenticator code: 90 wrong guesses at once for one user from one address. At most the 5
// free ones are checked (and hashed), every other is answered 429 with Retry-After before any
// hashing; a user name nobody has is answered exactly alike; no answer carries an internal id;
// the person's right secret from their own address still works; and one address gets 20 free
// wrong guesses over all users, then 429.
func TestGuessingBurst(t *testing.T) {
	for _, m := range guessMethods {
		t.Run(m.name, func(t *testing.T) {
			h := newHarness(t)
			hashes := countHashes(h.svc)
			alice, right := m.prepare(h)
			others := m.others(h, 5)
			clock := h.stopServiceClock()
			begin := func(tg guessTarget, ip string) guessTarget {
				if m.begin != nil {
					return m.begin(h, tg, ip)
				}
				return tg
			}
			ids := []string{alice.user.ID}
			if ap, err := h.store.FindAccessPassByUser(context.Background(), alice.user.ID); err == nil {
				ids = append(ids, ap.ID)
			}

			const n = 90
			attacker := h.newClientAt("127.0.0.2")
			csrf := attacker.formCSRF()
			tg := begin(alice, "127.0.0.2")
			wrong := m.wrong(h, tg)
			before := hashes.calls.Load()
			known := burst(t, attacker, n, func(int) *http.Request { return m.send(attacker, csrf, tg, wrong) })
			checked := checkBurst(t, m, known, ids)
			hashed := hashes.calls.Load() - before
			t.Logf("%s: %d concurrent wrong guesses: %d checked (401), %d refused (429); %d argon2id hashes", m.name, n, checked, n-checked, hashed)
			if hashed > freeAttempts {
				t.Errorf("%d argon2id hashes for %d concurrent wrong guesses, want at most %d", hashed, n, freeAttempts)
			}

			if m.unknownNames {
				other := h.newClientAt("127.0.0.3")
				csrf := other.formCSRF()
				nobody := guessTarget{name: "nobody@example.com"}
				unknown := burst(t, other, n, func(int) *http.Request { return m.send(other, csrf, nobody, wrong) })
				checkBurst(t, m, unknown, ids)
				if got, want := shapes(unknown), shapes(known); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("a name nobody has is answered differently from alice's:\nunknown %v\nalice   %v", got, want)
				}
			}

			// The person, from their own address, is not held back by the attack.
			person := h.newClientAt("127.0.0.4")
			pcsrf := person.formCSRF()
			ptg := begin(alice, "127.0.0.4")
			resp, err := person.http.Do(m.send(person, pcsrf, ptg, right()))
			if err != nil {
				t.Fatal(err)
			}
			if a, err := readAnswer(resp); err != nil || !a.cookie {
				t.Errorf("the person's right secret from another address after the attack: %d %s %v (%.300s)", a.status, a.code, err, a.body)
			}

			// One address, many users, a few wrong guesses each: 20 are checked, then 429.
			clock.Advance(time.Hour)
			sprayer := h.newClientAt("127.0.0.5")
			scsrf := sprayer.formCSRF()
			var targets []guessTarget
			for _, o := range others {
				targets = append(targets, begin(o, "127.0.0.5"))
			}
			for i := range freePerAddress + 5 {
				o := targets[i%len(targets)]
				resp, err := sprayer.http.Do(m.send(sprayer, scsrf, o, m.wrong(h, o)))
				if err != nil {
					t.Fatal(err)
				}
				a, err := readAnswer(resp)
				if err != nil {
					t.Fatal(err)
				}
				wantStatus, wantCode := http.StatusUnauthorized, m.invalid
				if i >= freePerAddress {
					wantStatus, wantCode = http.StatusTooManyRequests, "too_many_attempts"
				}
				if a.status != wantStatus || a.code != wantCode || (wantStatus == http.StatusTooManyRequests && a.retryAfter == "") {
					t.Errorf("wrong guess %d from one address over %d users: %d %s (Retry-After %q), want %d %s",
						i+1, len(targets), a.status, a.code, a.retryAfter, wantStatus, wantCode)
				}
			}
		})
	}
}
