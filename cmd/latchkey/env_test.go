package main

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	for flagName, want := range map[string]string{"public-url": "LATCHKEY_PUBLIC_URL", "data": "LATCHKEY_DATA", "metrics-listen": "LATCHKEY_METRICS_LISTEN"} {
		if got := envName(flagName); got != want {
			t.Errorf("envName(%q) = %q, want %q", flagName, got, want)
		}
	}
}

// TestEveryServeFlagFromEnvironment sets every serve flag through its variable, then gives one
// on the command line too: the command line wins, the rest come from the environment.
func TestEveryServeFlagFromEnvironment(t *testing.T) {
	var names []string
	(&Serve{}).flags().VisitAll(func(f *flag.Flag) {
		names = append(names, f.Name)
		t.Setenv(envName(f.Name), "env-"+f.Name)
	})
	if len(names) < 6 {
		t.Fatalf("serve has %d flags, want at least data, database, listen, public-url, pprof, metrics-listen", len(names))
	}
	s := &Serve{}
	if err := s.ParseFlags([]string{"--listen", "127.0.0.1:0"}); err != nil {
		t.Fatalf("parse: %v", err)
	}
	got := map[string]string{"data": s.store.data, "database": s.store.database, "listen": s.Listen,
		"public-url": s.PublicURL, "pprof": s.PprofListen, "metrics-listen": s.MetricsListen,
		"smtp": s.mail.smtp, "mail-from": s.mail.from}
	for _, name := range names {
		want := "env-" + name
		if name == "listen" {
			want = "127.0.0.1:0"
		}
		v, ok := got[name]
		if !ok {
			t.Errorf("flag --%s: this test does not know its field; add it", name)
			continue
		}
		if v != want {
			t.Errorf("--%s = %q, want %q", name, v, want)
		}
	}
}

// TestEmptyVariableIsUnset: an empty LATCHKEY_DATABASE (as a process started with
// LATCHKEY_DATABASE= has) leaves the default.
func TestEmptyVariableIsUnset(t *testing.T) {
	t.Setenv("LATCHKEY_DATABASE", "")
	t.Setenv("LATCHKEY_LISTEN", "")
	s := &Serve{}
	if err := s.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if s.store.database != "" || s.Listen != "127.0.0.1:8080" {
		t.Errorf("database %q, listen %q: want the defaults", s.store.database, s.Listen)
	}
}

func TestBadValueNamesTheVariable(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.Int("max-sessions", 1, "")
	fs.Duration("session-lifetime", time.Hour, "")
	t.Setenv("LATCHKEY_SESSION_LIFETIME", "two hours")
	if _, err := parseArgs(fs, nil); err != nil {
		t.Fatalf("parseArgs applies only the store flags: %v", err)
	}
	err := flagsFromEnv(fs)
	if err == nil || !strings.Contains(err.Error(), `LATCHKEY_SESSION_LIFETIME="two hours"`) {
		t.Fatalf("got %v, want an error naming LATCHKEY_SESSION_LIFETIME and its value", err)
	}
	var ue *usageErr
	if !errors.As(err, &ue) {
		t.Errorf("got %T, want a usage error (exit status 2)", err)
	}

	// A value that only Run can judge names the variable too.
	t.Setenv("LATCHKEY_PUBLIC_URL", "ftp://id.example.com")
	s := &Serve{}
	if err := s.ParseFlags([]string{"--data", t.TempDir(), "--listen", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	err = s.Run(context.Background())
	if err == nil {
		s.Close()
		t.Fatal("Run accepted an ftp:// public URL")
	}
	if !strings.Contains(err.Error(), "LATCHKEY_PUBLIC_URL") {
		t.Errorf("got %q, want it to name LATCHKEY_PUBLIC_URL", err)
	}
	_, errOut, code := run(t, "user", "list", "--database", "mysql://db")
	if code != 2 || !strings.Contains(errOut, "LATCHKEY_DATABASE") {
		t.Errorf("bad --database: status %d, %q; want 2 naming LATCHKEY_DATABASE", code, errOut)
	}
}

// TestStoreFlagsFromEnvironment: the directory commands find their store through LATCHKEY_DATA,
// --data wins over it, and their other flags do not read the environment.
func TestStoreFlagsFromEnvironment(t *testing.T) {
	fromEnv, fromFlag := t.TempDir(), t.TempDir()
	t.Setenv("LATCHKEY_DATABASE", "")
	t.Setenv("LATCHKEY_DATA", fromEnv)
	t.Setenv("LATCHKEY_JSON", "true")
	if _, errOut, code := run(t, "user", "add", "bob@example.com"); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(fromEnv, "latchkey.db")); err != nil {
		t.Errorf("LATCHKEY_DATA was not used: %v", err)
	}
	out, errOut, code := run(t, "user", "list")
	if code != 0 || !strings.Contains(out, "bob@example.com") {
		t.Fatalf("user list from LATCHKEY_DATA: %d %q %s", code, out, errOut)
	}
	if strings.HasPrefix(strings.TrimSpace(out), "[") || strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Errorf("user list printed JSON: LATCHKEY_JSON is not a store flag and must be ignored:\n%s", out)
	}
	out, errOut, code = run(t, "user", "list", "--data", fromFlag)
	if code != 0 || strings.Contains(out, "bob@example.com") {
		t.Errorf("user list --data: %d %q %s; want the empty store named on the command line", code, out, errOut)
	}
}

// TestServeFromEnvironmentOnly starts the server configured by variables alone, with metrics on
// their own listener and not on the public one.
func TestServeFromEnvironmentOnly(t *testing.T) {
	t.Setenv("LATCHKEY_DATA", t.TempDir())
	t.Setenv("LATCHKEY_DATABASE", "")
	t.Setenv("LATCHKEY_LISTEN", "127.0.0.1:0")
	t.Setenv("LATCHKEY_METRICS_LISTEN", "127.0.0.1:0")
	s := &Serve{}
	if err := s.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background()); err != nil {
		t.Fatalf("run: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if s.MetricsAddr() == s.Addr() {
		t.Fatalf("metrics on %s, the public address", s.MetricsAddr())
	}
	for _, c := range []struct {
		addr string
		want int
	}{{s.MetricsAddr(), http.StatusOK}, {s.Addr(), http.StatusNotFound}} {
		resp, err := http.Get("http://" + c.addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET http://%s/metrics: %d, want %d", c.addr, resp.StatusCode, c.want)
		}
	}
}

// TestRefusedDatabaseURLHidesPassword checks that a database URL Latchkey cannot use is named
// in the refusal without its password, which would otherwise land in terminals and logs.
func TestRefusedDatabaseURLHidesPassword(t *testing.T) {
	_, errOut, code := run(t, "user", "list", "--database", "mysql://latchkey:s3cret-pw@db:3306/latchkey")
	if code != 2 || !strings.Contains(errOut, "mysql://latchkey:xxxxx@db:3306") {
		t.Errorf("status %d, %q; want 2 naming the URL with its password hidden", code, errOut)
	}
	if strings.Contains(errOut, "s3cret-pw") {
		t.Errorf("the refusal shows the password: %q", errOut)
	}
}
