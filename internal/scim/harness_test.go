package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// errorLog keeps the error-level records the server logs, so that a 5xx or an internal error
// hidden behind a refusal fails the test.
type errorLog struct {
	mu      sync.Mutex
	records []string
}

func (l *errorLog) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelError }
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler               { return l }
func (l *errorLog) WithGroup(string) slog.Handler                    { return l }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Message+" "+fmt.Sprint(r))
	return nil
}

// harness is the SCIM handler on a real SQLite store, mounted as the server mounts it, with a
// token that has User.ReadWrite.All and Group.ReadWrite.All.
type harness struct {
	t     *testing.T
	store *sqlite.Store
	dbDir string // the folder of the store's files
	svc   *signin.Service
	dir   *directory.Service
	ts    *httptest.Server
	token string // the provisioning token's secret
	now   time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dbDir := t.TempDir()
	store, err := sqlite.Open(context.Background(), filepath.Join(dbDir, "latchkey.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	elog := &errorLog{}
	svc := signin.New(store, nil, slog.New(elog))
	dir := directory.New(svc)
	mux := http.NewServeMux()
	mux.Handle(Prefix+"/", New(&httpedge.Base{Logger: slog.New(elog), Auth: svc}, dir).Handler())
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	h := &harness{t: t, store: store, dbDir: dbDir, svc: svc, dir: dir, ts: ts}
	h.token = h.createToken("HR provisioning", latchkey.ScopeUserReadWriteAll, latchkey.ScopeGroupReadWriteAll)
	t.Cleanup(func() {
		elog.mu.Lock()
		defer elog.mu.Unlock()
		for _, r := range elog.records {
			t.Errorf("server logged an error: %s", r)
		}
	})
	return h
}

// createToken creates an API token as the CLI does and returns its secret.
func (h *harness) createToken(name string, scopes ...string) string {
	h.t.Helper()
	secret, _, err := h.dir.CreateToken(context.Background(), latchkey.CLIActor, name, scopes, directory.TokenExpiry{Never: true})
	if err != nil {
		h.t.Fatalf("create token: %v", err)
	}
	return secret
}

// response is a finished exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// object decodes the body as a JSON object.
func (r *response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object (%v): %s", err, r.body)
	}
	return m
}

// do sends a request to the SCIM server; path is relative to the Tenant URL and may carry a
// raw query. headers are name, value pairs; "Authorization" defaults to the harness token.
func (h *harness) do(method, path, body string, headers ...string) *response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.ts.URL+Prefix+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatalf("request %s %s: %v", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		h.t.Errorf("%s %s: Content-Type %q, want application/scim+json", method, path, ct)
	}
	if resp.StatusCode >= 500 {
		h.t.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, b)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

// wantError fails the test unless r is a SCIM Error with status and scimType ("" for none).
func wantError(t *testing.T, what string, r *response, status int, scimType string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	m := r.object(t)
	if !reflect.DeepEqual(m["schemas"], []any{schemaError}) {
		t.Errorf("%s: schemas %v, want the Error schema", what, m["schemas"])
	}
	if m["status"] != fmt.Sprint(status) {
		t.Errorf("%s: status field %#v, want the string %q", what, m["status"], fmt.Sprint(status))
	}
	if got, _ := m["scimType"].(string); got != scimType {
		t.Errorf("%s: scimType %q, want %q", what, got, scimType)
	}
	if d, _ := m["detail"].(string); d == "" {
		t.Errorf("%s: no detail: %s", what, r.body)
	}
}

// step is one request of a recorded client sequence (testdata/*.json): what the client sends
// and what Latchkey must answer. {{name}} in path and body is replaced by a value an earlier
// step saved from its answer.
type step struct {
	Name    string            `json:"name"`
	Source  string            `json:"source"`
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Auth    *string           `json:"authorization"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
	Status  int               `json:"status"`
	// Want is a subset of the answer: every key it has must be in the answer with a matching
	// value (objects recursively; arrays element by element and of the same length); "*" is any
	// value, "!absent" a key the answer must not have.
	Want json.RawMessage `json:"want"`
	// Save names values of the answer (a dotted path such as "id" or "Resources.0.id") to keep.
	Save map[string]string `json:"save"`
}

// replay runs the steps of testdata/file in order and returns the saved values.
func (h *harness) replay(file string) map[string]string {
	h.t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		h.t.Fatal(err)
	}
	var steps []step
	if err := json.Unmarshal(raw, &steps); err != nil {
		h.t.Fatalf("%s: %v", file, err)
	}
	vars := map[string]string{}
	subst := func(s string) string {
		keys := make([]string, 0, len(vars))
		for k := range vars {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s = strings.ReplaceAll(s, "{{"+k+"}}", vars[k])
		}
		if strings.Contains(s, "{{") {
			h.t.Fatalf("%s: unknown variable in %s", file, s)
		}
		return s
	}
	for i, st := range steps {
		what := fmt.Sprintf("%s step %d (%s)", file, i+1, st.Name)
		var hdrs []string
		if st.Auth != nil {
			hdrs = append(hdrs, "Authorization", subst(*st.Auth))
		}
		for k, v := range st.Headers {
			hdrs = append(hdrs, k, v)
		}
		body := ""
		if len(st.Body) > 0 {
			body = subst(string(st.Body))
		}
		r := h.do(st.Method, subst(st.Path), body, hdrs...)
		if r.status != st.Status {
			h.t.Fatalf("%s: status %d, want %d: %s", what, r.status, st.Status, r.body)
		}
		if r.status == http.StatusNoContent && len(r.body) != 0 {
			h.t.Errorf("%s: 204 with a body: %s", what, r.body)
		}
		if len(st.Want) > 0 {
			var want any
			if err := json.Unmarshal([]byte(subst(string(st.Want))), &want); err != nil {
				h.t.Fatalf("%s: want: %v", what, err)
			}
			var got any
			if err := json.Unmarshal(r.body, &got); err != nil {
				h.t.Fatalf("%s: answer is not JSON: %s", what, r.body)
			}
			if msg := subset("", want, got); msg != "" {
				h.t.Errorf("%s: %s\nanswer: %s", what, msg, r.body)
			}
		}
		for name, path := range st.Save {
			var got any
			_ = json.Unmarshal(r.body, &got)
			v, ok := dig(got, path).(string)
			if !ok {
				h.t.Fatalf("%s: nothing to save at %s: %s", what, path, r.body)
			}
			vars[name] = v
		}
	}
	return vars
}

// subset returns "" when got has everything want has, and what differs otherwise.
func subset(at string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %v, want an object", at, got)
		}
		for k, wv := range w {
			gv, has := g[k]
			if wv == "!absent" {
				if has {
					return fmt.Sprintf("%s.%s: present (%v), want absent", at, k, gv)
				}
				continue
			}
			if !has {
				return fmt.Sprintf("%s.%s: absent, want %v", at, k, wv)
			}
			if msg := subset(at+"."+k, wv, gv); msg != "" {
				return msg
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %d elements like %v", at, got, len(w), w)
		}
		for i := range w {
			if msg := subset(fmt.Sprintf("%s[%d]", at, i), w[i], g[i]); msg != "" {
				return msg
			}
		}
		return ""
	case string:
		if w == "*" && got != nil && got != "" {
			return ""
		}
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Sprintf("%s: got %#v, want %#v", at, got, want)
	}
	return ""
}

// dig returns the value at a dotted path ("Resources.0.id").
func dig(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var i int
			if _, err := fmt.Sscan(p, &i); err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// storeHolds reports whether any file of the store (the database and its log) contains text.
func (h *harness) storeHolds(text string) bool {
	h.t.Helper()
	files, err := os.ReadDir(h.dbDir)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(h.dbDir, f.Name()))
		if err != nil {
			h.t.Fatal(err)
		}
		if strings.Contains(string(b), text) {
			return true
		}
	}
	return false
}
