package server

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/api"
	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// caEnv is a small directory behind a server: the signed-in admin (a pass only), a break-glass
// admin and bob with device-bound passkeys, carol with a synced one, and one application.
type caEnv struct {
	h               *harness
	admin           *client
	breakGlass, bob string // user ids
	appID           string
}

func newCAEnv(t *testing.T) *caEnv {
	t.Helper()
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	bg, bgUser := h.signedInClient("breakglass@example.com", true)
	bg.mustRegister(h.newDevice())
	bob, bobUser := h.signedInClient("bob@example.com", false)
	bob.mustRegister(h.newDevice())
	carol, _ := h.signedInClient("carol@example.com", false)
	carol.mustRegister(h.newSyncedDevice())
	r := admin.post("/api/v1/applications", map[string]any{"name": "Payroll", "redirectUris": []string{"https://payroll.example.com/cb"}})
	if r.status != http.StatusCreated {
		t.Fatalf("create app: %d %s", r.status, r.body)
	}
	var app struct{ ClientID string }
	r.decode(t, &app)
	return &caEnv{h: h, admin: admin, breakGlass: bgUser.ID, bob: bobUser.ID, appID: app.ClientID}
}

// lockoutAnswer is a lint refusal as the API sends it.
type lockoutAnswer struct {
	httpedge.ErrorBody
	AffectedUsers int `json:"affectedUsers"`
	Findings      []struct {
		PolicyName         string   `json:"policyName"`
		Code               string   `json:"code"`
		UserPrincipalNames []string `json:"userPrincipalNames"`
	} `json:"findings"`
}

func lockoutOfResponse(t *testing.T, r *response) lockoutAnswer {
	t.Helper()
	if r.status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", r.status, r.body)
	}
	var a lockoutAnswer
	r.decode(t, &a)
	if a.Error != policy.CodeLockoutOverrideNeeded || a.Message == "" || a.Detail == "" || a.CorrelationID == "" {
		t.Fatalf("refusal %s", r.body)
	}
	return a
}

func (a lockoutAnswer) names(code string) []string {
	for _, f := range a.Findings {
		if f.Code == code {
			return f.UserPrincipalNames
		}
	}
	return nil
}

