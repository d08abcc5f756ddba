package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIRecoveryIDV: `recovery idv set` reads the client secret from a file and never prints
// it or puts it in the audit log; show reports it as set; flags not given keep their values; an
// http issuer that is not loopback is refused in words.
func TestCLIRecoveryIDV(t *testing.T) {
	data := t.TempDir()
	d := "--data=" + data
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("s3cr3t-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runOK(t, "recovery", "idv", "set", d, "--issuer", "https://idv.example.com", "--client-id", "latchkey",
		"--client-secret-file", secretFile, "--match", "givenName,familyName,employeeNumber", "--trust-frameworks", "eidas", "--assurance-levels", "high")
	if !strings.Contains(out, "Identity verification: on") || !strings.Contains(out, "client secret set") || strings.Contains(out, "s3cr3t") {
		t.Fatalf("set printed:\n%s", out)
	}
	runOK(t, "recovery", "idv", "set", d, "--name", "Acme ID check")
	var shown struct {
		Settings struct {
			Name, Issuer, ClientID, ClientSecret string
			Match, TrustFrameworks               []string
		}
		ClientSecretSet bool
	}
	raw := runOK(t, "recovery", "idv", "show", d, "--json")
	if err := json.Unmarshal([]byte(raw), &shown); err != nil {
		t.Fatal(err)
	}
	if !shown.ClientSecretSet || shown.Settings.ClientSecret != "" || shown.Settings.Name != "Acme ID check" ||
		shown.Settings.Issuer != "https://idv.example.com" || len(shown.Settings.Match) != 3 || strings.Contains(raw, "s3cr3t") {
		t.Fatalf("show --json: %s", raw)
	}
	if audit := runOK(t, "audit", "list", d, "--json"); !strings.Contains(audit, "identityVerification.update") || strings.Contains(audit, "s3cr3t") {
		t.Fatalf("audit list:\n%s", audit)
	}
	_, errOut, code := run(t, "recovery", "idv", "set", d, "--issuer", "http://idv.example.com")
	if code == 0 || !strings.Contains(errOut, "https") {
		t.Fatalf("http issuer: exit %d, %s", code, errOut)
	}
}
