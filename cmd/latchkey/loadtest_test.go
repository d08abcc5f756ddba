package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestLoadtestCommand runs `latchkey loadtest --baseline --json` against a real server for a
// short while: the ceremonies succeed, every one is recorded in the sign-in log, and the JSON
// carries the documented fields.
func TestLoadtestCommand(t *testing.T) {
	t.Setenv("LATCHKEY_TOKEN", "")
	dir := filepath.Join(t.TempDir(), "data")
	s, _ := startServe(t, "--data", dir)
	out, errOut, code := run(t, "token", "create", "loadtest", "--scopes", "User.ReadWrite.All,UserAuthenticationMethod.ReadWrite.All",
		"--expires", "1d", "--data", dir, "--json")
	if code != 0 {
		t.Fatalf("token create: %s", errOut)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code = Main(context.Background(), []string{"loadtest", "--url", s.PublicURL, "--token", tok.Token,
		"--concurrency", "4", "--users", "6", "--duration", "1s", "--baseline", "--json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("loadtest: %d %s", code, stderr.String())
	}
	var res struct {
		CeremoniesPerSecond         *float64 `json:"ceremoniesPerSecond"`
		Ceremonies                  int      `json:"ceremonies"`
		P50Ms, P95Ms, P99Ms         *float64
		Errors                      *int           `json:"errors"`
		ErrorsByCode                map[string]int `json:"errorsByCode"`
		Users                       int            `json:"users"`
		BaselineCeremoniesPerSecond float64        `json:"baselineCeremoniesPerSecond"`
		Ratio                       float64        `json:"ratio"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("loadtest --json: %v\n%s", err, stdout.String())
	}
	if res.CeremoniesPerSecond == nil || res.P50Ms == nil || res.P95Ms == nil || res.P99Ms == nil || res.Errors == nil {
		t.Fatalf("loadtest --json lacks a documented field:\n%s", stdout.String())
	}
	if res.Ceremonies == 0 || *res.Errors != 0 || res.Users != 6 {
		t.Fatalf("loadtest: %d ceremonies, %d errors %v, %d users", res.Ceremonies, *res.Errors, res.ErrorsByCode, res.Users)
	}
	if res.BaselineCeremoniesPerSecond <= 0 || res.Ratio <= 0 {
		t.Fatalf("baseline %v ratio %v", res.BaselineCeremoniesPerSecond, res.Ratio)
	}
	if !bytes.Contains(stderr.Bytes(), []byte("sign-ins")) {
		t.Errorf("no progress line on stderr: %q", stderr.String())
	}
	// Every acknowledged ceremony left its sign-in event (plus the users' TAP sign-ins).
	events, err := s.Store.ListSignIns(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	passkeySignIns := 0
	for _, e := range events {
		if e.Method == "passkey" && e.Result == "success" {
			passkeySignIns++
		}
	}
	if passkeySignIns < res.Ceremonies {
		t.Fatalf("%d passkey sign-ins recorded, %d ceremonies acknowledged", passkeySignIns, res.Ceremonies)
	}

	// Without a token it says how to get one.
	stderr.Reset()
	if code := Main(context.Background(), []string{"loadtest", "--url", s.PublicURL, "--duration", "1s"}, &stdout, &stderr); code != 1 ||
		!bytes.Contains(stderr.Bytes(), []byte("latchkey token create loadtest")) {
		t.Fatalf("loadtest without a token: %d %q", code, stderr.String())
	}
}
