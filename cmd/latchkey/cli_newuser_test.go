package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// runOKIn runs the CLI against data and fails the test unless it exits 0.
func runOKIn(t *testing.T, data string, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, append(args, "--data="+data)...)
	if code != 0 {
		t.Fatalf("%v: exit %d %s", args, code, errOut)
	}
	return out
}

// TestCLIUsageErrorIsOneLine: a usage error is one line naming the mistake and how to see the
// usage; help, COMMAND --help and COMMAND SUB --help print the full usage on stdout, exit 0.
func TestCLIUsageErrorIsOneLine(t *testing.T) {
	d := "--data=" + t.TempDir()
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate". Run "latchkey help" for the usage.`},
		{[]string{"tap", "issue", d}, `tap issue: expected one user (UPN or id). Run "latchkey tap --help" for the usage.`},
		{[]string{"user", "add", "a@example.com", "--nope", d}, `flag provided but not defined: -nope. Run "latchkey user --help" for the usage.`},
		{[]string{"serve", "extra", d}, `Run "latchkey serve --help" for the usage.`},
	} {
		out, errOut, code := run(t, tc.args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "latchkey: ") || !strings.Contains(errOut, tc.says) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line saying %q", tc.args, code, out, errOut, tc.says)
		}
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"user", "--help"}, {"policy", "ca", "-h"}, {"tap", "issue", "--help"}, {"serve", "--help"}, {"user", "help"}} {
		out, errOut, code := run(t, args...)
		if code != 0 || errOut != "" || out != usage {
			t.Errorf("%v: exit %d, stderr %q, %d bytes on stdout; want the usage, exit 0", args, code, errOut, len(out))
		}
	}
}

// TestCLIAppRemoveUnknown: removing an application that does not exist is app_not_found, as the
// README says, exit status 1.
func TestCLIAppRemoveUnknown(t *testing.T) {
	_, errOut, code := run(t, "app", "remove", "no-such-client", "--data="+t.TempDir())
	if code != 1 || !strings.Contains(errOut, "app_not_found") || !strings.Contains(errOut, "No such application.") {
		t.Fatalf("exit %d, %q; want 1 and app_not_found", code, errOut)
	}
}

// TestCLITAPSignInURL: tap issue prints the whole sign-in address with the user name filled in
// (escaped), from --public-url, LATCHKEY_PUBLIC_URL or the default; an invalid public URL is
// refused before the store is created.
func TestCLITAPSignInURL(t *testing.T) {
	data := t.TempDir()
	runOKIn(t, data, "user", "add", "o+x@example.com")
	out := runOKIn(t, data, "tap", "issue", "o+x@example.com")
	if want := "Sign in at http://localhost:8080/signin/tap?username=o%2Bx%40example.com with it"; !strings.Contains(out, want) {
		t.Errorf("default public URL: output lacks %q:\n%s", want, out)
	}
	out = runOKIn(t, data, "tap", "issue", "o+x@example.com", "--public-url", "https://id.example.com/")
	if want := "https://id.example.com/signin/tap?username=o%2Bx%40example.com"; !strings.Contains(out, want) {
		t.Errorf("--public-url: output lacks %q:\n%s", want, out)
	}
	t.Setenv("LATCHKEY_PUBLIC_URL", "https://login.example.org")
	var v struct{ SignInURL string }
	if err := json.Unmarshal([]byte(runOKIn(t, data, "tap", "issue", "o+x@example.com", "--json")), &v); err != nil ||
		v.SignInURL != "https://login.example.org/signin/tap?username=o%2Bx%40example.com" {
		t.Errorf("LATCHKEY_PUBLIC_URL with --json: signInUrl %q (%v)", v.SignInURL, err)
	}

	// Refused before anything is created: the data folder does not appear.
	for _, args := range [][]string{
		{"tap", "issue", "a@example.com", "--public-url", "ftp://id.example.com"},
		{"tap", "issue", "a@example.com", "--public-url", "id.example.com"},
		{"serve", "--listen", "127.0.0.1:0", "--public-url", "https://"},
	} {
		fresh := filepath.Join(t.TempDir(), "data")
		_, errOut, code := run(t, append(args, "--data="+fresh)...)
		if code != 2 || !strings.Contains(errOut, "--public-url (LATCHKEY_PUBLIC_URL) must be like https://id.example.com") {
			t.Errorf("%v: exit %d %q; want the usage error", args, code, errOut)
		}
		if _, err := os.Stat(fresh); !os.IsNotExist(err) {
			t.Errorf("%v: the data folder was created (%v)", args, err)
		}
	}
}

