package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestCLITokens creates, lists and revokes API tokens on the command line: create prints the
// secret once with the documented JSON fields (expiresDateTime null only for never), list shows
// no secret and the last use, revoke marks the token revoked.
func TestCLITokens(t *testing.T) {
	d := "--data=" + t.TempDir()
	out, errOut, code := run(t, "token", "create", "deploy", "--scopes", "User.Read.All, User.ReadWrite.All", d, "--json")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, errOut)
	}
	var created map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("token create --json: %v\n%s", err, out)
	}
	for _, k := range []string{"id", "name", "token", "scopes", "expiresDateTime"} {
		if _, ok := created[k]; !ok {
			t.Errorf("token create --json lacks %s: %s", k, out)
		}
	}
	if len(created) != 5 {
		t.Errorf("token create --json has fields beyond the documented five: %s", out)
	}
	var tok struct {
		ID, Name, Token string
		Scopes          []string
		Expires         *time.Time `json:"expiresDateTime"`
	}
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Token, "lk_") || tok.Name != "deploy" || len(tok.Scopes) != 2 || tok.Expires == nil ||
		tok.Expires.Sub(time.Now()) < 89*24*time.Hour || tok.Expires.Sub(time.Now()) > 91*24*time.Hour {
		t.Fatalf("token create: %+v; want lk_ secret, two scopes, 90 days", tok)
	}

	out, errOut, code = run(t, "token", "create", "forever", "--scopes", "Reports.Read.All", "--expires", "never", d, "--json")
	if code != 0 || !strings.Contains(out, `"expiresDateTime": null`) {
		t.Fatalf("token create --expires never: %d %s %s", code, out, errOut)
	}
	out, _, code = run(t, "token", "create", "dated", "--scopes", "Reports.Read.All", "--expires", "2099-01-31", d, "--json")
	if code != 0 || !strings.Contains(out, `"expiresDateTime": "2099-01-3`) && !strings.Contains(out, `"expiresDateTime": "2099-01-30`) {
		t.Fatalf("token create --expires 2099-01-31: %d %s", code, out)
	}
	if _, errOut, code = run(t, "token", "create", "bad", "--scopes", "Directory.ReadWrite.All", d); code != 1 ||
		!strings.Contains(errOut, "User.ReadWrite.All") {
		t.Fatalf("unknown scope: %d %q; want exit 1 listing the valid scopes", code, errOut)
	}
	if _, _, code = run(t, "token", "create", "bad", "--scopes", "User.Read.All", "--expires", "soon", d); code != 2 {
		t.Fatalf("--expires soon: exit %d, want 2", code)
	}

	out, errOut, code = run(t, "token", "list", d, "--json")
	if code != 0 {
		t.Fatalf("token list: %s", errOut)
	}
	if strings.Contains(out, tok.Token) || strings.Contains(out, tok.Token[3:]) {
		t.Fatalf("token list shows a secret: %s", out)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 3 {
		t.Fatalf("token list --json: %v %s", err, out)
	}
	for _, e := range list {
		if _, ok := e["lastUsedDateTime"]; !ok {
			t.Errorf("token list entry lacks lastUsedDateTime: %v", e)
		}
		if _, ok := e["revokedDateTime"]; ok {
			t.Errorf("unrevoked token shows revokedDateTime: %v", e)
		}
	}

	if _, errOut, code = run(t, "token", "revoke", tok.ID, d); code != 0 {
		t.Fatalf("token revoke: %s", errOut)
	}
	out, _, _ = run(t, "token", "list", d, "--json")
	list = nil
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		if _, revoked := e["revokedDateTime"]; revoked != (e["id"] == tok.ID) {
			t.Errorf("after revoking %s: %v", tok.ID, e)
		}
	}
	if _, errOut, code = run(t, "token", "revoke", "00000000-0000-0000-0000-000000000000", d); code != 1 || !strings.Contains(errOut, "does not exist") {
		t.Fatalf("revoke unknown: %d %q", code, errOut)
	}
	out, _, _ = run(t, "token", "list", d)
	if !strings.Contains(out, "LAST USED") || !strings.Contains(out, "deploy") || strings.Contains(out, tok.Token) {
		t.Fatalf("token list: %s", out)
	}
}
