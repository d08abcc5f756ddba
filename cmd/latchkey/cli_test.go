package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/pgtest"
)

// run runs the CLI with args against dataDir and returns stdout, stderr and the exit status.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestCLIDirectoryAndTAP(t *testing.T) {
	data := t.TempDir()
	d := "--data=" + data

	out, errOut, code := run(t, "user", "add", "Alice@Example.com", d, "--given-name", "Alice", "--surname", "Liddell", "--employee-id", "E1", "--json")
	if code != 0 {
		t.Fatalf("user add: %d %s", code, errOut)
	}
	var alice struct {
		ID, UserPrincipalName, DisplayName, EmployeeID, UserType string
		AccountEnabled                                           bool
	}
	if err := json.Unmarshal([]byte(out), &alice); err != nil {
		t.Fatalf("user add --json: %v\n%s", err, out)
	}
	if alice.DisplayName != "Alice Liddell" || alice.UserType != "member" || !alice.AccountEnabled || alice.EmployeeID != "E1" {
		t.Fatalf("created %+v", alice)
	}
	// UPNs are unique regardless of case; the refusal says so plainly, exit status 1.
	_, errOut, code = run(t, "user", "add", "alice@example.COM", d)
	if code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("duplicate user: %d %q", code, errOut)
	}
	if _, _, code = run(t, "user", "add", "guest@partner.example", "--guest", "--global-admin", d); code != 0 {
		t.Fatal("user add guest failed")
	}

	out, _, code = run(t, "user", "list", d, "--json")
	var users []struct {
		UserPrincipalName, UserType string
		Roles                       []string
	}
	if code != 0 || json.Unmarshal([]byte(out), &users) != nil || len(users) != 2 {
		t.Fatalf("user list --json: %d %s", code, out)
	}
	if users[1].UserPrincipalName != "guest@partner.example" || users[1].UserType != "guest" || len(users[1].Roles) != 1 || users[1].Roles[0] != "globalAdmin" {
		t.Fatalf("guest listed as %+v", users[1])
	}
	out, _, _ = run(t, "user", "list", d)
	if !strings.Contains(out, "Alice@Example.com") || !strings.Contains(out, "USER") {
		t.Fatalf("user list table:\n%s", out)
	}

	if _, errOut, code = run(t, "group", "add", "Admins", "--description", "IT", d); code != 0 {
		t.Fatalf("group add: %s", errOut)
	}
	if _, _, code = run(t, "group", "add", "admins", d); code != 1 {
		t.Fatal("duplicate group name (other case) accepted")
	}
	if _, errOut, code = run(t, "group", "add-member", "Admins", "alice@example.com", d); code != 0 {
		t.Fatalf("group add-member: %s", errOut)
	}
	if _, errOut, code = run(t, "group", "add-member", "Nobody", "alice@example.com", d); code != 1 || !strings.Contains(errOut, "No such group") {
		t.Fatalf("add-member to a missing group: %d %q", code, errOut)
	}
	out, _, _ = run(t, "group", "list", d, "--json")
	if !strings.Contains(out, `"displayName": "Admins"`) {
		t.Fatalf("group list --json:\n%s", out)
	}
	out, _, _ = run(t, "group", "list", d)
	if !regexp.MustCompile(`Admins\s+1\s+IT`).MatchString(out) {
		t.Fatalf("group list does not count the member:\n%s", out)
	}

	// A TAP: shown once, outside the policy bounds refused, state visible in user show.
	out, errOut, code = run(t, "tap", "issue", "alice@example.com", "--lifetime", "2h", "--one-time", d, "--json")
	if code != 0 {
		t.Fatalf("tap issue: %s", errOut)
	}
	var tap struct {
		TemporaryAccessPass string
		LifetimeInMinutes   int
		IsUsableOnce        bool
	}
	if err := json.Unmarshal([]byte(out), &tap); err != nil || len(tap.TemporaryAccessPass) != 8 || tap.LifetimeInMinutes != 120 || !tap.IsUsableOnce {
		t.Fatalf("tap issue --json: %v %s", err, out)
	}
	_, errOut, code = run(t, "tap", "issue", "alice@example.com", "--lifetime", "10m", d)
	if code != 1 || !strings.Contains(errOut, "Choose a lifetime between 1 hour and 8 hours") {
		t.Fatalf("10-minute pass under the default policy: %d %q", code, errOut)
	}
	out, _, _ = run(t, "tap", "issue", "alice@example.com", "--start", time.Now().Add(48*time.Hour).Format("2006-01-02T15:04"), d)
	if !strings.HasPrefix(out, "Temporary Access Pass: ") {
		t.Fatalf("tap issue output:\n%s", out)
	}
	out, _, _ = run(t, "user", "show", "alice@example.com", d, "--json")
	if !strings.Contains(out, `"methodUsabilityReason": "NotYetValid"`) || !strings.Contains(out, `"displayName": "Admins"`) {
		t.Fatalf("user show --json:\n%s", out)
	}
	if strings.Contains(out, tap.TemporaryAccessPass) {
		t.Fatal("user show prints a pass")
	}
	// In plain words, the words the person's page uses.
	if out, _, _ = run(t, "user", "show", "alice@example.com", d); !strings.Contains(out, "temporary access pass: not yet valid, expires ") {
		t.Errorf("user show does not say the pass is not yet valid in words:\n%s", out)
	}

	// Usage errors exit 2 with one line that says how to see the usage.
	if _, errOut, code = run(t, "user", "frobnicate", d); code != 2 || strings.Count(errOut, "\n") != 1 ||
		!strings.Contains(errOut, `unknown subcommand "frobnicate"`) || !strings.Contains(errOut, `Run "latchkey user --help" for the usage.`) {
		t.Fatalf("unknown subcommand: %d %q", code, errOut)
	}
	if _, _, code = run(t, "tap", "issue", d); code != 2 {
		t.Fatal("tap issue without a user accepted")
	}
}

