package main

// Process-level reliability tests: the real latchkey binary run as separate OS processes, two
// nodes on one PostgreSQL database, and one node on SQLite killed with SIGKILL in the middle of
// a registration load. Helpers are in process_helpers_test.go.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/latchkey/latchkey/internal/loadtest"
	"github.com/latchkey/latchkey/internal/pgtest"
)

// meJSON is the answer of GET /api/v1/me and the user and session of a sign-in.
type meJSON struct {
	User struct {
		ID                string   `json:"id"`
		UserPrincipalName string   `json:"userPrincipalName"`
		Roles             []string `json:"roles"`
	} `json:"user"`
	Passkey struct {
		ID string `json:"id"`
	} `json:"passkey"`
	Session struct {
		Methods []string `json:"methods"`
	} `json:"session"`
}

func me(ctx context.Context, t *testing.T, c *loadtest.Client) meJSON {
	t.Helper()
	var m meJSON
	if err := c.Do(ctx, "GET", "/api/v1/me", nil, &m); err != nil {
		t.Fatalf("GET /api/v1/me: %v", err)
	}
	return m
}

// passkeyIDs returns the ids of the signed-in person's passkeys.
func passkeyIDs(ctx context.Context, t *testing.T, c *loadtest.Client) []string {
	t.Helper()
	var list struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/me/passkeys", nil, &list); err != nil {
		t.Fatalf("GET /api/v1/me/passkeys: %v", err)
	}
	ids := make([]string, len(list.Value))
	for i, p := range list.Value {
		ids[i] = p.ID
	}
	return ids
}