func TestCAPoliciesAPI(t *testing.T) {
	e := newCAEnv(t)
	c := e.admin
	base := api.CAPath + "/policies"
	body := map[string]any{"displayName": "Phishing-resistant MFA", "state": "enabledForReportingButNotEnforced",
		"users":         map[string]any{"includeUsers": []string{"All"}},
		"applications":  map[string]any{"includeApplications": []string{"All"}},
		"grantControls": map[string]any{"authenticationStrengthId": "phishingResistantMfa"}}
	r := c.post(base, body)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created struct {
		policy.ConditionalAccessPolicy
		LintWarnings []struct {
			Findings []struct {
				Code               string
				UserPrincipalNames []string
			}
		}
	}
	r.decode(t, &created)
	if created.ID == "" || len(created.LintWarnings) != 1 {
		t.Fatalf("created %s", r.body)
	}
	id := created.ID
	// Report-only: who would be locked out is a warning, not a refusal.
	if f := created.LintWarnings[0].Findings[0]; f.Code != policy.LintUsersCannotSatisfy || !slices.Equal(f.UserPrincipalNames, []string{"admin@example.com"}) {
		t.Fatalf("warnings %s", r.body)
	}

	// Switching it on: refused, with each finding and the people named.
	r = c.send(http.MethodPatch, base+"/"+id, `{"state":"enabled"}`)
	a := lockoutOfResponse(t, r)
	if a.AffectedUsers != 2 || !slices.Equal(a.names(policy.LintUsersCannotSatisfy), []string{"admin@example.com"}) ||
		!slices.Equal(a.names(policy.LintNoBreakGlass), []string{"admin@example.com", "breakglass@example.com"}) || a.Findings[0].PolicyName != "Phishing-resistant MFA" {
		t.Fatalf("lockout %s", r.body)
	}
	lockoutOfResponse(t, c.send(http.MethodPatch, base+"/"+id+"?lockoutOverride=3", `{"state":"enabled"}`))
	errorBody(t, c.send(http.MethodPatch, base+"/"+id+"?lockoutOverride=two", `{"state":"enabled"}`), 400, "invalid_request")
	if r = c.get(base + "/" + id); !strings.Contains(string(r.body), `"state":"enabledForReportingButNotEnforced"`) {
		t.Fatalf("a refused switch was stored: %s", r.body)
	}
	if r = c.send(http.MethodPatch, base+"/"+id+"?lockoutOverride=2", `{"state":"enabled"}`); r.status != http.StatusOK {
		t.Fatalf("override: %d %s", r.status, r.body)
	}

	// Fixed: break-glass excluded by UPN (stored as the id), and only for Payroll; the admin
	// still has only a pass, so the override is 1.
	body["state"] = "enabled"
	body["users"] = map[string]any{"includeUsers": []string{"All"}, "excludeUsers": []string{"breakglass@example.com"}}
	a = lockoutOfResponse(t, c.send(http.MethodPut, base+"/"+id, body))
	if a.AffectedUsers != 1 || a.names(policy.LintNoBreakGlass) != nil {
		t.Fatalf("fixed policy: %+v", a)
	}
	r = c.send(http.MethodPut, base+"/"+id+"?lockoutOverride=1", body)
	var put policy.ConditionalAccessPolicy
	if r.decode(t, &put); r.status != http.StatusOK || !slices.Equal(put.Users.ExcludeUsers, []string{e.breakGlass}) || put.State != "enabled" {
		t.Fatalf("put: %d %s", r.status, r.body)
	}

	// Bad input: unknown references, unknown fields, id changes, missing policies. Nothing is stored.
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{"unknown group", "PUT", base + "/" + id, `{"displayName":"x","state":"disabled","users":{"includeGroups":["Nobody"]},"applications":{"includeApplications":["All"]},"grantControls":{"block":true}}`, 400, "unknown_group"},
		{"unknown app", "POST", base, `{"displayName":"x","state":"disabled","users":{"includeUsers":["All"]},"applications":{"includeApplications":["nope"]},"grantControls":{"block":true}}`, 400, "unknown_application"},
		{"unknown user", "POST", base, `{"displayName":"x","state":"disabled","users":{"includeUsers":["zed@example.com"]},"applications":{"includeApplications":["All"]},"grantControls":{"block":true}}`, 400, "unknown_user"},
		{"unknown field", "POST", base, `{"displayName":"x","stat":"disabled"}`, 400, "invalid_policy"},
		{"misspelt condition", "POST", base, `{"displayName":"x","state":"disabled","users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"conditions":{"platform":{}},"grantControls":{"block":true}}`, 400, "invalid_policy"},
		{"bad state", "PATCH", base + "/" + id, `{"state":"maybe"}`, 400, "invalid_policy"},
		{"id change", "PUT", base + "/" + id, `{"id":"other","displayName":"x"}`, 400, "invalid_policy"},
		{"no such policy", "PUT", base + "/nope", body, 404, "policy_not_found"},
		{"no such policy (state)", "PATCH", base + "/nope", `{"state":"disabled"}`, 404, "policy_not_found"},
		{"no such policy (delete)", "DELETE", base + "/nope", nil, 404, "policy_not_found"},
		{"no such policy (get)", "GET", base + "/nope", nil, 404, "policy_not_found"},
		{"wrong type", "POST", base, `{"displayName":5}`, 400, "wrong_type"},
		{"bad platform", "POST", base, `{"displayName":"x","state":"disabled","users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"conditions":{"platforms":{"includePlatforms":["amiga"]}},"grantControls":{"block":true}}`, 400, "invalid_policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errorBody(t, c.send(tc.method, tc.path, tc.body), tc.status, tc.code)
		})
	}

	var list struct {
		Value []policy.ConditionalAccessPolicy
	}
	if r = c.get(base); r.status != http.StatusOK {
		t.Fatalf("list: %d", r.status)
	}
	if r.decode(t, &list); len(list.Value) != 1 || list.Value[0].ID != id {
		t.Fatalf("list %s", r.body)
	}
	var lint struct {
		Value []struct {
			PolicyID      string
			AffectedUsers int
		}
	}
	if r = c.get(api.CAPath + "/lint"); r.status != http.StatusOK {
		t.Fatalf("lint: %d", r.status)
	}
	if r.decode(t, &lint); len(lint.Value) != 1 || lint.Value[0].AffectedUsers != 1 {
		t.Fatalf("lint %s", r.body)
	}
	if r = c.send(http.MethodDelete, base+"/"+id, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	errorBody(t, c.get(base+"/"+id), 404, "policy_not_found")

	// Only global admins.
	bob := e.h.newClient()
	bob.mustSignInTAP("bob@example.com", e.h.issueTAP(e.bob, signin.IssueOptions{}))
	for _, p := range []string{base, api.CAPath + "/lint", api.CAPath + "/namedLocations", api.CAPath + "/authenticationStrength/policies"} {
		errorBody(t, bob.get(p), 403, authz.CodeNotAllowed)
	}
	errorBody(t, bob.post(api.CAPath+"/evaluate", `{"user":"bob@example.com","app":"x"}`), 403, authz.CodeNotAllowed)
}