var bootstrapLine = regexp.MustCompile(`Temporary Access Pass: (\S+) `)

// startServe starts `latchkey serve` in-process on a free port and returns it with its output.
func startServe(t *testing.T, args ...string) (*Serve, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	s := &Serve{Stdout: &out, Logger: testLogger(t)}
	if err := s.ParseFlags(append([]string{"--listen", "127.0.0.1:0"}, args...)); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, &out
}

// TestServeBootstrapAndTAPSignIn runs the real server on SQLite and on PostgreSQL: the first
// start prints the bootstrap pass once, the pass signs the admin in over the API once.
func TestServeBootstrapAndTAPSignIn(t *testing.T) {
	for name, args := range map[string]func(t *testing.T) []string{
		"sqlite":   func(t *testing.T) []string { return []string{"--data", filepath.Join(t.TempDir(), "data")} },
		"postgres": func(t *testing.T) []string { return []string{"--database", pgtest.URL(t)} },
	} {
		t.Run(name, func(t *testing.T) {
			flags := args(t)
			s, out := startServe(t, flags...)
			m := bootstrapLine.FindStringSubmatch(out.String())
			if m == nil || strings.Count(out.String(), "\n") != 1 {
				t.Fatalf("bootstrap output %q: want one line with the pass", out.String())
			}
			pass := m[1]
			base := s.PublicURL
			if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
				t.Fatalf("healthz: %v %v", resp, err)
			}
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar}
			signIn := func() *http.Response {
				req, _ := http.NewRequest("POST", base+"/api/v1/signin/tap", strings.NewReader(`{"username":"admin","tap":"`+pass+`"}`))
				req.Header.Set("Content-Type", "application/json")
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp
			}
			if resp := signIn(); resp.StatusCode != 200 {
				t.Fatalf("bootstrap TAP sign-in: %d", resp.StatusCode)
			}
			resp, err := c.Get(base + "/api/v1/me")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("/api/v1/me after TAP sign-in: %v %v", resp, err)
			}
			if resp := signIn(); resp.StatusCode != 401 {
				t.Fatalf("one-time bootstrap pass worked twice: %d", resp.StatusCode)
			}
			s.Close()

			// A second start on the same store prints no pass.
			_, out2 := startServe(t, flags...)
			if strings.Contains(out2.String(), "Temporary Access Pass") {
				t.Fatalf("second start printed a pass: %q", out2.String())
			}
		})
	}
}

