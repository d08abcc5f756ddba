package metrics

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/metrics/internal/storegen"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/storetest"
)

func TestNilMetricsRecordNothingAndPassThrough(t *testing.T) {
	var m *Metrics
	m.SignIn(latchkey.MethodTAP, latchkey.SignInSuccess)
	m.ObserveCeremony(Registration, time.Now())
	m.TAPIssued()
	m.TAPRedeemed()
	m.Refusal("tap_invalid")
	m.ConditionalAccess(policy.ResultSuccess)
	next := http.NotFoundHandler()
	if got := m.Middleware(next); fmt.Sprint(got) != fmt.Sprint(next) {
		t.Errorf("nil Middleware wrapped the handler")
	}
	st := newStore(t)
	if got := m.Store(st, "sqlite"); got != st {
		t.Errorf("nil Store wrapped the store")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Handler answered %d, want 404", rec.Code)
	}
}

func TestSignInLabelsAreClosed(t *testing.T) {
	m := New()
	m.SignIn(latchkey.MethodPasskey, latchkey.SignInSuccess)
	m.SignIn("passkey+tap", latchkey.SignInFailure)
	m.SignIn("alice@example.com", "maybe")
	m.SignIn("passkey+<script>", latchkey.SignInSuccess)
	m.SignIn("passkeyRegistration", latchkey.SignInFailure)
	for _, c := range []struct {
		method, result string
		want           float64
	}{
		{"passkey", "success", 1},
		{"passkey+tap", "failure", 1},
		{"other", "other", 1},
		{"passkey+other", "success", 1},
		{"passkeyRegistration", "failure", 1},
	} {
		if got := testutil.ToFloat64(m.signIns.WithLabelValues(c.method, c.result)); got != c.want {
			t.Errorf("signins{%s,%s} = %v, want %v", c.method, c.result, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.signIns); n != 5 {
		t.Errorf("%d sign-in series, want 5", n)
	}
}

func TestRefusalCodesAreBounded(t *testing.T) {
	m := New()
	m.Refusal("tap_invalid")
	m.Refusal("Not A Code")
	m.Refusal(strings.Repeat("a", 65))
	for i := range maxCodes + 10 {
		m.Refusal(fmt.Sprintf("code_%d", i))
	}
	if got := testutil.ToFloat64(m.refusals.WithLabelValues("tap_invalid")); got != 1 {
		t.Errorf("tap_invalid = %v, want 1", got)
	}
	// Two malformed codes, and the codes past the cap (tap_invalid and "other" took two places).
	if got, want := testutil.ToFloat64(m.refusals.WithLabelValues(Other)), float64(2+12); got != want {
		t.Errorf("other = %v, want %v", got, want)
	}
	if n := testutil.CollectAndCount(m.refusals); n != maxCodes {
		t.Errorf("%d refusal series, want the cap %d", n, maxCodes)
	}
}

func TestConditionalAccessSplitsStateFromResult(t *testing.T) {
	m := New()
	for _, r := range []string{policy.ResultSuccess, policy.ResultFailure, policy.ResultNotApplied,
		policy.ResultReportOnlySuccess, policy.ResultReportOnlyFailure, policy.ResultReportOnlyNotApplied,
		policy.ResultReportOnlyInterrupted, policy.ResultReportOnlyInterrupted, "somethingNew"} {
		m.ConditionalAccess(r)
	}
	for _, c := range []struct {
		state, result string
		want          float64
	}{
		{"enabled", "success", 1}, {"enabled", "failure", 1}, {"enabled", "notApplied", 1},
		{"reportOnly", "success", 1}, {"reportOnly", "failure", 1}, {"reportOnly", "notApplied", 1},
		{"reportOnly", "interrupted", 2}, {"enabled", "other", 1},
	} {
		if got := testutil.ToFloat64(m.conditionalAccess.WithLabelValues(c.state, c.result)); got != c.want {
			t.Errorf("conditional access {%s,%s} = %v, want %v", c.state, c.result, got, c.want)
		}
	}
}

func TestMiddlewareLabelsByPattern(t *testing.T) {
	m := New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	h := m.Middleware(mux)
	for _, path := range []string{"/users/1", "/users/2", "/elsewhere-81c0"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("the panic did not reach the recovery outside")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/boom", nil))
	}()
	for _, c := range []struct {
		handler, code string
		want          float64
	}{
		{"GET /users/{id}", "418", 2},
		{Unmatched, "404", 1},
		{"GET /boom", "500", 1},
	} {
		if got := testutil.ToFloat64(m.httpRequests.WithLabelValues(c.handler, "GET", c.code)); got != c.want {
			t.Errorf("requests{%s,%s} = %v, want %v", c.handler, c.code, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.httpRequests); n != 3 {
		t.Errorf("%d request series, want 3 (no series per path)", n)
	}
}

// TestStoreWrapperPassesEverythingOn runs the store conformance suite through the timing
// wrapper, so that every generated method is shown to hand its arguments and results on.
func TestStoreWrapperPassesEverythingOn(t *testing.T) {
	m := New()
	storetest.RunTests(t, func(t *testing.T) latchkey.Store { return m.Store(newStore(t), "sqlite") })
	if n := testutil.CollectAndCount(m.storeDuration); n < 40 {
		t.Errorf("%d store operations timed, want the suite's many", n)
	}
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var created uint64
	for _, f := range families {
		if f.GetName() != "latchkey_store_operation_duration_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["op"] == "CreateUser" && labels["store"] == "sqlite" {
				created += s.GetHistogram().GetSampleCount()
			}
		}
	}
	if created == 0 {
		t.Errorf("no CreateUser call timed")
	}
}

func TestStoreWrapperIsCurrent(t *testing.T) {
	want, err := storegen.Sources("../latchkey")
	if err != nil {
		t.Fatal(err)
	}
	have, err := filepath.Glob(storegen.Prefix + "*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range have {
		if _, ok := want[name]; !ok {
			t.Errorf("%s is left over: latchkey.Store changed; run go generate ./internal/metrics", name)
		}
	}
	for name, src := range want {
		got, err := os.ReadFile(name)
		if err != nil || !bytes.Equal(got, src) {
			t.Errorf("%s is missing or stale: latchkey.Store changed; run go generate ./internal/metrics", name)
		}
	}
}

func newStore(t *testing.T) latchkey.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