// TestCLIGroupAddMemberAgain: adding a member twice says so the second time, on SQLite and on
// PostgreSQL.
func TestCLIGroupAddMemberAgain(t *testing.T) {
	for name, storeFlag := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "--data=" + t.TempDir() },
		"postgres": func(t *testing.T) string { return "--database=" + pgtest.URL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			sf := storeFlag(t)
			ok := func(args ...string) string {
				t.Helper()
				out, errOut, code := run(t, append(args, sf)...)
				if code != 0 {
					t.Fatalf("%v: exit %d %s", args, code, errOut)
				}
				return out
			}
			ok("user", "add", "alice@example.com")
			ok("group", "add", "Sales")
			if out := ok("group", "add-member", "Sales", "alice@example.com"); out != "Added alice@example.com to Sales.\n" {
				t.Errorf("first add: %q", out)
			}
			if out := ok("group", "add-member", "sales", "alice@example.com"); out != "alice@example.com was already a member of Sales; nothing changed.\n" {
				t.Errorf("second add: %q", out)
			}
			var v struct{ Added bool }
			if err := json.Unmarshal([]byte(ok("group", "add-member", "Sales", "alice@example.com", "--json")), &v); err != nil || v.Added {
				t.Errorf("third add --json: added %v (%v); want false", v.Added, err)
			}
			if out := ok("group", "list"); !strings.Contains(out, "Sales") || !strings.Contains(strings.Fields(out[strings.Index(out, "Sales"):])[1], "1") {
				t.Errorf("group list after three adds:\n%s", out)
			}
		})
	}
}

// TestCLIUserShowLeavesOutEmptyFields: a person with only a UPN shows no empty roles or groups
// line; the fields that are set are shown, the manager by UPN.
func TestCLIUserShowLeavesOutEmptyFields(t *testing.T) {
	data := t.TempDir()
	runOKIn(t, data, "user", "add", "bare@example.com")
	out := runOKIn(t, data, "user", "show", "bare@example.com")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasSuffix(strings.TrimSpace(line), ":") {
			t.Errorf("empty field %q in:\n%s", line, out)
		}
	}
	for _, absent := range []string{"roles", "groups", "given name", "employee id", "manager"} {
		if strings.Contains(out, absent) {
			t.Errorf("user show names %q for a person without it:\n%s", absent, out)
		}
	}
	runOKIn(t, data, "user", "add", "full@example.com", "--given-name", "Fay", "--surname", "Full", "--employee-id", "E7", "--global-admin")
	runOKIn(t, data, "group", "add", "Sales")
	runOKIn(t, data, "group", "add-member", "Sales", "full@example.com")
	runOKIn(t, data, "user", "set", "full@example.com", "--manager", "bare@example.com")
	out = runOKIn(t, data, "user", "show", "full@example.com")
	for _, want := range []string{"  given name: Fay\n", "  surname: Full\n", "  employee id: E7\n", "  manager: bare@example.com\n", "  roles: globalAdmin\n", "  groups: Sales\n", "  passkeys: 0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("user show lacks %q:\n%s", want, out)
		}
	}
}

