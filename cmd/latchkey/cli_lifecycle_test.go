package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCLIUserLifecycle: `user set` changes every profile field and `user show --json` prints
// them with Graph's names; `user disable|enable|delete` and `group remove-member|rename|delete`
// change the directory, and the last global administrator cannot be turned off or deleted.
func TestCLIUserLifecycle(t *testing.T) {
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
	mustRun("user", "add", "root@example.com", "--global-admin")
	mustRun("user", "add", "ann@example.com")
	mustRun("user", "add", "bo@example.com")
	mustRun("group", "add", "Engineering")
	mustRun("group", "add", "Sales")
	mustRun("group", "add-member", "Engineering", "ann@example.com")

	mustRun("user", "set", "ann@example.com", "--display-name", "Ann Example", "--given-name", "Ann", "--surname", "Example",
		"--employee-id", "E-7", "--department", "Finance", "--manager", "bo@example.com", "--start-date", "2027-01-04",
		"--mail", "ann@example.com", "--personal-mail", "ann@home.example")
	if out := mustRun("user", "show", "ann@example.com"); !strings.Contains(out, "department: Finance") || !strings.Contains(out, "start date: 2027-01-04") ||
		!strings.Contains(out, "personal mail: ann@home.example") {
		t.Errorf("user show after user set:\n%s", out)
	}
	refused("invalid_date", "user", "set", "ann@example.com", "--start-date", "4 January")
	refused("invalid_mail", "user", "set", "ann@example.com", "--mail", "not an address")
	var ann struct {
		ID, DisplayName, GivenName, Surname, EmployeeID, Department, Mail, EmployeeHireDate string
		OtherMails                                                                          []string
		AccountEnabled                                                                      bool
		Manager                                                                             struct{ UserPrincipalName string }
		MemberOf                                                                            []struct{ DisplayName string }
	}
	if err := json.Unmarshal([]byte(mustRun("user", "show", "ann@example.com", "--json")), &ann); err != nil {
		t.Fatal(err)
	}
	if ann.DisplayName != "Ann Example" || ann.GivenName != "Ann" || ann.Surname != "Example" || ann.EmployeeID != "E-7" ||
		ann.Department != "Finance" || ann.Mail != "ann@example.com" || !strings.HasPrefix(ann.EmployeeHireDate, "2027-01-04T00:00:00") ||
		len(ann.OtherMails) != 1 || ann.OtherMails[0] != "ann@home.example" || ann.Manager.UserPrincipalName != "bo@example.com" ||
		len(ann.MemberOf) != 1 || ann.MemberOf[0].DisplayName != "Engineering" || !ann.AccountEnabled {
		t.Errorf("user show --json after user set: %+v", ann)
	}

	if out := mustRun("user", "disable", "ann@example.com"); !strings.Contains(out, "Turned off ann@example.com") {
		t.Errorf("user disable: %q", out)
	}
	if out := mustRun("user", "list"); !strings.Contains(out, "false") {
		t.Errorf("user list after disable:\n%s", out)
	}
	mustRun("user", "enable", "ann@example.com")
	refused("last_global_admin", "user", "disable", "root@example.com")
	refused("last_global_admin", "user", "delete", "root@example.com")

	mustRun("group", "remove-member", "Engineering", "ann@example.com")
	refused("group_exists", "group", "rename", "Engineering", "sales")
	mustRun("group", "rename", "Engineering", "Platform")
	mustRun("group", "delete", "Sales")
	if out := mustRun("group", "list"); !strings.Contains(out, "Platform") || strings.Contains(out, "Sales") || strings.Contains(out, "Engineering") {
		t.Errorf("group list after rename and delete:\n%s", out)
	}
	if out := mustRun("user", "show", "ann@example.com"); strings.Contains(out, "Platform") {
		t.Errorf("ann still in the group after remove-member:\n%s", out)
	}

	// bo manages ann; deleting bo leaves ann without a manager.
	mustRun("user", "delete", "bo@example.com")
	refused("No such user", "user", "show", "bo@example.com")
	var after struct{ Manager *struct{ ID string } }
	if err := json.Unmarshal([]byte(mustRun("user", "show", "ann@example.com", "--json")), &after); err != nil || after.Manager != nil {
		t.Errorf("ann's manager after deleting bo: %+v, %v", after.Manager, err)
	}
}