func TestCAStrengthsLocationsAndEvaluateAPI(t *testing.T) {
	e := newCAEnv(t)
	c := e.admin
	sBase, lBase := api.CAPath+"/authenticationStrength/policies", api.CAPath+"/namedLocations"

	var strengths struct{ Value []policy.Strength }
	r := c.get(sBase)
	if r.decode(t, &strengths); len(strengths.Value) != 3 || strengths.Value[2].ID != policy.StrengthPhishingResistantMFA || !strengths.Value[0].BuiltIn {
		t.Fatalf("strengths %s", r.body)
	}
	r = c.post(sBase, `{"displayName":"Hardware passkey","allowedCombinations":["passkey"],"passkeyConditions":{"kinds":["device-bound"],"allowedAaguids":[],"attestationRequired":false}}`)
	var st policy.Strength
	if r.decode(t, &st); r.status != http.StatusCreated || st.ID == "" {
		t.Fatalf("create strength: %d %s", r.status, r.body)
	}
	errorBody(t, c.post(sBase, `{"displayName":"None","allowedCombinations":["smoke signals"]}`), 400, "invalid_policy")
	errorBody(t, c.send(http.MethodPut, sBase+"/mfa", `{"displayName":"MFA","allowedCombinations":["passkey"]}`), 400, "invalid_policy")
	errorBody(t, c.send(http.MethodDelete, sBase+"/nope", nil), 404, "strength_not_found")

	r = c.post(lBase, `{"displayName":"Office","ipRanges":["203.0.113.0/24"],"isTrusted":true}`)
	var loc policy.NamedLocation
	if r.decode(t, &loc); r.status != http.StatusCreated || loc.ID == "" {
		t.Fatalf("create location: %d %s", r.status, r.body)
	}
	errorBody(t, c.post(lBase, `{"displayName":"Moon","ipRanges":["the moon"]}`), 400, "invalid_policy")
	errorBody(t, c.post(lBase, `{"displayName":"office","ipRanges":["198.51.100.0/24"]}`), 409, "location_exists")
	if r = c.send(http.MethodPut, lBase+"/"+loc.ID, `{"displayName":"Office","ipRanges":["203.0.113.0/24","198.51.100.7"],"isTrusted":true}`); r.status != http.StatusOK ||
		!strings.Contains(string(r.body), `"198.51.100.7/32"`) {
		t.Fatalf("put location: %d %s", r.status, r.body)
	}

	// Payroll from outside the office needs the hardware strength; report-only first.
	pol := map[string]any{"displayName": "Payroll outside the office", "state": "enabledForReportingButNotEnforced",
		"users":         map[string]any{"includeUsers": []string{"bob@example.com", "carol@example.com"}},
		"applications":  map[string]any{"includeApplications": []string{e.appID}},
		"conditions":    map[string]any{"locations": map[string]any{"includeLocations": []string{"All"}, "excludeLocations": []string{"Office"}}},
		"grantControls": map[string]any{"authenticationStrengthId": st.ID}}
	if r = c.post(api.CAPath+"/policies", pol); r.status != http.StatusCreated {
		t.Fatalf("create policy: %d %s", r.status, r.body)
	}
	var p policy.ConditionalAccessPolicy
	r.decode(t, &p)
	errorBody(t, c.send(http.MethodDelete, sBase+"/"+st.ID, nil), 409, "strength_in_use")
	if e := errorBody(t, c.send(http.MethodDelete, lBase+"/"+loc.ID, nil), 409, "location_in_use"); !strings.Contains(e.Message, "Payroll outside the office") {
		t.Fatalf("message %q", e.Message)
	}

	type report struct {
		Result struct {
			CanMeet            bool
			Demanded           []string
			ReportOnlyDemanded []string
		}
		Policies []struct{ Name, Result, Grant string }
		Methods  []struct {
			Description             string
			MeetsEnforced, MeetsAll bool
		}
		CanMeetReportOnly bool
		Verdict           string
	}
	eval := func(user, ip string) report {
		t.Helper()
		r := c.post(api.CAPath+"/evaluate", map[string]string{"user": user, "app": e.appID, "platform": "windows", "platformVersion": "10.0.22631", "ip": ip, "clientType": "browser"})
		if r.status != http.StatusOK {
			t.Fatalf("evaluate: %d %s", r.status, r.body)
		}
		var rep report
		r.decode(t, &rep)
		return rep
	}
	// Carol (synced passkey) could not meet it once enforced; bob (device-bound) could.
	rep := eval("carol@example.com", "192.0.2.1")
	if len(rep.Policies) != 1 || rep.Policies[0].Result != policy.ResultReportOnlyFailure || !rep.Result.CanMeet || rep.CanMeetReportOnly ||
		!slices.Equal(rep.Result.ReportOnlyDemanded, []string{st.ID}) || !strings.Contains(rep.Verdict, "which none of their methods meets") {
		t.Fatalf("carol %+v", rep)
	}
	rep = eval("bob@example.com", "192.0.2.1")
	if !rep.CanMeetReportOnly || rep.Policies[0].Result != policy.ResultReportOnlyInterrupted {
		t.Fatalf("bob %+v", rep)
	}
	// From the office, the policy does not apply.
	if rep = eval("carol@example.com", "203.0.113.9"); len(rep.Policies) != 0 {
		t.Fatalf("from the office: %+v", rep)
	}
	// Enforced (carol is the one person affected), carol cannot meet it; bob can.
	if r = c.send(http.MethodPatch, api.CAPath+"/policies/"+p.ID+"?lockoutOverride=1", `{"state":"enabled"}`); r.status != http.StatusOK {
		t.Fatalf("enable: %d %s", r.status, r.body)
	}
	if rep = eval("carol@example.com", "192.0.2.1"); rep.Result.CanMeet || rep.Methods[0].MeetsEnforced ||
		!strings.HasPrefix(rep.Verdict, "carol@example.com cannot meet what application Payroll demands (Hardware passkey)") {
		t.Fatalf("carol enforced %+v", rep)
	}
	if rep = eval("bob@example.com", "192.0.2.1"); !rep.Result.CanMeet || !strings.Contains(rep.Verdict, "can meet") {
		t.Fatalf("bob enforced %+v", rep)
	}
	// Narrowing the strength further (attestation required) would lock bob out too.
	r = c.send(http.MethodPut, sBase+"/"+st.ID, `{"displayName":"Hardware passkey","allowedCombinations":["passkey"],"passkeyConditions":{"kinds":["device-bound"],"allowedAaguids":[],"attestationRequired":true}}`)
	if a := lockoutOfResponse(t, r); !slices.Equal(a.names(policy.LintUsersCannotSatisfy), []string{"bob@example.com", "carol@example.com"}) {
		t.Fatalf("narrowed: %s", r.body)
	}

	for _, bad := range []struct{ body, code string }{
		{`{"app":"x"}`, "invalid_request"},
		{`{"user":"zed@example.com","app":"` + e.appID + `"}`, "unknown_user"},
		{`{"user":"bob@example.com","app":"nope"}`, "unknown_application"},
		{`{"user":"bob@example.com","app":"` + e.appID + `","ip":"300.1.1.1"}`, "invalid_request"},
		{`{"user":"bob@example.com","userAction":"dance"}`, "invalid_request"},
		{`{"user":"bob@example.com","device":"x"}`, "invalid_policy"},
	} {
		errorBody(t, c.post(api.CAPath+"/evaluate", bad.body), 400, bad.code)
	}
	var locs struct{ Value []json.RawMessage }
	r = c.get(lBase)
	if r.decode(t, &locs); len(locs.Value) != 1 {
		t.Fatalf("locations %s", r.body)
	}
}

