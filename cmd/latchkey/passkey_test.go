package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeVector writes the registration vector id from the passkey package's test data to a file, whole (the
// envelope with its "response" member), as `latchkey passkey inspect` accepts it.
func writeVector(t *testing.T, id string) (path string, vector map[string]any) {
	t.Helper()
	b, err := os.ReadFile("../../internal/passkey/testdata/webauthn-vectors/registrations.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []map[string]any
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v["id"] == id {
			raw, _ := json.Marshal(v)
			path = filepath.Join(t.TempDir(), "vector.json")
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			return path, v
		}
	}
	t.Fatalf("no vector %s", id)
	return "", nil
}

func TestCLIPasskeyInspectJSON(t *testing.T) {
	file, v := writeVector(t, "pywebauthn-packed-yubikey-firefox")
	expect := v["expect"].(map[string]any)
	out, errOut, code := run(t, "passkey", "inspect", file, "--json",
		"--challenge", v["expectedChallenge"].(string), "--origin", v["expectedOrigin"].(string), "--rp-id", v["expectedRPID"].(string))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		OK                                                     bool
		Error, Format, AAGUID, Kind, Attestation, Flags        string
		AttestationType, CredentialID, PublicKeyAlgorithm      string
		UserPresent, UserVerified, BackupEligible, BackupState bool
		SignCount                                              uint32
		Chain                                                  []struct{ Subject, Issuer string }
		ClientData                                             struct{ Type, Challenge, Origin string }
		Profiles                                               []any
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !got.OK || got.Error != "" || got.Format != "packed" || got.AAGUID != expect["aaguid"] || got.Attestation != "untrusted" ||
		got.AttestationType != "basic_full" || got.Kind != "device-bound" || got.Flags != "0x45" || !got.UserPresent ||
		!got.UserVerified || got.BackupEligible || got.BackupState || got.SignCount != 52 ||
		got.CredentialID != expect["credentialID"] || got.PublicKeyAlgorithm != "ES256" {
		t.Fatalf("got %+v", got)
	}
	if len(got.Chain) != 1 || !strings.Contains(got.Chain[0].Issuer, "Yubico U2F Root CA") {
		t.Errorf("chain %+v", got.Chain)
	}
	if got.ClientData.Type != "webauthn.create" || got.ClientData.Origin != "http://localhost:5000" || got.ClientData.Challenge != v["expectedChallenge"] {
		t.Errorf("clientData %+v", got.ClientData)
	}
	if strings.Contains(out, `"profiles"`) {
		t.Error("profiles present before there are passkey profiles")
	}

	// A refusal is a verdict, not a failure of the command: exit 0 with the code in the output.
	out, _, code = run(t, "passkey", "inspect", file, "--json", "--challenge", "d3Jvbmc", "--origin", "http://localhost:5000")
	if code != 0 || !strings.Contains(out, `"error": "challenge_mismatch"`) || !strings.Contains(out, `"ok": false`) {
		t.Fatalf("wrong challenge: %d\n%s", code, out)
	}
}

func TestCLIPasskeyInspectHuman(t *testing.T) {
	file, v := writeVector(t, "spire-touchid-1-registration")
	out, errOut, code := run(t, "passkey", "inspect", file, "--origin", v["expectedOrigin"].(string))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Format:       none",
		"AAGUID:       00000000-0000-0000-0000-000000000000",
		"user present, user verified, backup eligible, backed up",
		"Kind:         synced",
		"Attestation:  none",
		"Checked:      RP ID localhost, origin http://localhost:8000",
		"no challenge given",
		"Verdict:      verifies",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// An expired attestation certificate: still exit 0, the verdict says why.
	file, v = writeVector(t, "pywebauthn-tpm-windows-hello-dell-xps-13")
	out, _, code = run(t, "passkey", "inspect", file, "--challenge", v["expectedChallenge"].(string), "--origin", v["expectedOrigin"].(string))
	if code != 0 || !strings.Contains(out, "Verdict:      REFUSED certificate_expired") || !strings.Contains(out, "NOT valid") {
		t.Fatalf("expired: %d\n%s", code, out)
	}
}

func TestCLIPasskeyInspectUnreadable(t *testing.T) {
	_, errOut, code := run(t, "passkey", "inspect", filepath.Join(t.TempDir(), "missing.json"))
	if code != 1 || !strings.Contains(errOut, "read registration response") {
		t.Fatalf("missing file: %d %q", code, errOut)
	}
	if _, _, code = run(t, "passkey", "inspect"); code != 2 {
		t.Fatalf("no file: exit %d, want 2", code)
	}
	if _, _, code = run(t, "passkey", "frobnicate"); code != 2 {
		t.Fatalf("unknown subcommand: exit %d, want 2", code)
	}
}