// TestCLIRefusesGarbage: the command line obeys the same validation as the API and pages. Names
// with invisible, direction-changing or control characters, padded or over-long names, null and
// unknown fields in documents, and duplicate names are refused with exit status 1 and a plain
// sentence, storing nothing; ids and names that name nothing are "not found", exit status 1.
func TestCLIRefusesGarbage(t *testing.T) {
	data := t.TempDir()
	d := "--data=" + data
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mustRun := func(args ...string) string {
		t.Helper()
		out, errOut, code := run(t, append(args, d)...)
		if code != 0 {
			t.Fatalf("%v: %d %s", args, code, errOut)
		}
		return out
	}
	mustRun("group", "add", "Sales")
	mustRun("app", "add", "Intranet", "--redirect-uri", "https://intranet.example/cb")
	mustRun("policy", "profile", "add", "Keys", "--types", "deviceBound")
	mustRun("policy", "strength", "add", file("s.json", `{"displayName":"Keys only","allowedCombinations":["passkey"]}`))
	mustRun("policy", "location", "add", "Office", "203.0.113.0/24")
	mustRun("policy", "ca", "add", file("ca.json", `{"displayName":"Block","state":"disabled","users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"grantControls":{"block":true}}`))
	snapshot := func() string {
		var b strings.Builder
		for _, args := range [][]string{{"user", "list"}, {"group", "list"}, {"app", "list"}, {"policy", "show"}, {"policy", "strength", "list"},
			{"policy", "location", "list"}, {"policy", "ca", "list"}} {
			b.WriteString(mustRun(append(args, "--json")...))
		}
		return b.String()
	}
	before := snapshot()

	for _, tc := range []struct {
		name string
		args []string
		says string // in the refusal
	}{
		{"group with a right-to-left override", []string{"group", "add", "Sales\u202egnp"}, "may not contain"},
		{"group with a zero-width space", []string{"group", "add", "Sa\u200bles"}, "may not contain"},
		{"group padded", []string{"group", "add", "Sales "}, "may not end with a space"},
		{"group of another case", []string{"group", "add", "SALES"}, "already exists"},
		{"user with CRLF", []string{"user", "add", "a\r\nb@example.com"}, "may not contain"},
		{"user with invalid UTF-8", []string{"user", "add", "a\xffb@example.com"}, "not valid UTF-8"},
		{"user display name with a bell", []string{"user", "add", "c@example.com", "--display-name", "C\x07"}, "may not contain"},
		{"user name of 114 characters", []string{"user", "add", strings.Repeat("u", 102) + "@example.com"}, "at most 113 characters"},
		{"app of another case", []string{"app", "add", "INTRANET", "--redirect-uri", "https://b.example/cb"}, "already exists"},
		{"app with a tab", []string{"app", "add", "Wi\tki", "--redirect-uri", "https://b.example/cb"}, "may not contain"},
		{"profile of 60,000 characters", []string{"policy", "profile", "add", strings.Repeat("p", 60000)}, "at most 256 characters"},
		{"profile of another case", []string{"policy", "profile", "add", "KEYS"}, "already exists"},
		{"location padded", []string{"policy", "location", "add", " Office", "192.0.2.0/24"}, "may not begin with a space"},
		{"policy set null", []string{"policy", "set", file("null.json", "null")}, "JSON object"},
		{"strength null", []string{"policy", "strength", "add", file("null2.json", "null")}, "JSON object"},
		{"strength unknown field", []string{"policy", "strength", "add", file("u.json", `{"displayName":"X","allowedCombinations":["passkey"],"colour":"red"}`)}, "unknown field"},
		{"strength 9,000 levels", []string{"policy", "strength", "add", file("deep.json", `{"x":`+strings.Repeat("[", 9000)+strings.Repeat("]", 9000)+`}`)}, "nested too deeply"},
		{"CA policy of another case", []string{"policy", "ca", "add", file("ca2.json", `{"displayName":"BLOCK","state":"disabled","users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"grantControls":{"block":true}}`)}, "already exists"},
		{"CA policy id with a slash", []string{"policy", "ca", "add", file("ca3.json", `{"id":"a/b","displayName":"Other","state":"disabled","users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"grantControls":{"block":true}}`)}, "only letters, digits"},
		// Ids and names that name nothing.
		{"unknown user", []string{"user", "show", "nobody@example.com"}, "No such user"},
		{"unknown CA policy", []string{"policy", "ca", "show", "nope"}, "No such conditional access policy"},
		{"unknown CA policy state", []string{"policy", "ca", "state", "nope", "disabled"}, "No such conditional access policy"},
		{"unknown strength", []string{"policy", "strength", "remove", "nope"}, "does not exist"},
		{"unknown location", []string{"policy", "location", "remove", "nope"}, "does not exist"},
		{"unknown profile", []string{"policy", "profile", "remove", "nope"}, "No such passkey profile"},
		{"unknown application", []string{"app", "remove", "nope"}, "No such application"},
		{"unknown group", []string{"group", "add-member", "nope", "nobody@example.com"}, "No such group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, append(tc.args, d)...)
			if code != 1 || !strings.Contains(errOut, tc.says) {
				t.Errorf("exit %d, stderr %q; want 1 saying %q", code, errOut, tc.says)
			}
		})
	}
	if after := snapshot(); after != before {
		t.Errorf("a refused command changed what is stored:\nbefore %s\nafter %s", before, after)
	}
}
