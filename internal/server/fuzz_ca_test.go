package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/latchkey/latchkey/internal/api"
)

// checkCARefusal checks a conditional access refusal: the error JSON with its four fields, and,
// for a lint refusal, the findings too (so the strict checkErrorShape does not apply).
func checkCARefusal(t *testing.T, r *response) {
	t.Helper()
	if r.status < 400 {
		return
	}
	var e lockoutAnswer
	if err := json.NewDecoder(bytes.NewReader(r.body)).Decode(&e); err != nil {
		t.Fatalf("refusal %d %.500s: %v", r.status, r.body, err)
	}
	if e.Error == "" || e.Message == "" || e.Detail == "" || e.CorrelationID == "" {
		t.Errorf("refusal lacks a field: %.500s", r.body)
	}
	if e.Error == "lockout_override_required" && (len(e.Findings) == 0 || e.AffectedUsers == 0) {
		t.Errorf("lint refusal without findings: %.500s", r.body)
	}
}

// FuzzConditionalAccessPolicies posts policy documents: each is stored (2xx) or refused with a
// 4xx and the error JSON, never a 5xx; the lint refuses enabled policies that lock people out.
func FuzzConditionalAccessPolicies(f *testing.F) {
	fs := newFuzzServer(f)
	admin, _ := fs.h.signedInClient("admin@example.com", true)
	cookie := sessionOf(f, admin)
	fs.h.createUser("bob@example.com", false)
	addAll(f,
		`{"displayName":"Report","state":"enabledForReportingButNotEnforced","users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"grantControls":{"authenticationStrengthId":"phishingResistantMfa"}}`,
		`{"displayName":"On","state":"enabled","users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"grantControls":{"block":true}}`,
		`{"displayName":"Register","state":"enabled","users":{"includeUsers":["bob@example.com"]},"applications":{"includeUserActions":["registerSecurityInformation"]},"grantControls":{"authenticationStrengthId":"passwordlessMfa"}}`,
		`{"displayName":"Mac","state":"disabled","users":{"includeRoles":["globalAdmin"]},"applications":{"includeApplications":["All"]},"conditions":{"platforms":{"includePlatforms":["macOS"],"minimumVersions":{"macOS":"13"}},"clientAppTypes":["browser"]},"grantControls":{"block":true},"signInFrequency":"1h"}`,
		`{"displayName":"x","state":"disabled","users":{"includeGuestsOrExternalUsers":true},"applications":{"includeApplications":["All"]},"conditions":{"locations":{"includeLocations":["All"],"excludeLocations":["nowhere"]}},"grantControls":{"block":true}}`,
		`{"displayName":"x","state":"disabled","users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"grantControls":{"block":true},"signInFrequency":"-1h"}`,
		`{"displayName":"x","state":"disabled","users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"conditions":{"platforms":{"minimumVersions":{"windows":"10"}}},"grantControls":{"block":true}}`,
		`{"id":"All","displayName":"x","state":"on","users":{"includeUsers":["All"],"excludeUsers":["All"]},"applications":{"includeApplications":["All"]},"grantControls":{"block":true}}`,
		`{"displayName":"\u0000","state":"off","users":{"includeGroups":[""]}}`,
	)
	addAll(f, brokenJSON...)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, q := range []string{"", "?lockoutOverride=1", "?lockoutOverride=-1"} {
			r := fs.serve(t, fs.request(http.MethodPost, api.CAPath+"/policies"+q, "application/json", body, cookie))
			checkCARefusal(t, r)
		}
		r := fs.serve(t, fs.request(http.MethodPost, api.CAPath+"/evaluate", "application/json", body, cookie))
		checkCARefusal(t, r)
	})
}
