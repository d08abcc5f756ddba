package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/policy"
)

// newLockoutDir is a data folder whose only global admin (in Admins) and alice sign in with
// synced passkeys, carol with a temporary access pass, and dave not at all.
func newLockoutDir(t *testing.T) (data, d string) {
	t.Helper()
	data = t.TempDir()
	d = "--data=" + data
	runOK(t, "user", "add", "admin@example.com", "--global-admin", d)
	for _, u := range []string{"alice@example.com", "carol@example.com", "dave@example.com"} {
		runOK(t, "user", "add", u, d)
	}
	runOK(t, "group", "add", "Admins", d)
	runOK(t, "group", "add-member", "Admins", "admin@example.com", d)
	storePasskey(t, data, "admin@example.com", "iCloud Keychain", true)
	storePasskey(t, data, "alice@example.com", "Google Password Manager", true)
	runOK(t, "tap", "issue", "carol@example.com", d)
	return data, d
}

// refusedLockout runs args, checks that they are refused for upns with the count to confirm,
// and that the last global admin is called out when admin is set.
func refusedLockout(t *testing.T, upns []string, admin bool, args ...string) {
	t.Helper()
	out, errOut, code := run(t, args...)
	n := len(upns)
	if code != 1 || !strings.Contains(out, policy.LintNoWayToSignIn) || !strings.Contains(out, strings.Join(upns, ", ")) ||
		!strings.Contains(out, "--lockout-override "+strconv.Itoa(n)) || !strings.Contains(errOut, "with no way to sign in") {
		t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
	}
	if strings.Contains(out, policy.LintLastGlobalAdmin) != admin || strings.Contains(errOut, "last global admin") != admin {
		t.Errorf("%v: last global admin called out %v, want %v:\n%s\n%s", args, !admin, admin, out, errOut)
	}
	for _, nobody := range []string{"carol@example.com", "dave@example.com"} {
		if strings.Contains(out, nobody) {
			t.Errorf("%v names %s, who keeps (or never had) a way in:\n%s", args, nobody, out)
		}
	}
}

// TestCLIMethodsLockout: `policy set`, `policy profile add` and `policy profile remove` refuse a
// change that leaves people with no way to sign in, list them, and store it only with
// --lockout-override equal to their number.
func TestCLIMethodsLockout(t *testing.T) {
	t.Run("policy set with no passkey include target", func(t *testing.T) {
		data, d := newLockoutDir(t)
		file := filepath.Join(data, "p.json")
		if err := os.WriteFile(file, []byte(`{"passkey": {"state": "enabled", "includeTargets": []}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		refusedLockout(t, []string{"admin@example.com", "alice@example.com"}, true, "policy", "set", file, d)
		refusedLockout(t, []string{"admin@example.com", "alice@example.com"}, true, "policy", "set", file, "--lockout-override", "1", d)
		if p := policyOf(t, d); len(p.Passkey.IncludeTargets) != 1 {
			t.Fatalf("a refused change was stored: %+v", p.Passkey.IncludeTargets)
		}
		runOK(t, "policy", "set", file, "--lockout-override", "2", d)
		if p := policyOf(t, d); len(p.Passkey.IncludeTargets) != 0 {
			t.Errorf("stored %+v", p.Passkey.IncludeTargets)
		}
	})
	t.Run("policy profile add: the README's Tier 0 profile", func(t *testing.T) {
		_, d := newLockoutDir(t)
		args := []string{"policy", "profile", "add", "Tier 0 admins", "--groups", "Admins", "--types", "deviceBound",
			"--attestation", "registrationOnly", "--allow", "cb69481e-8ff7-4039-93ec-0a2729a154a8,ee882879-721c-4913-9775-3dfcce97072a", d}
		refusedLockout(t, []string{"admin@example.com"}, true, args...)
		refusedLockout(t, []string{"admin@example.com"}, true, append(args, "--lockout-override", "2")...)
		if p := policyOf(t, d); len(p.Passkey.Profiles) != 1 {
			t.Fatalf("a refused profile was stored: %+v", p.Passkey.Profiles)
		}
		runOK(t, append(args, "--lockout-override", "1")...)
		if p := policyOf(t, d); len(p.Passkey.Profiles) != 2 {
			t.Errorf("profiles %+v", p.Passkey.Profiles)
		}
	})
	t.Run("policy profile remove", func(t *testing.T) {
		_, d := newLockoutDir(t)
		// Synced passkeys for Admins; nobody loses a way in.
		runOK(t, "policy", "profile", "add", "Admins synced", "--groups", "Admins", "--types", "synced", d)
		// A device-bound default leaves alice with no way in.
		refusedLockout(t, []string{"alice@example.com"}, false, "policy", "profile", "add", "Hardware", "--types", "deviceBound", "--default", d)
		runOK(t, "policy", "profile", "add", "Hardware", "--types", "deviceBound", "--default", "--lockout-override", "1", d)
		// Removing the admins' profile leaves them under the device-bound default.
		refusedLockout(t, []string{"admin@example.com"}, true, "policy", "profile", "remove", "Admins synced", d)
		refusedLockout(t, []string{"admin@example.com"}, true, "policy", "profile", "remove", "Admins synced", "--lockout-override", "2", d)
		runOK(t, "policy", "profile", "remove", "Admins synced", "--lockout-override", "1", d)
		if p := policyOf(t, d); len(p.Passkey.Profiles) != 2 {
			t.Errorf("profiles %+v", p.Passkey.Profiles)
		}
	})
}
