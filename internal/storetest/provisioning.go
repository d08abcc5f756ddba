package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var provisioningTests = []test{
	{"AddProvisioningRequest/RoundTrip", testProvisioningRoundTrip},
	{"ListProvisioningRequests/Filter", testProvisioningFilter},
	{"AddProvisioningRequest/KeepsRows", testProvisioningKeepsRows},
	{"AddProvisioningRequest/KeepsDays", testProvisioningKeepsDays},
}

func newProvisioningRequest(at time.Time, token string, status int) *latchkey.ProvisioningRequest {
	return &latchkey.ProvisioningRequest{ID: latchkey.NewTimeOrderedID(), Time: at, TokenID: token, Method: "POST",
		Path: "/scim/v2/Users?x=1", Status: status, CorrelationID: latchkey.NewID()}
}

func addProvisioning(t *testing.T, s latchkey.Store, r *latchkey.ProvisioningRequest, keep latchkey.ProvisioningRetention) {
	t.Helper()
	must(t, "AddProvisioningRequest", s.AddProvisioningRequest(t.Context(), r, keep))
}

func listProvisioning(t *testing.T, s latchkey.Store, f latchkey.ProvisioningFilter) []*latchkey.ProvisioningRequest {
	t.Helper()
	got, err := s.ListProvisioningRequests(t.Context(), f)
	must(t, "ListProvisioningRequests", err)
	return got
}

func provisioningIDs(reqs []*latchkey.ProvisioningRequest) []string {
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = r.ID
	}
	return ids
}

func testProvisioningRoundTrip(t *testing.T, s latchkey.Store) {
	full := newProvisioningRequest(t0, "token-1", 400)
	full.Body = `{"userName":"ada@example.com","password":"[redacted]","note":"ünïcode ✓"}`
	full.ErrorDetail = `attribute "emails" must be a list`
	want := *full
	addProvisioning(t, s, full, latchkey.DefaultProvisioningRetention)
	unchanged(t, "AddProvisioningRequest argument", full, &want)
	diff(t, "ListProvisioningRequests", listProvisioning(t, s, latchkey.ProvisioningFilter{}), []*latchkey.ProvisioningRequest{&want})

	// The store assigns an id when there is none.
	bare := &latchkey.ProvisioningRequest{Time: t0.Add(time.Second), Method: "GET", Path: "/scim/v2/Users", Status: 401}
	addProvisioning(t, s, bare, latchkey.ProvisioningRetention{})
	if bare.ID == "" {
		t.Fatal("AddProvisioningRequest assigned no id")
	}
	got := listProvisioning(t, s, latchkey.ProvisioningFilter{Limit: 1})
	diff(t, "ListProvisioningRequests newest", got, []*latchkey.ProvisioningRequest{bare})
}

func testProvisioningFilter(t *testing.T, s latchkey.Store) {
	a1 := newProvisioningRequest(t0, "a", 201)
	b1 := newProvisioningRequest(t0.Add(time.Minute), "b", 409)
	a2 := newProvisioningRequest(t0.Add(2*time.Minute), "a", 500)
	a3 := newProvisioningRequest(t0.Add(3*time.Minute), "a", 200)
	for _, r := range []*latchkey.ProvisioningRequest{a2, a1, a3, b1} { // not in time order
		addProvisioning(t, s, r, latchkey.DefaultProvisioningRetention)
	}
	for _, c := range []struct {
		name string
		f    latchkey.ProvisioningFilter
		want []string
	}{
		{"all, newest first", latchkey.ProvisioningFilter{}, []string{a3.ID, a2.ID, b1.ID, a1.ID}},
		{"one token", latchkey.ProvisioningFilter{TokenID: "a"}, []string{a3.ID, a2.ID, a1.ID}},
		{"failed", latchkey.ProvisioningFilter{Failed: true}, []string{a2.ID, b1.ID}},
		{"failed of one token", latchkey.ProvisioningFilter{TokenID: "b", Failed: true}, []string{b1.ID}},
		{"limit", latchkey.ProvisioningFilter{Limit: 2}, []string{a3.ID, a2.ID}},
		{"unknown token", latchkey.ProvisioningFilter{TokenID: "nobody"}, nil},
	} {
		diff(t, "ListProvisioningRequests "+c.name, provisioningIDs(listProvisioning(t, s, c.f)), c.want)
	}
}

func testProvisioningKeepsRows(t *testing.T, s latchkey.Store) {
	keep := latchkey.ProvisioningRetention{Rows: 3, For: 30 * 24 * time.Hour}
	var ids []string
	for i := range 5 {
		r := newProvisioningRequest(t0.Add(time.Duration(i)*time.Second), fmt.Sprint("t", i), 200)
		addProvisioning(t, s, r, keep)
		ids = append(ids, r.ID)
	}
	diff(t, "requests kept", provisioningIDs(listProvisioning(t, s, latchkey.ProvisioningFilter{})), []string{ids[4], ids[3], ids[2]})
}

func testProvisioningKeepsDays(t *testing.T, s latchkey.Store) {
	keep := latchkey.ProvisioningRetention{Rows: 1000, For: 30 * 24 * time.Hour}
	old := newProvisioningRequest(t0, "a", 200)
	edge := newProvisioningRequest(t0.Add(24*time.Hour), "a", 200)
	addProvisioning(t, s, old, keep)
	addProvisioning(t, s, edge, keep)
	// 30 days and one hour after the first: the first goes, the second (29 days old) stays.
	now := newProvisioningRequest(t0.Add(30*24*time.Hour+time.Hour), "a", 200)
	addProvisioning(t, s, now, keep)
	diff(t, "requests kept", provisioningIDs(listProvisioning(t, s, latchkey.ProvisioningFilter{})), []string{now.ID, edge.ID})
}
