package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadFailsOverWhenANodeDies runs the load on two nodes of one organisation (two HTTP
// servers in front of one go-webauthn server, as two Latchkey nodes share a database) and kills
// the first node mid-run. Each client on the dead node fails one sign-in, moves to the other
// node and goes on signing in there; the errors count failed sign-ins, not retries.
func TestLoadFailsOverWhenANodeDies(t *testing.T) {
	ctx := context.Background()
	b, err := StartBaseline()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	var nodeA *httptest.Server
	var servedA, servedB atomic.Int64
	var kill sync.Once
	const killAfter = 40 // requests served by A before it dies
	nodeA = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if servedA.Add(1) == killAfter {
			kill.Do(func() {
				go func() { nodeA.CloseClientConnections(); nodeA.Close() }()
			})
		}
		b.server.Handler.ServeHTTP(w, r)
	}))
	defer kill.Do(nodeA.Close)
	nodeB := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		servedB.Add(1)
		b.server.Handler.ServeHTTP(w, r)
	}))
	defer nodeB.Close()

	cfg := Config{URLs: []string{nodeA.URL, nodeB.URL}, Users: 8, Concurrency: 4, Duration: 2 * time.Second}
	transport := NewTransport(cfg.Concurrency)
	defer transport.CloseIdleConnections()
	users := make([]*user, cfg.Users)
	onA := 0
	for i := range users {
		c := NewClient(cfg.URLs[i%2], transport)
		a, err := NewAuthenticator(b.URL, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Register(ctx, a); err != nil {
			t.Fatalf("register user %d: %v", i, err)
		}
		users[i] = &user{client: c, auth: a}
		if i%2 == 0 {
			onA++
		}
	}
	servedA.Store(0)

	r := Load(ctx, cfg, users, "failover")
	if servedA.Load() < killAfter {
		t.Fatalf("node A served %d requests and was never killed; the run was too short", servedA.Load())
	}
	if r.Errors < 1 || r.Errors > onA {
		t.Errorf("errors = %d (%v), want between 1 and %d: one failed sign-in per client that was on the dead node", r.Errors, r.ErrorsByCode, onA)
	}
	if got := r.Failovers[nodeA.URL]; got != r.Errors || len(r.Failovers) != 1 {
		t.Errorf("failovers = %v, want %d from %s only", r.Failovers, r.Errors, nodeA.URL)
	}
	for _, u := range users {
		if u.client.BaseURL != nodeB.URL {
			t.Errorf("a client still talks to %s after node A died", u.client.BaseURL)
		}
	}
	if r.Ceremonies < 20 {
		t.Errorf("%d ceremonies in all, want the load to go on on node B", r.Ceremonies)
	}
	t.Logf("%d ceremonies, %d errors %v, failovers %v, node B served %d requests", r.Ceremonies, r.Errors, r.ErrorsByCode, r.Failovers, servedB.Load())
}
