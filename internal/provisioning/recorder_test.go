package provisioning

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// syncBuffer is a log destination that goroutines may write at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// recorderSetup is a recorder around a stand-in for the SCIM server, on a real SQLite store,
// logging every level to log.
type recorderSetup struct {
	store  *sqlite.Store
	dbPath string
	svc    *signin.Service
	rec    *Recorder
	ts     *httptest.Server
	log    *syncBuffer
}

// standInSCIM resolves the bearer token as the SCIM server does (httpedge) and refuses every
// POST the worst way: its SCIM error quotes the whole body it was sent. Other requests get 200.
func standInSCIM(base *httpedge.Base) http.Handler {
	return base.APIActor(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/scim+json")
		if r.Method == http.MethodPost || r.Method == http.MethodPatch {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
				"status": "400", "scimType": "invalidValue", "detail": "cannot take " + string(body) + " with " + r.Header.Get("Authorization")})
			return
		}
		_, _ = w.Write([]byte(`{"totalResults":0}`))
	})
}

func newRecorderSetup(t *testing.T) *recorderSetup {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "latchkey.db")
	store, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	log := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := signin.New(store, nil, logger)
	rec := NewRecorder(svc, logger)
	base := &httpedge.Base{Logger: logger, Auth: svc}
	ts := httptest.NewServer(rec.Wrap(standInSCIM(base)))
	t.Cleanup(ts.Close)
	return &recorderSetup{store: store, dbPath: dbPath, svc: svc, rec: rec, ts: ts, log: log}
}

// token stores a token with scopes and returns its secret and record.
func (s *recorderSetup) token(t *testing.T, name string) (string, *latchkey.APIToken) {
	t.Helper()
	secret := signin.NewAPIToken()
	tok := &latchkey.APIToken{Name: name, Hash: signin.APITokenHash(secret), Scopes: []string{latchkey.ScopeUserReadWriteAll}, CreatedAt: time.Now()}
	if err := s.store.CreateAPIToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	return secret, tok
}