// TestTwoNodesOnePostgres runs two latchkey processes on one PostgreSQL database behind one
// public URL, and checks that whatever one node starts the other can finish: sessions, both
// WebAuthn ceremonies, one-time passes, and a replayed assertion racing on both nodes at once.
func TestTwoNodesOnePostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db := pgtest.URL(t)
	a := startNodeOnFreePort(t, "A", "", "--database", db)
	pass := a.bootstrapPass()
	public := a.publicURL // the organisation's one origin and RP ID, shared by both nodes
	b := startNodeOnFreePort(t, "B", public, "--database", db)

	admin := browserVia(public, a, b)
	adminA, adminB := admin[0], admin[1]
	key, err := loadtest.NewAuthenticator(public, false)
	if err != nil {
		t.Fatal(err)
	}
	var passkeyID string

	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}

	step("session made on A works on B", func(t *testing.T) {
		if err := adminA.SignInTAP(ctx, "admin", pass); err != nil {
			t.Fatalf("bootstrap TAP sign-in on A: %v", err)
		}
		m := me(ctx, t, adminB)
		if m.User.UserPrincipalName != "admin" || !slices.Equal(m.Session.Methods, []string{"tap"}) {
			t.Fatalf("/api/v1/me on B: %+v", m)
		}
	})

	step("registration begun on A finishes on B", func(t *testing.T) {
		var creation []byte
		if err := adminA.Do(ctx, "POST", "/api/v1/webauthn/registration/options", "{}", &creation); err != nil {
			t.Fatalf("registration options on A: %v", err)
		}
		att, err := key.Attest(creation)
		if err != nil {
			t.Fatal(err)
		}
		var pk struct {
			ID string `json:"id"`
		}
		if err := adminB.Do(ctx, "POST", "/api/v1/webauthn/registration/verify", att, &pk); err != nil {
			t.Fatalf("registration verify on B: %v", err)
		}
		if ids := passkeyIDs(ctx, t, adminB); pk.ID == "" || !slices.Equal(ids, []string{pk.ID}) {
			t.Fatalf("passkeys listed on B: %q, want [%q]", ids, pk.ID)
		}
		passkeyID = pk.ID
	})

	step("sign-in begun on B finishes on A", func(t *testing.T) {
		c := browserVia(public, a, b)
		var request []byte
		if err := c[1].Do(ctx, "POST", "/api/v1/webauthn/authentication/options", `{"username":"admin"}`, &request); err != nil {
			t.Fatalf("sign-in options on B: %v", err)
		}
		assertion, err := key.Assert(request)
		if err != nil {
			t.Fatal(err)
		}
		var si meJSON
		if err := c[0].Do(ctx, "POST", "/api/v1/webauthn/authentication/verify", assertion, &si); err != nil {
			t.Fatalf("sign-in verify on A: %v", err)
		}
		if si.User.UserPrincipalName != "admin" || si.Passkey.ID != passkeyID || !slices.Equal(si.Session.Methods, []string{"passkey"}) {
			t.Fatalf("sign-in answer: %+v", si)
		}
		if m := me(ctx, t, c[1]); m.User.UserPrincipalName != "admin" || !slices.Equal(m.Session.Methods, []string{"passkey"}) {
			t.Fatalf("/api/v1/me on B after the passkey sign-in on A: %+v", m)
		}
	})

	step("one-time pass issued on B works once across nodes", func(t *testing.T) {
		bobID, err := adminA.CreateUser(ctx, "bob@example.com")
		if err != nil {
			t.Fatalf("create bob on A: %v", err)
		}
		var tap struct {
			Pass         string `json:"temporaryAccessPass"`
			IsUsableOnce bool   `json:"isUsableOnce"`
		}
		if err := adminB.Do(ctx, "POST", "/api/v1/users/"+url.PathEscape(bobID)+"/authentication/temporaryAccessPassMethods",
			map[string]any{"lifetimeInMinutes": 60, "isUsableOnce": true}, &tap); err != nil {
			t.Fatalf("issue bob a one-time pass on B: %v", err)
		}
		if tap.Pass == "" || !tap.IsUsableOnce {
			t.Fatalf("issued %+v, want a one-time pass", tap)
		}
		bob := browserVia(public, a)[0]
		if err := bob.SignInTAP(ctx, "bob@example.com", tap.Pass); err != nil {
			t.Fatalf("bob's TAP sign-in on A: %v", err)
		}
		if m := me(ctx, t, bob); m.User.ID != bobID {
			t.Fatalf("/api/v1/me for bob: %+v", m)
		}
		err = browserVia(public, b)[0].SignInTAP(ctx, "bob@example.com", tap.Pass)
		if ae := apiError(err); ae == nil || ae.Status != 401 || ae.Code != "tap_used" {
			t.Fatalf("second use of bob's one-time pass on B: %v, want 401 tap_used", err)
		}
	})

	step("one assertion racing on both nodes wins once", func(t *testing.T) {
		for round, username := range []string{"", "admin", ""} {
			raceAssertion(ctx, t, round, public, key, username, a, b)
		}
	})

	for _, n := range []*node{a, b} {
		if bad := n.serverErrors(); len(bad) > 0 {
			t.Errorf("node %s logged %d errors or 5xx answers:\n%s", n.name, len(bad), strings.Join(bad, "\n"))
		}
	}
	a.stop()
	b.stop()
	if out := a.stdout.String(); strings.Count(out, "\n") != 1 || !bootstrapLine.MatchString(out) {
		t.Errorf("node A printed %q, want the one bootstrap line", out)
	}
	if out := b.stdout.String(); out != "" {
		t.Errorf("node B, started on a bootstrapped store, printed %q", out)
	}
}

// raceAssertion answers one sign-in challenge once and sends that same answer 20 times at once,
// half to each node: exactly one may sign in, every other must be refused with a 4xx.
func raceAssertion(ctx context.Context, t *testing.T, round int, public string, key *loadtest.Authenticator, username string, nodes ...*node) {
	t.Helper()
	body := "{}"
	if username != "" {
		body = fmt.Sprintf(`{"username":%q}`, username)
	}
	var request []byte
	if err := browserVia(public, nodes[0])[0].Do(ctx, "POST", "/api/v1/webauthn/authentication/options", body, &request); err != nil {
		t.Fatalf("round %d: sign-in options: %v", round, err)
	}
	assertion, err := key.Assert(request)
	if err != nil {
		t.Fatal(err)
	}

	const racers = 20
	results := make([]string, racers)
	statuses := make([]int, racers)
	clients := make([]*loadtest.Client, racers)
	for i := range clients {
		clients[i] = browserVia(public, nodes[i%len(nodes)])[0]
		// Open the connection first, so that the verifies leave as close together as possible.
		if err := clients[i].Do(ctx, "GET", "/healthz", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			<-start
			err := c.Do(ctx, "POST", "/api/v1/webauthn/authentication/verify", assertion, nil)
			switch ae := apiError(err); {
			case err == nil:
				statuses[i], results[i] = 200, "ok"
			case ae != nil:
				statuses[i], results[i] = ae.Status, ae.Code
			default:
				results[i] = err.Error()
			}
		})
	}
	close(start)
	wg.Wait()

	wins := 0
	tally := map[string]int{}
	for i, s := range statuses {
		tally[fmt.Sprintf("%d %s via %s", s, results[i], nodes[i%len(nodes)].name)]++
		switch {
		case s == 200:
			wins++
		case s < 400 || s >= 500:
			t.Errorf("round %d: racer %d via %s: %d %s, want a 4xx refusal", round, i, nodes[i%len(nodes)].name, s, results[i])
		}
	}
	if wins != 1 {
		t.Errorf("round %d: %d of %d racers signed in with one assertion, want exactly 1", round, wins, racers)
	}
	t.Logf("round %d (username %q): %v", round, username, tally)
}

