package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// TestServeSCIM: `latchkey serve` answers SCIM at /scim/v2 with an API token, and records each
// request in the provisioning log, a refused one with its body and without its password.
func TestServeSCIM(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	secret, tok, err := s.Directory.CreateToken(ctx, latchkey.CLIActor, "HR", []string{latchkey.ScopeUserReadWriteAll, latchkey.ScopeGroupReadWriteAll},
		directory.TokenExpiry{Never: true})
	if err != nil {
		t.Fatal(err)
	}
	send := func(method, path, body string) (int, string) {
		req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
			t.Errorf("%s %s: Content-Type %q", method, path, ct)
		}
		return resp.StatusCode, string(b)
	}
	if st, body := send("POST", "/scim/v2/Users", `{"userName":"ada@example.com","password":"Hunter2-serve","name":{"givenName":"Ada"}}`); st != http.StatusCreated {
		t.Fatalf("create: %d %s", st, body)
	}
	if st, body := send("POST", "/scim/v2/Users", `{"userName":"ADA@example.com","password":"Hunter2-again"}`); st != http.StatusConflict || !strings.Contains(body, `"uniqueness"`) {
		t.Fatalf("duplicate: %d %s", st, body)
	}
	if st, body := send("GET", "/scim/v2/Users?filter=userName+eq+%22ada%40example.com%22", ""); st != http.StatusOK || !strings.Contains(body, `"totalResults":1`) {
		t.Fatalf("lookup: %d %s", st, body)
	}
	s.recorder.Wait()
	reqs, err := s.Store.ListProvisioningRequests(ctx, latchkey.ProvisioningFilter{TokenID: tok.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 3 || reqs[1].Status != http.StatusConflict || reqs[0].Method != "GET" {
		t.Fatalf("provisioning log: %d requests, want the 3 just made, newest first", len(reqs))
	}
	if !strings.Contains(reqs[1].Body, "ADA@example.com") || strings.Contains(reqs[1].Body, "Hunter2") {
		t.Errorf("refused request's body %q: want it without its password", reqs[1].Body)
	}
}
