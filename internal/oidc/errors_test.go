package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/sqlite"
)

// TestInternalErrorsArePlain: the store fails under the provider (here: closed). Applications get
// server_error in plain words with the request's correlation id, never the store's error; the
// log has the detail under that correlation id.
func TestInternalErrorsArePlain(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	p, err := New(st, "http://localhost:8080", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	const cid = "0123456789abcdef"
	for _, path := range []string{"/keys", "/.well-known/openid-configuration"} {
		rec := httptest.NewRecorder()
		// The server gives every request its correlation id before the provider sees it.
		rec.Header().Set("X-Correlation-Id", cid)
		p.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		var body struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
		}
		json.Unmarshal(rec.Body.Bytes(), &body)
		if path == "/.well-known/openid-configuration" {
			// Discovery needs no store (the built-in strengths): still served.
			if rec.Code != http.StatusOK {
				t.Errorf("discovery with the store down: %d %s", rec.Code, rec.Body)
			}
			continue
		}
		if rec.Code != http.StatusInternalServerError || body.Error != "server_error" || !strings.Contains(body.ErrorDescription, cid) {
			t.Errorf("GET %s with the store down: %d %s, want 500 server_error naming the correlation id", path, rec.Code, rec.Body)
		}
		for _, internal := range []string{"sql", "closed", "database", "list signing keys"} {
			if strings.Contains(strings.ToLower(rec.Body.String()), internal) {
				t.Errorf("GET %s: the answer shows internals (%q): %s", path, internal, rec.Body)
			}
		}
	}
	if !strings.Contains(logs.String(), "correlationId="+cid) || !strings.Contains(logs.String(), "list signing keys") ||
		!strings.Contains(logs.String(), "closed") {
		t.Errorf("log lacks the detail under the correlation id:\n%s", logs.String())
	}
}