// TestCrashDuringRegistrationLoad kills a SQLite node with SIGKILL while eight clients register
// passkeys, restarts it on the same data folder, and checks that every registration the server
// acknowledged survived and still signs in, and that the database is intact.
func TestCrashDuringRegistrationLoad(t *testing.T) {
	const (
		workers  = 8
		loadFor  = 1200 * time.Millisecond // before the kill, once minAcked is reached
		minAcked = 20                      // registrations acknowledged before the kill
		maxLoad  = 6 * time.Second         // give up waiting for minAcked
		upn      = "carol@example.com"
	)
	t.Setenv("LATCHKEY_DATABASE", "") // the in-process CLI must open --data too
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	n := startNodeOnFreePort(t, "before-crash", "", "--data", dir)
	public := n.publicURL
	pass := n.bootstrapPass()

	admin := browserVia(public, n)[0]
	if err := admin.SignInTAP(ctx, "admin", pass); err != nil {
		t.Fatalf("bootstrap TAP sign-in: %v", err)
	}
	userID, err := admin.CreateUser(ctx, upn)
	if err != nil {
		t.Fatalf("create %s: %v", upn, err)
	}
	tap, err := admin.IssueTAP(ctx, userID, 60) // multi-use: the policy default
	if err != nil {
		t.Fatalf("issue a pass: %v", err)
	}
	carol := browserVia(public, n)[0]
	if err := carol.SignInTAP(ctx, upn, tap); err != nil {
		t.Fatalf("%s's TAP sign-in: %v", upn, err)
	}

	// The load: each worker registers one fresh authenticator after another on carol's session.
	type registration struct {
		key *loadtest.Authenticator
		id  string
	}
	var (
		mu         sync.Mutex
		acked      []registration
		unexpected []string
		attempts   atomic.Int64
		killed     atomic.Bool
		wg         sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for !killed.Load() {
				key, err := loadtest.NewAuthenticator(public, w%2 == 1)
				if err != nil {
					panic(err)
				}
				attempts.Add(1)
				pk, err := carol.Register(ctx, key)
				id, _ := pk["id"].(string)
				mu.Lock()
				switch {
				case err == nil && id != "":
					acked = append(acked, registration{key, id})
				case err == nil:
					unexpected = append(unexpected, fmt.Sprintf("worker %d: verify answered 200 without an id: %v", w, pk))
				case apiError(err) != nil || !killed.Load():
					// Before the kill nothing may fail; an answer from the server is never expected.
					unexpected = append(unexpected, fmt.Sprintf("worker %d: %v", w, err))
				}
				mu.Unlock()
			}
		})
	}
	started := time.Now()
	for {
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		enough := len(acked) >= minAcked
		mu.Unlock()
		if (enough && time.Since(started) >= loadFor) || time.Since(started) >= maxLoad {
			break
		}
	}
	killed.Store(true)
	n.kill()
	killedAt := time.Since(started)
	wg.Wait()
	var exit *exec.ExitError
	if !errors.As(n.waitErr, &exit) || exit.ExitCode() != -1 {
		t.Fatalf("the node exited with %v, want killed by a signal", n.waitErr)
	}
	t.Logf("killed after %s: %d registrations attempted, %d acknowledged", killedAt.Round(time.Millisecond), attempts.Load(), len(acked))
	if len(unexpected) > 0 {
		t.Errorf("%d registrations failed while the node ran:\n%s", len(unexpected), strings.Join(unexpected, "\n"))
	}
	if len(acked) < minAcked {
		t.Fatalf("only %d registrations acknowledged in %s, want at least %d for the crash to mean something", len(acked), killedAt, minAcked)
	}

	// The same data folder, the same port and so the same origin.
	n2 := restartNode(t, "after-crash", n.addr, public, "--data", dir)

	// carol's session is in the store, so it outlives the process.
	if m := me(ctx, t, carol); m.User.ID != userID {
		t.Errorf("/api/v1/me with the session from before the crash: %+v", m)
	}

	// A new pass from the CLI, in this process, on the same SQLite file the server has open.
	var out, errOut bytes.Buffer
	if code := Main(ctx, []string{"tap", "issue", upn, "--data", dir, "--json"}, &out, &errOut); code != 0 {
		t.Fatalf("latchkey tap issue: exit %d: %s", code, errOut.String())
	}
	var issued struct {
		Pass string `json:"temporaryAccessPass"`
	}
	if err := json.Unmarshal(out.Bytes(), &issued); err != nil || issued.Pass == "" {
		t.Fatalf("latchkey tap issue --json: %v %q", err, out.String())
	}
	after := browserVia(public, n2)[0]
	if err := after.SignInTAP(ctx, upn, issued.Pass); err != nil {
		t.Fatalf("TAP sign-in after the restart: %v", err)
	}
	listed := passkeyIDs(ctx, t, after)
	lost := 0
	for _, r := range acked {
		if !slices.Contains(listed, r.id) {
			lost++
			t.Errorf("acknowledged passkey %s is missing after the crash", r.id)
		}
	}
	t.Logf("after the restart: %d passkeys listed, %d acknowledged, %d lost; %d committed without an answer reaching the client",
		len(listed), len(acked), lost, len(listed)-(len(acked)-lost))

	// A sample signs in: the last acknowledged ones (the likeliest to be lost) and some spread
	// over the rest, alternately usernameless and username-first.
	var sample []registration
	for i := range acked {
		if i >= len(acked)-5 || i%max(1, len(acked)/8) == 0 {
			sample = append(sample, acked[i])
		}
	}
	if len(sample) < min(10, len(acked)) {
		t.Fatalf("sample of %d, want at least %d", len(sample), min(10, len(acked)))
	}
	for i, r := range sample {
		username := ""
		if i%2 == 1 {
			username = upn
		}
		c := browserVia(public, n2)[0]
		if err := c.SignIn(ctx, r.key, username); err != nil {
			t.Errorf("sign-in with acknowledged passkey %s (username %q): %v", r.id, username, err)
			continue
		}
		if m := me(ctx, t, c); m.User.ID != userID || !slices.Equal(m.Session.Methods, []string{"passkey"}) {
			t.Errorf("/api/v1/me after signing in with %s: %+v", r.id, m)
		}
	}
	t.Logf("%d sampled passkeys signed in after the restart", len(sample))

	for _, n := range []*node{n, n2} {
		if bad := n.serverErrors(); len(bad) > 0 {
			t.Errorf("node %s logged %d errors or 5xx answers:\n%s", n.name, len(bad), strings.Join(bad, "\n"))
		}
	}
	n2.stop()
	if out := n2.stdout.String(); out != "" {
		t.Errorf("the restarted node printed %q, want nothing: the store was bootstrapped", out)
	}

	// The file itself, once the server has closed it.
	sqlDB, err := sql.Open("sqlite", filepath.Join(dir, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	var integrity string
	if err := sqlDB.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("PRAGMA integrity_check: %q %v", integrity, err)
	}
	rows, err := sqlDB.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Error("PRAGMA foreign_key_check found rows pointing nowhere")
	}
	rows.Close()
	var stored int
	if err := sqlDB.QueryRowContext(ctx, "SELECT count(*) FROM passkeys WHERE user_id = ?", userID).Scan(&stored); err != nil || stored != len(listed) {
		t.Errorf("%d passkeys in the file (%v), %d listed by the API", stored, err, len(listed))
	}
}
