package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIAudit: changes made with the CLI are audit events named "cli"; audit checkpoint prints
// a signed note; verify passes, then names an altered event (exit 1) and, given the checkpoint
// kept elsewhere, a truncated tail.
func TestCLIAudit(t *testing.T) {
	data := t.TempDir()
	d := "--data=" + data
	runOK(t, "user", "add", "ada@example.com", d)
	runOK(t, "group", "add", "Staff", d)
	runOK(t, "group", "add-member", "Staff", "ada@example.com", d)
	runOK(t, "audit", "checkpoint", d) // seals the first three
	runOK(t, "role", "assign", "ada@example.com", "authenticationAdmin", d)
	var created struct{ Token string }
	if err := json.Unmarshal([]byte(runOK(t, "token", "create", "deploy", "--scopes", "User.Read.All", d, "--json")), &created); err != nil || created.Token == "" {
		t.Fatalf("token create --json: %v", err)
	}

	var events []struct {
		ActorName, Action, TargetName string
		Summary                       map[string]any
	}
	if err := json.Unmarshal([]byte(runOK(t, "audit", "list", d, "--json")), &events); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
		if e.ActorName != "cli" {
			t.Errorf("event %s by %q, want cli", e.Action, e.ActorName)
		}
	}
	if got := strings.Join(actions, " "); got != "user.create group.create group.addMember role.assign token.create" {
		t.Errorf("events %q", got)
	}
	if r := events[3].Summary["role"]; r != "authenticationAdmin" {
		t.Errorf("role.assign summary names role %v, want the CLI's name authenticationAdmin", r)
	}
	out := runOK(t, "audit", "list", d, "--action", "role.assign")
	if !strings.Contains(out, "ada@example.com") || strings.Contains(out, "group.create") {
		t.Errorf("audit list --action role.assign:\n%s", out)
	}
	raw := runOK(t, "audit", "list", d, "--json")
	if strings.Contains(raw, created.Token) || strings.Contains(raw, created.Token[len(created.Token)-20:]) {
		t.Errorf("an audit event holds a token secret:\n%s", raw)
	}

	note := runOK(t, "audit", "checkpoint", d)
	if !strings.HasPrefix(note, "latchkey-audit\n5\n") || !strings.Contains(note, "\n— latchkey-audit ") {
		t.Fatalf("checkpoint:\n%s", note)
	}
	kept := filepath.Join(t.TempDir(), "checkpoint.txt")
	if err := os.WriteFile(kept, []byte(note), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := runOK(t, "audit", "verify", d, "--checkpoint", kept); !strings.Contains(out, "verifies: 5 sealed events") {
		t.Errorf("verify: %s", out)
	}

	db, err := sql.Open("sqlite", filepath.Join(data, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`UPDATE audit_events SET target_name = 'someone-else' WHERE seq = 3`)
	out, _, code := run(t, "audit", "verify", d)
	if code != 1 || !strings.Contains(out, "event 3") || !strings.Contains(out, "altered") {
		t.Errorf("verify after an altered event: exit %d\n%s", code, out)
	}
	exec(`DELETE FROM audit_events WHERE seq >= 3`)
	exec(`DELETE FROM audit_checkpoints WHERE size > 3`)
	runOK(t, "audit", "verify", d) // what is left is consistent on its own
	out, _, code = run(t, "audit", "verify", d, "--checkpoint", kept, "--json")
	var rep struct {
		OK      bool
		Problem string
	}
	if code != 1 || json.Unmarshal([]byte(out), &rep) != nil || rep.OK || !strings.Contains(rep.Problem, "truncated") {
		t.Errorf("verify --checkpoint after truncation: exit %d\n%s", code, out)
	}
}