// TestCLIWhatIfAppByName: policy whatif --app takes an application's name (any case) as well as
// its client id; a name that names nothing is refused as an unknown application.
func TestCLIWhatIfAppByName(t *testing.T) {
	data := t.TempDir()
	runOKIn(t, data, "user", "add", "alice@example.com")
	var app struct{ ClientID string }
	if err := json.Unmarshal([]byte(runOKIn(t, data, "app", "add", "Payroll", "--redirect-uri", "https://payroll.example.com/cb", "--json")), &app); err != nil {
		t.Fatal(err)
	}
	byID := runOKIn(t, data, "policy", "whatif", "--user", "alice@example.com", "--app", app.ClientID, "--json")
	byName := runOKIn(t, data, "policy", "whatif", "--user", "alice@example.com", "--app", "payroll", "--json")
	if byID != byName || !strings.Contains(byName, "Payroll") {
		t.Errorf("by name differs from by id:\n%s\n%s", byName, byID)
	}
	_, errOut, code := run(t, "policy", "whatif", "--user", "alice@example.com", "--app", "Nope", "--data="+data)
	if code != 1 || !strings.Contains(errOut, "unknown_application") {
		t.Errorf("unknown name: exit %d %q", code, errOut)
	}
}

// TestHumanDuration: durations print as people write them.
func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 90 * time.Minute: "90m", 30 * 24 * time.Hour: "30d", 8 * time.Hour: "8h",
		36 * time.Hour: "36h", 45 * time.Second: "45s", 0: "0s", 1500 * time.Millisecond: "1.5s",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestCLIDurationsAsPeopleWriteThem: the commands that print a duration print 1h, 8h, 25h, not
// 60 minutes or 25h0m0s.
func TestCLIDurationsAsPeopleWriteThem(t *testing.T) {
	data := t.TempDir()
	runOKIn(t, data, "user", "add", "alice@example.com")
	if out := runOKIn(t, data, "policy", "show"); !strings.Contains(out, "  lifetime: 1h by default, 1h to 8h allowed\n") {
		t.Errorf("policy show:\n%s", out)
	}
	if out := runOKIn(t, data, "tap", "issue", "alice@example.com", "--lifetime", "90"); !strings.Contains(out, " (90m).\n") {
		t.Errorf("tap issue --lifetime 90:\n%s", out)
	}
	if out := runOKIn(t, data, "keys", "rotate"); !strings.Contains(out, "stay published for 25h so") || strings.Contains(out, "0m0s") {
		t.Errorf("keys rotate:\n%s", out)
	}
	f := filepath.Join(t.TempDir(), "ca.json")
	if err := os.WriteFile(f, []byte(`{"displayName":"Daily","state":"reportOnly","users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"grantControls":{"authenticationStrengthId":"mfa"},"signInFrequency":"24h"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	runOKIn(t, data, "policy", "ca", "add", f)
	if out := runOKIn(t, data, "policy", "ca", "list"); !strings.Contains(out, "MFA, sign in again every 1d") {
		t.Errorf("policy ca list:\n%s", out)
	}
	if out := runOKIn(t, data, "policy", "ca", "show", "Daily"); !strings.Contains(out, `"signInFrequency": "24h"`) {
		t.Errorf("policy ca show:\n%s", out)
	}
}

// TestCLIWhatIfAmbiguousAppName: a name two applications share (possible for applications made
// before names were unique) is refused, naming both, and nothing is guessed.
func TestCLIWhatIfAmbiguousAppName(t *testing.T) {
	data := t.TempDir()
	runOKIn(t, data, "user", "add", "alice@example.com")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(data, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"client-one", "client-two"} {
		c := &latchkey.Client{ID: id, Name: "Wiki", Public: true, RedirectURIs: []string{"https://wiki.example/cb"}, CreatedAt: time.Now()}
		if err := st.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	_, errOut, code := run(t, "policy", "whatif", "--user", "alice@example.com", "--app", "wiki", "--data="+data)
	if code != 1 || !strings.Contains(errOut, "ambiguous_application") || !strings.Contains(errOut, "Wiki (client-one)") || !strings.Contains(errOut, "Wiki (client-two)") {
		t.Errorf("exit %d %q; want 1, ambiguous_application naming both", code, errOut)
	}
	if out := runOKIn(t, data, "policy", "whatif", "--user", "alice@example.com", "--app", "client-two"); !strings.Contains(out, "application Wiki") {
		t.Errorf("by client id:\n%s", out)
	}
}
