package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/web"
)

// record is one log record, every level.
type record struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// fullLog keeps every record the server logs, for the outage tests, which count ERROR lines.
type fullLog struct {
	mu      sync.Mutex
	records []record
}

func (l *fullLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *fullLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *fullLog) WithGroup(string) slog.Handler            { return l }
func (l *fullLog) Handle(_ context.Context, r slog.Record) error {
	rec := record{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, rec)
	return nil
}

// find returns the records matching keep.
func (l *fullLog) find(keep func(record) bool) []record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []record
	for _, r := range l.records {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func (l *fullLog) errors() []record {
	return l.find(func(r record) bool { return r.level >= slog.LevelError })
}

// newOutageHarness is newHarness on any store, logging every record to the returned log.
func newOutageHarness(t *testing.T, store latchkey.Store) (*harness, *fullLog) {
	t.Helper()
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
		t.Fatal(err)
	}
	logs := &fullLog{}
	logger := slog.New(logs)
	clock := &testClock{}
	svc := signin.New(store, wa, logger)
	svc.Now = clock.Now
	srv, err := New(svc, logger)
	if err != nil {
		t.Fatal(err)
	}
	handler = srv.Handler()
	return &harness{t: t, svc: svc, srv: srv, ts: ts, origin: origin, clock: clock, errors: &errorLog{},
		rp: virtualwebauthn.RelyingParty{ID: "localhost", Name: "Latchkey test", Origin: origin}}, logs
}

// outageAdmin creates a global administrator and returns a client signed in as them, with the
// CSRF token its forms need.
func outageAdmin(t *testing.T, h *harness) (*client, string) {
	t.Helper()
	ctx := context.Background()
	u := &latchkey.User{UserPrincipalName: "admin@example.com", Enabled: true, Roles: []string{latchkey.RoleGlobalAdmin}}
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	pass, _, err := h.svc.IssueAccessPass(ctx, u.ID, signin.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := h.newClient()
	c.mustSignInTAP(u.UserPrincipalName, pass)
	return c, c.formCSRF()
}

// postFormWith posts fields with the CSRF token csrf, loading no page first.
func (c *client) postFormWith(path, csrf string, fields url.Values) *response {
	c.h.t.Helper()
	v := url.Values{web.CSRFField: {csrf}}
	for k, vs := range fields {
		v[k] = vs
	}
	return c.do(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
}

// wantUnavailable checks an outage answer: 503, Retry-After, and the plain sentence (in the
// error JSON on the API, on the page otherwise).
func wantUnavailable(t *testing.T, what string, r *response, page bool) {
	t.Helper()
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("%s during the outage: %d %.300s, want 503", what, r.status, r.body)
		return
	}
	if got := r.header.Get("Retry-After"); got != httpedge.RetryAfterSeconds {
		t.Errorf("%s: Retry-After %q, want %q", what, got, httpedge.RetryAfterSeconds)
	}
	if page {
		if !strings.Contains(string(r.body), latchkey.UnavailableMessage) {
			t.Errorf("%s: the page does not say %q", what, latchkey.UnavailableMessage)
		}
		return
	}
	var b httpedge.ErrorBody
	r.decode(t, &b)
	if b.Error != "store_unavailable" || b.Message != latchkey.UnavailableMessage {
		t.Errorf("%s: %+v, want store_unavailable with %q", what, b, latchkey.UnavailableMessage)
	}
}

// runOutage drives one outage: what works before, many refused requests (API and page) and
// health checks during, one ERROR line for all of them, and after recovery the health check,
// the "store available again" line and writes that work. breakStore causes the outage, and
// mendStore ends it.
func runOutage(t *testing.T, h *harness, logs *fullLog, page func(c *client, csrf string, i int) *response, causeWord string, breakStore, mendStore func()) {
	admin, csrf := outageAdmin(t, h)
	health := h.newClient()
	if r := health.get("/healthz"); r.status != http.StatusOK {
		t.Fatalf("/healthz before the outage: %d %s", r.status, r.body)
	}
	if r := admin.post("/api/v1/users", map[string]any{"userPrincipalName": "before@example.com"}); r.status != http.StatusCreated {
		t.Fatalf("create a user before the outage: %d %s", r.status, r.body)
	}

	breakStore()
	const requests = 40
	for i := range requests {
		wantUnavailable(t, "POST /api/v1/users", admin.post("/api/v1/users", map[string]any{"userPrincipalName": fmt.Sprintf("during%d@example.com", i)}), false)
	}
	wantUnavailable(t, "the admin page", page(admin, csrf, 0), true)
	h.clock.Advance(signin.HeartbeatEvery)
	r := health.get("/healthz")
	wantUnavailable(t, "/healthz", r, true) // JSON with the sentence
	if errs := logs.errors(); len(errs) != 1 || !strings.HasPrefix(errs[0].msg, "store unavailable") ||
		!strings.Contains(errs[0].attrs["err"], causeWord) {
		t.Errorf("%d requests during the outage logged %d ERROR records, want one that names the cause (%q):", requests+2, len(errs), causeWord)
		for _, e := range errs {
			t.Errorf("  %s %v", e.msg, e.attrs)
		}
	}
	if n := len(logs.find(func(r record) bool { return r.msg == "request" && r.attrs["status"] == "500" })); n != 0 {
		t.Errorf("%d requests during the outage were answered 500", n)
	}

	mendStore()
	h.clock.Advance(signin.HeartbeatEvery)
	if r := health.get("/healthz"); r.status != http.StatusOK {
		t.Fatalf("/healthz after the outage: %d %s", r.status, r.body)
	}
	back := logs.find(func(r record) bool { return r.msg == "store available again" })
	if len(back) != 1 || back[0].level != slog.LevelInfo || back[0].attrs["failedCalls"] == "" || back[0].attrs["downFor"] == "" {
		t.Errorf("after the outage: %+v, want one INFO \"store available again\" with downFor and failedCalls", back)
	} else if n, _ := strconv.Atoi(back[0].attrs["failedCalls"]); n < requests {
		t.Errorf("failedCalls = %d, want the %d refused requests counted", n, requests)
	}
	if r := admin.post("/api/v1/users", map[string]any{"userPrincipalName": "after@example.com"}); r.status != http.StatusCreated {
		t.Fatalf("create a user after the outage: %d %s", r.status, r.body)
	}
	for _, upn := range []string{"before@example.com", "after@example.com"} {
		if _, err := h.svc.Store.FindUserByUPN(context.Background(), upn); err != nil {
			t.Errorf("%s after the outage: %v", upn, err)
		}
	}
	if errs := logs.errors(); len(errs) != 1 {
		t.Errorf("%d ERROR records in all, want the one of the outage", len(errs))
	}
}

// TestOutageSQLiteDiskFull fills the disk under a SQLite store (a small tmpfs, filled with a
// file): writes fail, reads still work, so the old read-only health check said 200.
func TestOutageSQLiteDiskFull(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs (this test needs root): %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v\n%s", err, out)
		}
	})
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h, logs := newOutageHarness(t, store)
	filler := filepath.Join(dir, "filler")
	page := func(c *client, csrf string, i int) *response {
		return c.postFormWith("/admin/users", csrf, url.Values{"upn": {fmt.Sprintf("page%d@example.com", i)}, "displayName": {"Page"}, "userType": {"member"}})
	}
	runOutage(t, h, logs, page, "full", func() { fillDisk(t, filler) }, func() {
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
	})
}

