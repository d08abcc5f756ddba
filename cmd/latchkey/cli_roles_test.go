package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCLIRolesUnitsManager: `latchkey unit`, `latchkey role` and `latchkey user set --manager`
// change the directory as the CLI actor, and refuse what the directory refuses.
func TestCLIRolesUnitsManager(t *testing.T) {
	d := "--data=" + t.TempDir()
	mustRun := func(args ...string) string {
		t.Helper()
		out, errOut, code := run(t, append(args, d)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	refused := func(want string, args ...string) {
		t.Helper()
		_, errOut, code := run(t, append(args, d)...)
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("%v: exit %d %q; want exit 1 mentioning %q", args, code, errOut, want)
		}
	}
	for _, upn := range []string{"ann@example.com", "bo@example.com", "cy@example.com"} {
		mustRun("user", "add", upn)
	}
	mustRun("group", "add", "Engineering")

	if out := mustRun("unit", "add", "Berlin"); !strings.Contains(out, "Created administrative unit Berlin") {
		t.Errorf("unit add: %q", out)
	}
	refused("unit_exists", "unit", "add", "berlin")
	mustRun("unit", "add-member", "Berlin", "bo@example.com")
	mustRun("unit", "add-member", "Berlin", "Engineering")
	refused("member_not_found", "unit", "add-member", "Berlin", "nobody")
	refused("unit_not_found", "unit", "add-member", "Hamburg", "bo@example.com")
	var units []struct {
		DisplayName string
		Members     []struct{ Kind, Name string }
	}
	if err := json.Unmarshal([]byte(mustRun("unit", "list", "--json")), &units); err != nil || len(units) != 1 || len(units[0].Members) != 2 {
		t.Fatalf("unit list --json: %+v, %v", units, err)
	}
	if out := mustRun("unit", "list"); !strings.Contains(out, "bo@example.com") || !strings.Contains(out, "group:Engineering") {
		t.Errorf("unit list:\n%s", out)
	}

	if out := mustRun("role", "assign", "ann@example.com", "authenticationAdmin", "--unit", "Berlin"); !strings.Contains(out, "over unit Berlin") {
		t.Errorf("role assign: %q", out)
	}
	mustRun("role", "assign", "cy@example.com", "reportsReader")
	refused("reportsReader", "role", "assign", "bo@example.com", "helpdesk") // the refusal names the valid roles
	refused("role_assigned", "role", "assign", "cy@example.com", "reportsReader")
	refused("invalid_role", "role", "assign", "bo@example.com", "globalAdmin", "--unit", "Berlin")
	var asgs []struct {
		UserPrincipalName, RoleDefinitionID, UnitName string
	}
	if err := json.Unmarshal([]byte(mustRun("role", "list", "--json")), &asgs); err != nil || len(asgs) != 2 {
		t.Fatalf("role list --json: %+v, %v", asgs, err)
	}
	out := mustRun("role", "list", "ann@example.com")
	if !strings.Contains(out, "authenticationAdmin") || !strings.Contains(out, "unit Berlin") || strings.Contains(out, "cy@example.com") {
		t.Errorf("role list ann:\n%s", out)
	}
	refused("role_not_assigned", "role", "remove", "ann@example.com", "authenticationAdmin")
	mustRun("role", "remove", "ann@example.com", "authenticationAdmin", "--unit", "Berlin")
	if out := mustRun("role", "list", "ann@example.com"); strings.Contains(out, "authenticationAdmin") {
		t.Errorf("role still listed after removal:\n%s", out)
	}

	if out := mustRun("user", "set", "bo@example.com", "--manager", "ann@example.com"); !strings.Contains(out, "reports to ann@example.com") {
		t.Errorf("user set --manager: %q", out)
	}
	mustRun("user", "set", "cy@example.com", "--manager", "bo@example.com")
	refused("manager_self", "user", "set", "ann@example.com", "--manager", "ann@example.com")
	refused("manager_cycle", "user", "set", "ann@example.com", "--manager", "cy@example.com")
	var bo struct{ Manager *struct{ ID string } }
	if err := json.Unmarshal([]byte(mustRun("user", "show", "bo@example.com", "--json")), &bo); err != nil || bo.Manager == nil || bo.Manager.ID == "" {
		t.Errorf("bo's manager not stored: %+v, %v", bo, err)
	}
	mustRun("user", "set", "bo@example.com", "--manager", "")
	bo.Manager = nil
	if err := json.Unmarshal([]byte(mustRun("user", "show", "bo@example.com", "--json")), &bo); err != nil || bo.Manager != nil {
		t.Errorf("bo's manager not cleared: %+v, %v", bo, err)
	}
	if _, _, code := run(t, "user", "set", "bo@example.com", d); code != 2 {
		t.Errorf("user set without a change: exit %d, want 2 (usage)", code)
	}
}
