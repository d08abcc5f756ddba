package signin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// clock is an injectable time source for the service.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newService(t *testing.T) (*Service, *clock) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	wa, err := passkey.NewWebAuthn("http://localhost:8080", "Latchkey test")
	if err != nil {
		t.Fatal(err)
	}
	svc := New(st, wa, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := &clock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	svc.Now = c.Now
	return svc, c
}

func addUser(t *testing.T, svc *Service, upn string) *latchkey.User {
	t.Helper()
	u := &latchkey.User{UserPrincipalName: upn, Enabled: true}
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := svc.Store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := latchkey.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	var e *latchkey.Error
	if le, ok := err.(*latchkey.Error); ok {
		e = le
	}
	if e == nil || e.Message == "" || e.Detail == "" {
		t.Fatalf("refusal %v lacks a message or detail", err)
	}
}

var client = Client{IP: "192.0.2.10", UserAgent: "test", CorrelationID: "c1"}

func TestTAPPolicyValidate(t *testing.T) {
	ok := DefaultTAPPolicy()
	if err := ok.Validate(); err != nil {
		t.Fatalf("default policy invalid: %v", err)
	}
	for name, mutate := range map[string]func(*TAPPolicy){
		"min below 10":        func(p *TAPPolicy) { p.MinimumLifetimeInMinutes = 9 },
		"max above 30 days":   func(p *TAPPolicy) { p.MaximumLifetimeInMinutes = 43201 },
		"min above max":       func(p *TAPPolicy) { p.MinimumLifetimeInMinutes, p.MaximumLifetimeInMinutes = 500, 400 },
		"default out of band": func(p *TAPPolicy) { p.DefaultLifetimeInMinutes = 30 },
		"length 7":            func(p *TAPPolicy) { p.DefaultLength = 7 },
		"length 49":           func(p *TAPPolicy) { p.DefaultLength = 49 },
		"bad state":           func(p *TAPPolicy) { p.State = "maybe" },
	} {
		p := DefaultTAPPolicy()
		mutate(&p)
		if err := p.Validate(); latchkey.ErrorCode(err) != "invalid_policy" {
			t.Errorf("%s: Validate = %v, want invalid_policy", name, err)
		}
	}
	for _, p := range []TAPPolicy{
		{State: "enabled", MinimumLifetimeInMinutes: 10, MaximumLifetimeInMinutes: 43200, DefaultLifetimeInMinutes: 10, DefaultLength: 48},
		{State: "disabled", MinimumLifetimeInMinutes: 43200, MaximumLifetimeInMinutes: 43200, DefaultLifetimeInMinutes: 43200, DefaultLength: 8},
	} {
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", p, err)
		}
	}
}

func TestIssueAccessPassDefaultsAndHashing(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	u := addUser(t, svc, "alice@example.com")
	pass, ap, err := svc.IssueAccessPass(ctx, u.ID, IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pass) != 8 || ap.LifetimeMinutes != 60 || ap.OneTime {
		t.Fatalf("pass %q lifetime %d oneTime %v, want 8 chars, 60 min, multi-use", pass, ap.LifetimeMinutes, ap.OneTime)
	}
	if !ap.StartAt.Equal(c.Now()) || !ap.ExpiresAt().Equal(c.Now().Add(time.Hour)) {
		t.Fatalf("start %v expires %v", ap.StartAt, ap.ExpiresAt())
	}
	stored, err := svc.Store.FindAccessPassByUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored.Hash, pass) || !strings.HasPrefix(stored.Hash, "$argon2id$") {
		t.Fatalf("stored hash %q must be an argon2id hash not containing the pass", stored.Hash)
	}
	if !mustCheck(t, svc, stored.Hash, pass) || mustCheck(t, svc, stored.Hash, pass+"x") {
		t.Fatal("checkPass does not tell the right pass from a wrong one")
	}
	// Bounds come from the policy.
	if _, _, err := svc.IssueAccessPass(ctx, u.ID, IssueOptions{LifetimeMinutes: 30}); latchkey.ErrorCode(err) != "tap_lifetime_out_of_bounds" {
		t.Fatalf("30-minute pass under a 60-minute minimum: %v", err)
	}
	p := DefaultTAPPolicy()
	p.DefaultLength, p.MinimumLifetimeInMinutes, p.DefaultLifetimeInMinutes = 48, 10, 10
	if err := setTAPPolicy(ctx, svc, p); err != nil {
		t.Fatal(err)
	}
	pass, ap, err = svc.IssueAccessPass(ctx, u.ID, IssueOptions{})
	if err != nil || len(pass) != 48 || ap.LifetimeMinutes != 10 {
		t.Fatalf("after policy change: pass %d chars, lifetime %d, err %v; want 48, 10", len(pass), ap.LifetimeMinutes, err)
	}
}