// fillDisk writes name until the file system is full.
func fillDisk(t *testing.T, name string) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill the disk: %v", err)
			}
			return
		}
	}
}

// TestOutagePostgresStopped stops the PostgreSQL server under a node (a clean shutdown, then a
// crash): every request answers 503, one ERROR line, and the node recovers by itself when the
// server is back, with nothing acknowledged lost.
func TestOutagePostgresStopped(t *testing.T) {
	pg := pgtest.StartPrivate(t)
	store, err := postgres.Open(context.Background(), pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h, logs := newOutageHarness(t, store)
	page := func(c *client, _ string, _ int) *response { return c.get("/admin/users") }
	runOutage(t, h, logs, page, "connect", func() { pg.Stop(t, "fast") }, func() { pg.Start(t) })

	// A crash (every PostgreSQL process killed at once), then its recovery.
	admin, _ := outageAdmin2(t, h)
	pg.Stop(t, "immediate")
	wantUnavailable(t, "POST /api/v1/users after a crash", admin.post("/api/v1/users", map[string]any{"userPrincipalName": "crash@example.com"}), false)
	pg.Start(t)
	h.clock.Advance(signin.HeartbeatEvery)
	if r := h.newClient().get("/healthz"); r.status != http.StatusOK {
		t.Fatalf("/healthz after the crash recovery: %d %s", r.status, r.body)
	}
	if r := admin.post("/api/v1/users", map[string]any{"userPrincipalName": "after-crash@example.com"}); r.status != http.StatusCreated {
		t.Fatalf("create a user after the crash recovery: %d %s", r.status, r.body)
	}
	for _, upn := range []string{"before@example.com", "after@example.com", "after-crash@example.com"} {
		if _, err := store.FindUserByUPN(context.Background(), upn); err != nil {
			t.Errorf("%s after the crash: %v", upn, err)
		}
	}
	if n := len(logs.find(func(r record) bool { return r.msg == "store available again" })); n != 2 {
		t.Errorf("%d \"store available again\" lines after two outages, want 2", n)
	}
}

// outageAdmin2 signs in a second administrator (the first one's pass is used).
func outageAdmin2(t *testing.T, h *harness) (*client, *latchkey.User) {
	t.Helper()
	ctx := context.Background()
	u := &latchkey.User{UserPrincipalName: "admin2@example.com", Enabled: true, Roles: []string{latchkey.RoleGlobalAdmin}}
	if err := h.svc.Store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	pass, _, err := h.svc.IssueAccessPass(ctx, u.ID, signin.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := h.newClient()
	c.mustSignInTAP(u.UserPrincipalName, pass)
	return c, u
}

// TestCancelledRequestIsNotAnError: a client that gives up while its request waits for the
// database (another process holds the write lock) is logged as 499, not as an error or a 500.
func TestCancelledRequestIsNotAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latchkey.db")
	store, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h, logs := newOutageHarness(t, store)
	admin, _ := outageAdmin(t, h)

	// A backup, say, holds the write lock.
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The client gives up as soon as its request has gone out.
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { cancel() }})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.origin+"/api/v1/users", strings.NewReader(`{"userPrincipalName":"cancelled@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", h.origin)
	if resp, err := admin.http.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the request was answered (%d) before the client gave up", resp.StatusCode)
	}

	isCreate := func(r record) bool { return r.msg == "request" && r.attrs["path"] == "/api/v1/users" }
	deadline := time.Now().Add(30 * time.Second)
	for len(logs.find(isCreate)) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // waiting for the server to finish the abandoned request
	}
	got := logs.find(isCreate)
	if len(got) != 1 || got[0].attrs["status"] != "499" {
		t.Errorf("the abandoned request was logged as %+v, want one request line with status 499", got)
	}
	for _, e := range logs.errors() {
		t.Errorf("an abandoned request logged an error: %s %v", e.msg, e.attrs)
	}
	if n := len(logs.find(func(r record) bool { return r.msg == "store unavailable" })); n != 0 {
		t.Errorf("an abandoned request was taken for an outage")
	}
}
