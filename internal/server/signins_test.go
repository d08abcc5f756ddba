package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/web"
)

// signInLog sets up an admin client and a few sign-ins: the admin's and alice's TAP sign-ins,
// a wrong TAP for alice and a stored event whose detail looks like a spreadsheet formula.
func signInLog(t *testing.T) (*harness, *client, *latchkey.User) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	alice := h.createUser("alice@example.com", false)
	ac := h.newClient()
	if r := ac.signInTAP("alice@example.com", "WRONGPASS123"); r.status < 400 {
		t.Fatalf("wrong TAP sign-in: %d %s", r.status, r.body)
	}
	ac.mustSignInTAP("alice@example.com", h.issueTAP(alice.ID, signin.IssueOptions{}))
	evil := &latchkey.SignInEvent{UPN: "mallory@example.com", Method: latchkey.MethodPasskey, Result: latchkey.SignInFailure,
		ErrorCode: "passkey_unknown", Detail: "=HYPERLINK(\"http://evil.example\")", IP: "203.0.113.9", CorrelationID: latchkey.NewID()}
	if err := h.store.RecordSignIn(context.Background(), evil); err != nil {
		t.Fatal(err)
	}
	return h, admin, alice
}

func apiSignIns(t *testing.T, c *client, query string) []latchkey.SignInEvent {
	t.Helper()
	r := c.get("/api/v1/auditLogs/signIns" + query)
	if r.status != http.StatusOK {
		t.Fatalf("GET signIns%s: %d %s", query, r.status, r.body)
	}
	var body struct{ Value []latchkey.SignInEvent }
	r.decode(t, &body)
	return body.Value
}

func TestAPISignInsFilters(t *testing.T) {
	_, admin, alice := signInLog(t)

	all := apiSignIns(t, admin, "")
	if len(all) != 4 {
		t.Fatalf("all sign-ins: got %d events, want 4: %+v", len(all), all)
	}
	for i := 1; i < len(all); i++ {
		if all[i].CreatedAt.After(all[i-1].CreatedAt) {
			t.Errorf("sign-ins not newest first: %v before %v", all[i-1].CreatedAt, all[i].CreatedAt)
		}
	}

	failures := apiSignIns(t, admin, "?result=failure")
	if len(failures) != 2 {
		t.Errorf("result=failure: got %d events, want 2", len(failures))
	}
	for _, e := range failures {
		if e.Result != latchkey.SignInFailure {
			t.Errorf("result=failure returned a %s event", e.Result)
		}
	}

	for _, user := range []string{alice.ID, "alice@example.com"} {
		got := apiSignIns(t, admin, "?user="+url.QueryEscape(user))
		if len(got) != 2 {
			t.Errorf("user=%s: got %d events, want 2", user, len(got))
		}
		for _, e := range got {
			if e.UserID != alice.ID {
				t.Errorf("user=%s returned an event of %q", user, e.UserID)
			}
		}
	}
	got := apiSignIns(t, admin, "?user=alice@example.com&result=success&method=tap")
	if len(got) != 1 || got[0].Result != latchkey.SignInSuccess || got[0].Method != latchkey.MethodTAP {
		t.Errorf("alice's successful TAP sign-ins: %+v", got)
	}
	if got := apiSignIns(t, admin, "?user=nobody@example.com"); len(got) != 0 {
		t.Errorf("unknown user: got %d events", len(got))
	}
	if got := apiSignIns(t, admin, "?errorCode=passkey_unknown"); len(got) != 1 || got[0].UPN != "mallory@example.com" {
		t.Errorf("errorCode=passkey_unknown: %+v", got)
	}
	if got := apiSignIns(t, admin, "?top=1"); len(got) != 1 || got[0].ID != all[0].ID {
		t.Errorf("top=1: %+v, want the newest", got)
	}
	if got := apiSignIns(t, admin, "?since=2999-01-01T00:00:00Z"); len(got) != 0 {
		t.Errorf("since in the future: got %d events", len(got))
	}
	if got := apiSignIns(t, admin, "?until=2000-01-01T00:00:00Z"); len(got) != 0 {
		t.Errorf("until in the past: got %d events", len(got))
	}
	if got := apiSignIns(t, admin, "?since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00%2B01:00"); len(got) != 4 {
		t.Errorf("since and until around now: got %d events, want 4", len(got))
	}

	for _, q := range []string{"since=yesterday", "until=2025-13-01T00:00:00Z", "result=maybe", "method=pass%20word", "method=a%2B%2B", "policyResult=maybe", "top=0", "top=x", "top=1001"} {
		r := admin.get("/api/v1/auditLogs/signIns?" + q)
		e := errorBody(t, r, http.StatusBadRequest, "invalid_filter")
		if strings.ContainsAny(e.Message, "%\"") {
			t.Errorf("%s: message %q is not plain", q, e.Message)
		}
	}
}