// TestRecoveryPass: a recovery pass has its own lifetime of at most 15 minutes, outside the
// policy's bounds (here a 60-minute minimum), starts now whatever start is asked, and works once.
func TestRecoveryPass(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	u := addUser(t, svc, "alice@example.com")
	pass, ap, err := svc.IssueAccessPass(ctx, u.ID, IssueOptions{Recovery: true, StartAt: c.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if ap.LifetimeMinutes != RecoveryMaxLifetime || !ap.OneTime || !ap.StartAt.Equal(c.Now()) {
		t.Fatalf("recovery pass: lifetime %d, one-time %v, start %v; want 15, true, now", ap.LifetimeMinutes, ap.OneTime, ap.StartAt)
	}
	for _, minutes := range []int{-1, 16, 60} {
		if _, _, err := svc.IssueAccessPass(ctx, u.ID, IssueOptions{Recovery: true, LifetimeMinutes: minutes}); latchkey.ErrorCode(err) != "tap_lifetime_out_of_bounds" {
			t.Errorf("recovery pass of %d minutes: %v; want tap_lifetime_out_of_bounds", minutes, err)
		}
	}
	if _, ap, err := svc.IssueAccessPass(ctx, u.ID, IssueOptions{Recovery: true, LifetimeMinutes: 5}); err != nil || ap.LifetimeMinutes != 5 {
		t.Fatalf("5-minute recovery pass: %+v, %v", ap, err)
	}
	pass, _, err = svc.IssueAccessPass(ctx, u.ID, IssueOptions{Recovery: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SignInWithTAP(ctx, u.UserPrincipalName, pass, client); err != nil {
		t.Fatalf("recovery pass refused: %v", err)
	}
	_, err = svc.SignInWithTAP(ctx, u.UserPrincipalName, pass, client)
	wantCode(t, err, "tap_used")
}

func TestNewPassReplacesOld(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	u := addUser(t, svc, "alice@example.com")
	old, _, err := svc.IssueAccessPass(ctx, u.ID, IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fresh, _, err := svc.IssueAccessPass(ctx, u.ID, IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.SignInWithTAP(ctx, u.UserPrincipalName, old, client)
	wantCode(t, err, "tap_invalid")
	if _, err := svc.SignInWithTAP(ctx, u.UserPrincipalName, fresh, client); err != nil {
		t.Fatalf("new pass refused: %v", err)
	}
}

func TestTAPStatesAndSessionLifetimes(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	u := addUser(t, svc, "alice@example.com")

	// A pass that starts tomorrow does not work today, and says when it will.
	pass, _, err := svc.IssueAccessPass(ctx, u.ID, IssueOptions{StartAt: c.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.SignInWithTAP(ctx, "ALICE@example.com", pass, client)
	wantCode(t, err, "tap_not_yet_valid")

	// Multi-use: the session ends when the pass expires.
	c.Add(24*time.Hour + time.Minute)
	si, err := svc.SignInWithTAP(ctx, "alice@example.com", pass, client)
	if err != nil {
		t.Fatal(err)
	}
	ap, _ := svc.Store.FindAccessPassByUser(ctx, u.ID)
	if !si.Session.ExpiresAt.Equal(ap.ExpiresAt()) || !si.Session.HasMethod(latchkey.MethodTAP) {
		t.Fatalf("multi-use session expires %v, want the pass's expiry %v", si.Session.ExpiresAt, ap.ExpiresAt())
	}
	if _, err := svc.SignInWithTAP(ctx, "alice@example.com", pass, client); err != nil {
		t.Fatalf("multi-use pass refused on second use: %v", err)
	}
	c.Add(time.Hour)
	_, err = svc.SignInWithTAP(ctx, "alice@example.com", pass, client)
	wantCode(t, err, "tap_expired")
	if _, _, err := svc.Authenticate(ctx, si.Token); latchkey.ErrorCode(err) != "not_signed_in" {
		t.Fatalf("session outlived its pass: %v", err)
	}

	// One-time: one session of at most 10 minutes, then the pass is spent.
	pass, _, err = svc.IssueAccessPass(ctx, u.ID, IssueOptions{OneTime: true, LifetimeMinutes: 120})
	if err != nil {
		t.Fatal(err)
	}
	si, err = svc.SignInWithTAP(ctx, "alice@example.com", pass, client)
	if err != nil {
		t.Fatal(err)
	}
	if got := si.Session.ExpiresAt.Sub(c.Now()); got != OneTimeTAPSessionLifetime {
		t.Fatalf("one-time session lasts %v, want %v", got, OneTimeTAPSessionLifetime)
	}
	_, err = svc.SignInWithTAP(ctx, "alice@example.com", pass, client)
	wantCode(t, err, "tap_used")

	// Disabled by policy.
	p := DefaultTAPPolicy()
	p.State = "disabled"
	if err := setTAPPolicy(ctx, svc, p); err != nil {
		t.Fatal(err)
	}
	_, _, err = svc.IssueAccessPass(ctx, u.ID, IssueOptions{})
	wantCode(t, err, "tap_disabled_by_policy")
}

func TestOneTimeTAPRaceHasOneWinner(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	u := addUser(t, svc, "alice@example.com")
	pass, _, err := svc.IssueAccessPass(ctx, u.ID, IssueOptions{OneTime: true})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Each from an address of its own, so that the throttle lets every one be checked.
			_, err := svc.SignInWithTAP(ctx, u.UserPrincipalName, pass, Client{IP: fmt.Sprintf("198.51.100.%d", i)})
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	wins := 0
	for err := range errs {
		if err == nil {
			wins++
			continue
		}
		switch latchkey.ErrorCode(err) {
		case "tap_used":
		default:
			t.Errorf("unexpected refusal: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d goroutines signed in with one one-time pass, want exactly 1", wins)
	}
}

func TestTAPGuessingIsSlowedThenStopped(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	u := addUser(t, svc, "alice@example.com")
	pass, _, err := svc.IssueAccessPass(ctx, u.ID, IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	attacker := Client{IP: "203.0.113.9"}
	guess := func(c Client, p string) error {
		_, err := svc.SignInWithTAP(ctx, u.UserPrincipalName, p, c)
		return err
	}
	for range pairRule.Free {
		wantCode(t, guess(attacker, "wrongpass"), "tap_invalid")
	}
	// From that address the next attempt must wait, even with the right pass, and says so plainly.
	err = guess(attacker, pass)
	wantCode(t, err, "too_many_attempts")
	if e := err.(*latchkey.Error); !strings.Contains(e.Message, "Wait 1 second") || e.RetryAfter != time.Second {
		t.Fatalf("throttle message %q, Retry-After %v: does not say how long to wait", e.Message, e.RetryAfter)
	}
	if latchkey.ErrorKind(err) != latchkey.ETOOMANYREQUEST {
		t.Fatalf("throttle kind %s, want too_many", latchkey.ErrorKind(err))
	}
	// After the delay the right pass works and resets the counts.
	c.Add(time.Second)
	if err := guess(attacker, pass); err != nil {
		t.Fatalf("right pass after the delay: %v", err)
	}
	for _, key := range []string{userThrottleKey(u.ID), tapGuessed.pairKey(u.UserPrincipalName, attacker.IP)} {
		if th, _ := svc.Store.FindThrottle(ctx, key); th.Failures != 0 {
			t.Fatalf("success left %d failures counted on %s", th.Failures, key)
		}
	}
	// Delays double: 1 s, 2 s, then 4 s.
	for range pairRule.Free {
		wantCode(t, guess(attacker, "wrongpass"), "tap_invalid")
	}
	c.Add(time.Second)
	wantCode(t, guess(attacker, "wrongpass"), "tap_invalid")
	c.Add(2 * time.Second)
	wantCode(t, guess(attacker, "wrongpass"), "tap_invalid")
	c.Add(3 * time.Second)
	wantCode(t, guess(attacker, pass), "too_many_attempts")
	c.Add(time.Second)
	if err := guess(attacker, pass); err != nil {
		t.Fatalf("right pass after 4 s: %v", err)
	}

	// Guesses from many addresses never make the person wait: the right pass from their own
	// address works up to the 99th consecutive failure...
	person := Client{IP: "192.0.2.44"}
	fill := func(n int) {
		for range n {
			if _, _, err := svc.Store.ReserveAttempt(ctx, userThrottleKey(u.ID), c.Now(), latchkey.AttemptRule{Free: math.MaxInt32}); err != nil {
				t.Fatal(err)
			}
		}
	}
	fill(MaxTAPFailures - 1)
	if err := guess(person, pass); err != nil {
		t.Fatalf("right pass after %d failures elsewhere: %v", MaxTAPFailures-1, err)
	}
	// ...and at 100 the pass is stopped for good. A wrong guess is still answered as any wrong
	// guess is (it tells nobody the account exists); the right pass learns it is blocked.
	fill(MaxTAPFailures - 1)
	wantCode(t, guess(Client{IP: "198.51.100.1"}, "wrongpass"), "tap_invalid")
	if th, _ := svc.Store.FindThrottle(ctx, userThrottleKey(u.ID)); th.Failures != MaxTAPFailures {
		t.Fatalf("%d consecutive failures, want %d", th.Failures, MaxTAPFailures)
	}
	wantCode(t, guess(Client{IP: "198.51.100.2"}, "wrongpass"), "tap_invalid")
	c.Add(24 * time.Hour)
	err = guess(person, pass)
	wantCode(t, err, "tap_locked")
	if !strings.Contains(err.(*latchkey.Error).Message, "Ask your IT admin for a new one") {
		t.Fatalf("locked message %q does not tell the person what to do", err.(*latchkey.Error).Message)
	}
	// A new pass starts afresh.
	pass, _, err = svc.IssueAccessPass(ctx, u.ID, IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := guess(person, pass); err != nil {
		t.Fatalf("new pass after lock-out: %v", err)
	}
}

func TestTAPGuessingThrottledPerAddress(t *testing.T) {
	svc, c := newService(t)
	ctx := context.Background()
	addUser(t, svc, "alice@example.com")
	attacker := Client{IP: "203.0.113.9"}
	// Spraying many accounts from one address: each account sees one failure, the address many.
	for i := 0; i < ipRule.Free; i++ {
		_, err := svc.SignInWithTAP(ctx, "nobody"+string(rune('a'+i))+"@example.com", "wrongpass", attacker)
		wantCode(t, err, "tap_invalid")
	}
	_, err := svc.SignInWithTAP(ctx, "alice@example.com", "wrongpass", attacker)
	wantCode(t, err, "too_many_attempts")
	// Another address is not affected.
	_, err = svc.SignInWithTAP(ctx, "alice@example.com", "wrongpass", Client{IP: "192.0.2.77"})
	wantCode(t, err, "tap_invalid")
	// The count drains, one failure per drain: after one, the address has one free try again,
	// and then waits once more.
	c.Add(ipRule.Drain)
	_, err = svc.SignInWithTAP(ctx, "alice@example.com", "wrongpass", attacker)
	wantCode(t, err, "tap_invalid")
	_, err = svc.SignInWithTAP(ctx, "alice@example.com", "wrongpass", attacker)
	wantCode(t, err, "too_many_attempts")
	// Kept at it, the address gets about one guess per drain: past the free failures the wait
	// doubles up to 15 minutes while only one failure drains per drain.
	guesses := 0
	for range 24 * 60 {
		c.Add(time.Minute)
		_, err = svc.SignInWithTAP(ctx, "nobody@example.com", "wrongpass", attacker)
		if latchkey.ErrorCode(err) == "tap_invalid" {
			guesses++
		}
	}
	if perDay := int(24 * time.Hour / ipRule.Drain); guesses > perDay+ipRule.Free {
		t.Errorf("an address trying once a minute for a day got %d guesses, want at most %d", guesses, perDay+ipRule.Free)
	}
	if guesses == 0 {
		t.Error("an address held back for a day got no guess at all: the count does not drain")
	}

	// An office behind one address: a burst of mistakes in the morning, then one every ten
	// minutes all day, and nobody there is ever asked to wait.
	office := Client{IP: "198.51.100.80"}
	for i := range ipRule.Free - 1 {
		_, err := svc.SignInWithTAP(ctx, fmt.Sprintf("typo%d@example.com", i), "wrongpass", office)
		wantCode(t, err, "tap_invalid")
	}
	for i := range 24 * 6 {
		c.Add(ipRule.Drain)
		_, err := svc.SignInWithTAP(ctx, fmt.Sprintf("later%d@example.com", i), "wrongpass", office)
		wantCode(t, err, "tap_invalid")
	}
}

func TestMayRegister(t *testing.T) {
	svc, c := newService(t)
	tapSess := &latchkey.Session{Methods: []string{latchkey.MethodTAP}, AuthenticatedAt: c.Now().Add(-time.Hour)}
	if err := svc.MayRegister(tapSess); err != nil {
		t.Fatalf("TAP session may not register: %v", err)
	}
	pkSess := &latchkey.Session{Methods: []string{latchkey.MethodPasskey}, AuthenticatedAt: c.Now().Add(-4 * time.Minute)}
	if err := svc.MayRegister(pkSess); err != nil {
		t.Fatalf("fresh passkey session may not register: %v", err)
	}
	pkSess.AuthenticatedAt = c.Now().Add(-6 * time.Minute)
	wantCode(t, svc.MayRegister(pkSess), "reauthentication_required")
}

// mustHash hashes pw as passes and passwords are stored.
func mustHash(t *testing.T, svc *Service, pw string) string {
	t.Helper()
	h, err := svc.hashPass(context.Background(), pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// mustCheck reports whether pw matches the stored hash h.
func mustCheck(t *testing.T, svc *Service, h, pw string) bool {
	t.Helper()
	ok, err := svc.checkPass(context.Background(), h, pw)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// setMethodsPolicy stores p as the methods policy in force, validated but not linted: changes
// with their lockout lint are internal/policyadmin's; these tests need only the policy in force.
func setMethodsPolicy(ctx context.Context, svc *Service, p policy.MethodsPolicy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = svc.Store.UpdateSetting(ctx, MethodsPolicyKey, func([]byte) ([]byte, error) { return b, nil })
	return err
}

// setTAPPolicy validates t and stores it as the methods policy's TAP settings (see
// setMethodsPolicy).
func setTAPPolicy(ctx context.Context, svc *Service, t TAPPolicy) error {
	if err := t.Validate(); err != nil {
		return err
	}
	p, err := svc.MethodsPolicy(ctx)
	if err != nil {
		return err
	}
	m := &p.TemporaryAccessPass
	m.State, m.DefaultLifetimeInMinutes, m.MinimumLifetimeInMinutes = t.State, t.DefaultLifetimeInMinutes, t.MinimumLifetimeInMinutes
	m.MaximumLifetimeInMinutes, m.IsUsableOnce, m.DefaultLength = t.MaximumLifetimeInMinutes, t.IsUsableOnce, t.DefaultLength
	return setMethodsPolicy(ctx, svc, p)
}