// caJSONRoutes are the conditional access routes that read a JSON body, for TestBadJSONInput;
// it creates the policy, strength and location their paths name.
func caJSONRoutes(t *testing.T, h *harness) []jsonRoute {
	t.Helper()
	ctx := context.Background()
	p, _, err := h.policies.CreateCAPolicy(ctx, latchkey.SystemActor, policy.ConditionalAccessPolicy{Name: "Off", State: policy.CAStateDisabled,
		Users: policy.Users{IncludeUsers: []string{policy.All}}, Applications: policy.Applications{IncludeApplications: []string{policy.All}},
		Grant: policy.Grant{Block: true}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := h.policies.CreateStrength(ctx, latchkey.SystemActor, policy.Strength{Name: "Passkey", AllowedCombinations: []string{"passkey"}})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := h.policies.CreateNamedLocation(ctx, latchkey.SystemActor, policy.NamedLocation{Name: "Office", CIDRs: []string{"203.0.113.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	pol := `{"displayName":"x","state":"disabled","users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"grantControls":{"block":true}}`
	wrong := []string{`{"users": {"includeUsers": "All"}}`, `{"grantControls": {"block": "yes"}}`, `{"signInFrequency": "soon"}`}
	return []jsonRoute{
		{pattern: "POST " + api.CAPath + "/policies", method: "POST", path: api.CAPath + "/policies", session: true, valid: pol,
			wrongType: `{"displayName": 5}`, wrongCode: "wrong_type", moreWrong: wrong},
		{pattern: "PUT " + api.CAPath + "/policies/{id}", method: "PUT", path: api.CAPath + "/policies/" + p.ID, session: true, valid: pol,
			wrongType: `{"displayName": 5}`, wrongCode: "wrong_type", moreWrong: wrong},
		{pattern: "PATCH " + api.CAPath + "/policies/{id}", method: "PATCH", path: api.CAPath + "/policies/" + p.ID, session: true, valid: `{"state":"disabled"}`,
			wrongType: `{"state": 5}`, wrongCode: "wrong_type"},
		{pattern: "POST " + api.CAPath + "/authenticationStrength/policies", method: "POST", path: api.CAPath + "/authenticationStrength/policies", session: true,
			valid: `{"displayName":"y","allowedCombinations":["passkey"]}`, wrongType: `{"allowedCombinations": "passkey"}`, wrongCode: "wrong_type",
			moreWrong: []string{`{"passkeyConditions": {"kinds": "synced"}}`}},
		{pattern: "PUT " + api.CAPath + "/authenticationStrength/policies/{id}", method: "PUT", path: api.CAPath + "/authenticationStrength/policies/" + st.ID, session: true,
			valid: `{"displayName":"y","allowedCombinations":["passkey"]}`, wrongType: `{"displayName": []}`, wrongCode: "wrong_type"},
		{pattern: "POST " + api.CAPath + "/namedLocations", method: "POST", path: api.CAPath + "/namedLocations", session: true,
			valid: `{"displayName":"z","ipRanges":["192.0.2.0/24"]}`, wrongType: `{"ipRanges": "192.0.2.0/24"}`, wrongCode: "wrong_type",
			moreWrong: []string{`{"isTrusted": "yes"}`}},
		{pattern: "PUT " + api.CAPath + "/namedLocations/{id}", method: "PUT", path: api.CAPath + "/namedLocations/" + loc.ID, session: true,
			valid: `{"displayName":"z","ipRanges":["192.0.2.0/24"]}`, wrongType: `{"displayName": true}`, wrongCode: "wrong_type"},
		{pattern: "POST " + api.CAPath + "/evaluate", method: "POST", path: api.CAPath + "/evaluate", session: true,
			valid: `{"user":"bob@example.com","app":"x"}`, wrongType: `{"user": 5}`, wrongCode: "wrong_type"},
	}
}