// send makes a request with Authorization: Bearer secret and returns its status.
func (s *recorderSetup) send(t *testing.T, method, path, secret, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, s.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := s.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (s *recorderSetup) logged(t *testing.T) []*latchkey.ProvisioningRequest {
	t.Helper()
	s.rec.Wait()
	got, err := s.store.ListProvisioningRequests(context.Background(), latchkey.ProvisioningFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// The attack: requests carrying passwords (as a member, nested, and as a PATCH value) and the
// token (in the header, the query and the body), refused by a server whose error quotes
// everything. Neither the passwords nor the token reach the store or the log; the rest of the
// request does.
func TestRecorderKeepsNoPasswordOrToken(t *testing.T) {
	s := newRecorderSetup(t)
	secret, tok := s.token(t, "HR sync")
	passwords := []string{"Hunter2-member", "Hunter2-nested", "Hunter2-patch"}
	post := `{"userName":"ada@example.com","Password":"Hunter2-member","x":{"y":[{"PASSWORD":"Hunter2-nested"}]},"echo":"` + secret + `"}`
	patch := `{"Operations":[{"op":"replace","value":"Hunter2-patch","path":"password"},{"op":"replace","path":"displayName","value":"Ada L"}]}`
	if got := s.send(t, "POST", "/scim/v2/Users?access_token="+secret, secret, post); got != http.StatusBadRequest {
		t.Fatalf("POST: status %d, want the stand-in's 400", got)
	}
	if got := s.send(t, "PATCH", "/scim/v2/Users/1", secret, patch); got != http.StatusBadRequest {
		t.Fatalf("PATCH: status %d, want 400", got)
	}
	if got := s.send(t, "GET", "/scim/v2/Users?filter=userName+eq+%22ada%22", secret, ""); got != http.StatusOK {
		t.Fatalf("GET: status %d, want 200", got)
	}
	reqs := s.logged(t)
	if len(reqs) != 3 {
		t.Fatalf("%d requests recorded, want 3", len(reqs))
	}
	get, patched, posted := reqs[0], reqs[1], reqs[2]
	for _, r := range reqs {
		if r.TokenID != tok.ID {
			t.Errorf("%s %s recorded with token %q, want %q", r.Method, r.Path, r.TokenID, tok.ID)
		}
		if r.CorrelationID != "" {
			t.Errorf("no correlation middleware here, yet the record has %q", r.CorrelationID)
		}
	}
	if posted.Status != 400 || posted.Method != "POST" || posted.Path != "/scim/v2/Users?access_token=%5Bredacted%5D" {
		t.Errorf("POST recorded as %s %s %d", posted.Method, posted.Path, posted.Status)
	}
	if want := `{"userName":"ada@example.com","Password":"[redacted]","x":{"y":[{"PASSWORD":"[redacted]"}]},"echo":"[redacted]"}`; posted.Body != want {
		t.Errorf("POST body recorded as %s, want %s", posted.Body, want)
	}
	if !strings.HasPrefix(posted.ErrorDetail, "invalidValue: cannot take {") || !strings.Contains(posted.ErrorDetail, "ada@example.com") {
		t.Errorf("POST error detail %q lacks the SCIM error", posted.ErrorDetail)
	}
	if !strings.Contains(patched.Body, `"value":"[redacted]","path":"password"`) || !strings.Contains(patched.Body, `"value":"Ada L"`) {
		t.Errorf("PATCH body recorded as %s", patched.Body)
	}
	if get.Body != "" || get.ErrorDetail != "" || get.Path != "/scim/v2/Users?filter=userName+eq+%22ada%22" {
		t.Errorf("a successful GET kept body %q, detail %q, path %q", get.Body, get.ErrorDetail, get.Path)
	}
	stored, err := json.Marshal(reqs)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range append(passwords, secret, strings.TrimPrefix(secret, signin.APITokenPrefix)) {
		if bytes.Contains(stored, []byte(leak)) {
			t.Errorf("the store holds %q: %s", leak, stored)
		}
		if strings.Contains(s.log.String(), leak) {
			t.Errorf("the log holds %q: %s", leak, s.log.String())
		}
	}
}

// A request with a revoked token is refused by the server, and the log still names the token.
func TestRecorderNamesARefusedToken(t *testing.T) {
	s := newRecorderSetup(t)
	secret, tok := s.token(t, "old HR sync")
	if err := s.store.RevokeAPIToken(context.Background(), tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := s.send(t, "GET", "/scim/v2/Users", secret, ""); got != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", got)
	}
	if got := s.send(t, "GET", "/scim/v2/Users", "lk_not-a-token", ""); got != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", got)
	}
	reqs := s.logged(t)
	if len(reqs) != 2 || reqs[1].TokenID != tok.ID || reqs[0].TokenID != "" {
		t.Fatalf("recorded %+v, want the revoked token named and the unknown one not", reqs)
	}
	if reqs[1].ErrorDetail == "" || !strings.HasPrefix(reqs[1].ErrorDetail, "invalid_token: ") {
		t.Errorf("error detail %q, want the refusal's code and detail", reqs[1].ErrorDetail)
	}
}

// A log that cannot be written does not fail the request: the failure is logged.
func TestRecorderWriteFailureIsLogged(t *testing.T) {
	s := newRecorderSetup(t)
	secret, _ := s.token(t, "HR sync")
	db, err := sql.Open("sqlite", s.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DROP TABLE provisioning_requests`); err != nil {
		t.Fatal(err)
	}
	if got := s.send(t, "GET", "/scim/v2/Users", secret, ""); got != http.StatusOK {
		t.Fatalf("status %d, want 200 whatever the log", got)
	}
	if got := s.send(t, "POST", "/scim/v2/Users", secret, `{"password":"Hunter2-lost"}`); got != http.StatusBadRequest {
		t.Fatalf("status %d, want the stand-in's 400", got)
	}
	s.rec.Wait()
	out := s.log.String()
	if strings.Count(out, "provisioning log: record a request") != 2 {
		t.Errorf("want two logged write failures, got:\n%s", out)
	}
	if strings.Contains(out, "Hunter2-lost") || strings.Contains(out, secret) {
		t.Errorf("the failure log holds a secret:\n%s", out)
	}
}

// The recorder keeps the log within its bounds.
func TestRecorderRetention(t *testing.T) {
	s := newRecorderSetup(t)
	s.rec.Keep = latchkey.ProvisioningRetention{Rows: 2, For: 24 * time.Hour}
	secret, _ := s.token(t, "HR sync")
	for _, path := range []string{"/scim/v2/Users?n=1", "/scim/v2/Users?n=2", "/scim/v2/Users?n=3"} {
		s.send(t, "GET", path, secret, "")
		s.rec.Wait() // one at a time, so that their order is known
	}
	reqs := s.logged(t)
	if len(reqs) != 2 || reqs[0].Path != "/scim/v2/Users?n=3" || reqs[1].Path != "/scim/v2/Users?n=2" {
		t.Fatalf("kept %d requests %v, want the two newest", len(reqs), reqs)
	}
	// A day later the next request is all that is kept.
	clock := time.Now().Add(25 * time.Hour)
	s.svc.Now = func() time.Time { return clock }
	s.send(t, "GET", "/scim/v2/Users?n=4", secret, "")
	if reqs := s.logged(t); len(reqs) != 1 || reqs[0].Path != "/scim/v2/Users?n=4" {
		t.Fatalf("a day later kept %v, want only the newest", reqs)
	}
}

// The log is written after the answer, off the request: while another writer holds the
// database, a SCIM request is still answered, and its record is stored once the writer is done.
func TestRecorderDoesNotHoldTheRequest(t *testing.T) {
	s := newRecorderSetup(t)
	secret, tok := s.token(t, "HR sync")
	// Used just now, so that resolving the token writes nothing.
	if err := s.store.TouchAPIToken(context.Background(), tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", s.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	// A recorder that wrote before answering would wait here for the lock, then fail its write.
	status := s.send(t, "GET", "/scim/v2/Users", secret, "")
	if _, err := conn.ExecContext(context.Background(), `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	if reqs := s.logged(t); len(reqs) != 1 || reqs[0].TokenID != tok.ID {
		t.Fatalf("recorded %v, want the request once the database was free", reqs)
	}
}
