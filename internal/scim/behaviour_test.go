package scim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// createUser posts a minimal user and returns its id.
func (h *harness) createUser(userName string, extra ...string) string {
	h.t.Helper()
	body := `{"schemas":["` + SchemaUser + `"],"userName":"` + userName + `"` + strings.Join(extra, "") + `}`
	r := h.do("POST", "/Users", body)
	if r.status != http.StatusCreated {
		h.t.Fatalf("create %s: %d %s", userName, r.status, r.body)
	}
	return r.object(h.t)["id"].(string)
}

func patchBody(ops string) string {
	return `{"schemas":["` + schemaPatch + `"],"Operations":[` + ops + `]}`
}

// TestActiveFalseEndsEverything: active false by SCIM ends the person's live session and
// revokes their pass at once; active true lets them in again, and the session stays ended.
func TestActiveFalseEndsEverything(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	id := h.createUser("leaver@example.com")
	now := time.Now()
	sess := &latchkey.Session{ID: signin.SessionID("browser-cookie"), UserID: id, Methods: []string{latchkey.MethodPasskey},
		CreatedAt: now, AuthenticatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := h.store.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.svc.IssueAccessPass(ctx, id, signin.IssueOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.FindSession(ctx, sess.ID, now); err != nil {
		t.Fatalf("session before: %v", err)
	}
	r := h.do("PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"active","value":"False"}`))
	if r.status != http.StatusOK || r.object(t)["active"] != false {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	if _, err := h.store.FindSession(ctx, sess.ID, now); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("session after active false: %v, want not found", err)
	}
	if _, err := h.store.FindAccessPassByUser(ctx, id); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("pass after active false: %v, want not found", err)
	}
	r = h.do("PATCH", "/Users/"+id, patchBody(`{"op":"replace","value":{"active":true}}`))
	if r.status != http.StatusOK || r.object(t)["active"] != true {
		t.Fatalf("enable: %d %s", r.status, r.body)
	}
	u, err := h.store.FindUserByID(ctx, id)
	if err != nil || !u.Enabled {
		t.Fatalf("after enable: %v %+v", err, u)
	}
	if _, err := h.store.FindSession(ctx, sess.ID, now); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Errorf("session after active true: %v, want still ended", err)
	}
}

// TestDeleteAndCreateAgain: after DELETE the person is 404 for every verb, and the same userName
// can be created again, with a new id.
func TestDeleteAndCreateAgain(t *testing.T) {
	h := newHarness(t)
	id := h.createUser("gone@example.com")
	if r := h.do("DELETE", "/Users/"+id, ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	wantError(t, "GET deleted", h.do("GET", "/Users/"+id, ""), 404, "")
	wantError(t, "PATCH deleted", h.do("PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"active","value":false}`)), 404, "")
	wantError(t, "PUT deleted", h.do("PUT", "/Users/"+id, `{"userName":"gone@example.com"}`), 404, "")
	wantError(t, "DELETE deleted", h.do("DELETE", "/Users/"+id, ""), 404, "")
	again := h.createUser("gone@example.com")
	if again == id {
		t.Errorf("created again with the old id %s", id)
	}
}

// TestUniquenessAndFilterSeeTheSamePeople: a person an administrator created before SCIM was
// turned on is found by a userName filter in any case, and a POST, PUT or PATCH to their
// userName in any case is 409 uniqueness (reference §5.1, §5.3, §5.4).
func TestUniquenessAndFilterSeeTheSamePeople(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin := &latchkey.User{UserPrincipalName: "Alice@Example.com", Enabled: true}
	if err := admin.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := h.store.CreateUser(ctx, admin); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`userName eq "alice@example.com"`, `userName eq "ALICE@EXAMPLE.COM"`, `userName sw "ali"`, `userName co "@EXAMPLE"`} {
		r := h.do("GET", "/Users?filter="+urlQuery(q), "")
		if r.status != 200 || r.object(t)["totalResults"] != float64(1) {
			t.Errorf("filter %s: %d %s, want the admin-made person", q, r.status, r.body)
		}
	}
	wantError(t, "POST taken userName", h.do("POST", "/Users", `{"userName":"alice@example.com"}`), 409, "uniqueness")
	bob := h.createUser("bob@example.com")
	wantError(t, "PATCH to taken userName", h.do("PATCH", "/Users/"+bob, patchBody(`{"op":"Replace","path":"userName","value":"ALICE@example.com"}`)), 409, "uniqueness")
	wantError(t, "PUT to taken userName", h.do("PUT", "/Users/"+bob, `{"userName":"alice@EXAMPLE.com"}`), 409, "uniqueness")
	r := h.do("GET", "/Users/"+bob, "")
	if r.object(t)["userName"] != "bob@example.com" {
		t.Errorf("bob after refused renames: %s", r.body)
	}
}

// urlQuery escapes a filter for a query string, spaces as %20 as Okta sends them.
func urlQuery(s string) string {
	return strings.NewReplacer(" ", "%20", `"`, "%22", "@", "%40", "[", "%5B", "]", "%5D", "&", "%26", "+", "%2B", "#", "%23").Replace(s)
}

// TestTombstoneRenameIsNotApplied: Entra renames a soft-deleted person to "<objectId><UPN>"
// together with active false; the sign-in name stays, and the restore that follows works
// (reference §5.15).
func TestTombstoneRenameIsNotApplied(t *testing.T) {
	h := newHarness(t)
	id := h.createUser("carol@example.com")
	r := h.do("PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"userName","value":"5b50642d79fc4410carol@example.com"},{"op":"Replace","path":"active","value":"False"}`))
	if m := r.object(t); r.status != 200 || m["userName"] != "carol@example.com" || m["active"] != false {
		t.Fatalf("soft delete: %d %s", r.status, r.body)
	}
	r = h.do("PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"userName","value":"carol@example.com"},{"op":"Replace","path":"active","value":"True"}`))
	if m := r.object(t); r.status != 200 || m["userName"] != "carol@example.com" || m["active"] != true {
		t.Fatalf("restore: %d %s", r.status, r.body)
	}
	// A rename of an active person is applied.
	r = h.do("PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"userName","value":"carol.new@example.com"}`))
	if r.object(t)["userName"] != "carol.new@example.com" {
		t.Fatalf("rename: %d %s", r.status, r.body)
	}
}

// TestProfileMapping: work and home addresses become mail and the personal address, the
// enterprise attributes and Latchkey's start date are kept (a date-time by the date as
// written), manager may be an id or a userName, and the password is discarded.
func TestProfileMapping(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	boss := h.createUser("boss@example.com")
	id := h.createUser("hire@example.com", `,"password":"Secret-123","emails":[{"type":"home","value":"hire@home.example"},{"type":"work","value":"hire@example.com","primary":true}]`,
		`,"`+SchemaEnterprise+`":{"employeeNumber":"E42","department":"Sales","manager":{"value":"`+boss+`"}}`,
		`,"`+SchemaLatchkey+`":{"startDate":"2027-01-04T00:00:00Z"}`)
	u, err := h.store.FindUserByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := latchkey.User{Mail: "hire@example.com", PersonalMail: "hire@home.example", EmployeeID: "E42", Department: "Sales",
		ManagerID: boss, StartDate: "2027-01-04", Source: latchkey.UserSourceSCIM}
	got := latchkey.User{Mail: u.Mail, PersonalMail: u.PersonalMail, EmployeeID: u.EmployeeID, Department: u.Department,
		ManagerID: u.ManagerID, StartDate: u.StartDate, Source: u.Source}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stored %+v, want %+v", got, want)
	}
	r := h.do("GET", "/Users/"+id, "")
	if strings.Contains(string(r.body), "Secret-123") || strings.Contains(string(r.body), "password") {
		t.Errorf("GET shows the password: %s", r.body)
	}
	// The manager by userName, and a start date changed by PATCH.
	other := h.createUser("other.boss@example.com")
	r = h.do("PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"`+SchemaEnterprise+`:manager","value":"other.boss@example.com"},`+
		`{"op":"replace","path":"`+SchemaLatchkey+`:startDate","value":"2027-02-01"},`+
		`{"op":"add","path":"emails[type eq \"home\"].value","value":"new@home.example"}`))
	if r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if u, _ = h.store.FindUserByID(ctx, id); u.ManagerID != other || u.StartDate != "2027-02-01" || u.PersonalMail != "new@home.example" {
		t.Errorf("after patch: manager %q start %q personal %q", u.ManagerID, u.StartDate, u.PersonalMail)
	}
	wantError(t, "a start date that is no date", h.do("PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"`+SchemaLatchkey+`:startDate","value":"next monday"}`)), 400, "invalidValue")
	wantError(t, "a manager nobody is", h.do("PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"`+SchemaEnterprise+`:manager","value":"nobody@example.com"}`)), 400, "invalidValue")
	wantError(t, "a manager nobody is, on create", h.do("POST", "/Users", `{"userName":"x@example.com","`+SchemaEnterprise+`":{"manager":"nobody"}}`), 400, "invalidValue")
	wantError(t, "own manager", h.do("PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"`+SchemaEnterprise+`:manager","value":"`+id+`"}`)), 400, "invalidValue")
}

// TestPaging: pages of a list are stable and disjoint, with integer counters, as Okta's import
// (startIndex 1, 101, 201 ...) needs.
func TestPaging(t *testing.T) {
	h := newHarness(t)
	for i := range 7 {
		h.createUser(fmt.Sprintf("user%d@example.com", i))
	}
	seen := map[string]bool{}
	for start := 1; start <= 7; start += 3 {
		r := h.do("GET", fmt.Sprintf("/Users?startIndex=%d&count=3", start), "")
		m := r.object(t)
		res := m["Resources"].([]any)
		if m["totalResults"] != float64(7) || m["startIndex"] != float64(start) || m["itemsPerPage"] != float64(len(res)) {
			t.Errorf("page %d: %s", start, r.body)
		}
		for _, x := range res {
			id := x.(map[string]any)["id"].(string)
			if seen[id] {
				t.Errorf("page %d repeats %s", start, id)
			}
			seen[id] = true
		}
	}
	if len(seen) != 7 {
		t.Errorf("pages held %d users, want 7", len(seen))
	}
	r := h.do("GET", "/Users?startIndex=0&count=0", "")
	if m := r.object(t); m["totalResults"] != float64(7) || len(m["Resources"].([]any)) != 0 || m["startIndex"] != float64(1) {
		t.Errorf("count 0: %s", r.body)
	}
	wantError(t, "count not a number", h.do("GET", "/Users?count=many", ""), 400, "invalidValue")
}