func TestAPISignInsNonAdmin(t *testing.T) {
	h := newHarness(t)
	c, _ := h.signedInClient("bob@example.com", false)
	errorBody(t, c.get("/api/v1/auditLogs/signIns"), http.StatusForbidden, "not_allowed")
	if r := h.newClient().get("/api/v1/auditLogs/signIns"); r.status != http.StatusUnauthorized {
		t.Errorf("signed out: status %d, want 401", r.status)
	}
}

func TestAdminSignInsPage(t *testing.T) {
	_, admin, _ := signInLog(t)

	r := admin.get("/admin/signins")
	if r.status != http.StatusOK {
		t.Fatalf("GET /admin/signins: %d %s", r.status, r.body)
	}
	body := string(r.body)
	for _, want := range []string{`id="nav-signins"`, `id="signin-filter"`, "alice@example.com", "admin@example.com",
		"mallory@example.com", "passkey_unknown", "203.0.113.9", `href="/admin/signins.csv"`, "Download CSV"} {
		if !strings.Contains(body, want) {
			t.Errorf("sign-ins page lacks %q", want)
		}
	}
	if n := strings.Count(body, "data-signin-id="); n != 4 {
		t.Errorf("sign-ins page shows %d rows, want 4", n)
	}

	r = admin.get("/admin/signins?result=failure&user=alice%40example.com")
	if r.status != http.StatusOK {
		t.Fatalf("filtered page: %d %s", r.status, r.body)
	}
	body = string(r.body)
	if n := strings.Count(body, "data-signin-id="); n != 1 {
		t.Errorf("filtered page shows %d rows, want 1", n)
	}
	if strings.Contains(body, "mallory@example.com") {
		t.Error("filtered page shows mallory's sign-in")
	}
	if !strings.Contains(body, `<option value="failure" selected>`) || !strings.Contains(body, `value="alice@example.com"`) {
		t.Error("filtered page does not keep the filter in the form")
	}
	if !strings.Contains(body, `href="/admin/signins.csv?result=failure&amp;user=alice%40example.com"`) {
		t.Errorf("CSV link does not carry the filter")
	}

	// The date inputs send plain dates.
	r = admin.get("/admin/signins?since=2999-01-01")
	if r.status != http.StatusOK || strings.Contains(string(r.body), "data-signin-id=") {
		t.Errorf("page since 2999: %d, rows shown", r.status)
	}
	r = admin.get("/admin/signins?since=soon")
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `id="page-error"`) {
		t.Errorf("page with a bad since: %d, want 400 with the error shown", r.status)
	}
}

func TestAdminSignInsCSV(t *testing.T) {
	_, admin, alice := signInLog(t)

	r := admin.get("/admin/signins.csv")
	if r.status != http.StatusOK {
		t.Fatalf("GET /admin/signins.csv: %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, `filename="signins-`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v\n%s", err, r.body)
	}
	if len(rows) != 5 {
		t.Fatalf("CSV has %d rows, want a header and 4", len(rows))
	}
	if strings.Join(rows[0], ",") != strings.Join(web.SignInCSVHeader, ",") || rows[0][0] != "createdDateTime" {
		t.Errorf("CSV header %v", rows[0])
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	var sawEvil bool
	for _, row := range rows[1:] {
		if row[col["userPrincipalName"]] == "mallory@example.com" {
			sawEvil = true
			if got := row[col["detail"]]; got != `'=HYPERLINK("http://evil.example")` {
				t.Errorf("formula cell written as %q, want it neutralised", got)
			}
		}
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("CSV cell %q starts with a formula character", cell)
			}
		}
	}
	if !sawEvil {
		t.Error("CSV lacks mallory's sign-in")
	}

	r = admin.get("/admin/signins.csv?user=" + alice.ID + "&result=success")
	rows, err = csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][col["userId"]] != alice.ID || rows[1][col["result"]] != "success" {
		t.Errorf("filtered CSV: %v %v", rows, err)
	}
}

func TestAdminSignInsNonAdmin(t *testing.T) {
	h := newHarness(t)
	c, _ := h.signedInClient("bob@example.com", false)
	for _, path := range []string{"/admin/signins", "/admin/signins.csv"} {
		r := c.get(path)
		if r.status != http.StatusForbidden {
			t.Errorf("%s as a member: status %d, want 403", path, r.status)
		}
		if strings.Contains(string(r.body), "data-signin-id=") || strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Errorf("%s as a member shows the log", path)
		}
	}
	if r := c.get("/admin/users"); strings.Contains(string(r.body), `id="nav-signins"`) {
		t.Error("a member sees the Sign-ins link")
	}
}
