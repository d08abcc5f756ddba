package main

import (
	"strings"
	"testing"
)

// TestCLIMethodsRemoval: tap revoke ends a pass (a second revoke says there is none), passkey
// remove of an unknown passkey says so, user signout reports what ended, and an unknown user is
// refused plainly; each failure exits 1.
func TestCLIMethodsRemoval(t *testing.T) {
	d := "--data=" + t.TempDir()
	if _, errOut, code := run(t, "user", "add", "bob@example.com", d); code != 0 {
		t.Fatalf("user add: %s", errOut)
	}
	if _, errOut, code := run(t, "tap", "issue", "bob@example.com", d); code != 0 {
		t.Fatalf("tap issue: %s", errOut)
	}
	out, errOut, code := run(t, "tap", "revoke", "bob@example.com", d)
	if code != 0 || !strings.Contains(out, "Revoked the Temporary Access Pass of bob@example.com") {
		t.Fatalf("tap revoke: %d %q %q", code, out, errOut)
	}
	if _, errOut, code = run(t, "tap", "revoke", "bob@example.com", d); code != 1 || !strings.Contains(errOut, "no such Temporary Access Pass") {
		t.Errorf("second tap revoke: %d %q", code, errOut)
	}
	if _, errOut, code = run(t, "passkey", "remove", "bob@example.com", "nope", d); code != 1 || !strings.Contains(errOut, "passkey no longer exists") {
		t.Errorf("passkey remove of an unknown passkey: %d %q", code, errOut)
	}
	out, errOut, code = run(t, "user", "signout", "bob@example.com", d, "--json")
	if code != 0 || !strings.Contains(out, `"sessions": 0`) {
		t.Errorf("user signout --json: %d %q %q", code, out, errOut)
	}
	if _, errOut, code = run(t, "user", "signout", "nobody@example.com", d); code != 1 || !strings.Contains(errOut, "does not exist") {
		t.Errorf("user signout of nobody: %d %q", code, errOut)
	}
	if _, errOut, code = run(t, "passkey", "remove", "bob@example.com", d); code != 2 {
		t.Errorf("passkey remove without an id: %d %q, want a usage error", code, errOut)
	}
}
