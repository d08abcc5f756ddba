package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/latchkey/latchkey/internal/loadtest"
)

// scrape reads GET /metrics the way Prometheus does.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// series returns the metrics of family name whose labels include every pair of labels.
func series(families map[string]*dto.MetricFamily, name string, labels map[string]string) []*dto.Metric {
	var out []*dto.Metric
	f := families[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

// counter returns the value of the one counter of family name with labels (0 when absent).
func counter(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	s := series(families, name, labels)
	switch len(s) {
	case 0:
		return 0
	case 1:
		return s[0].GetCounter().GetValue()
	}
	t.Fatalf("%s%v: %d series, want one", name, labels, len(s))
	return 0
}

// histogramCount returns the number of observations in the histograms of family name with labels.
func histogramCount(families map[string]*dto.MetricFamily, name string, labels map[string]string) uint64 {
	var n uint64
	for _, m := range series(families, name, labels) {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}

// TestMetricsCountARealSignIn signs in with the bootstrap pass, adds a report-only policy,
// registers a passkey, signs in with it from a second client, fails one pass, and sends requests no route knows; the scrape
// must show each of those with its labels, and no label made of a requested path.
func TestMetricsCountARealSignIn(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	admin := loadtest.NewClient(s.URL, nil)
	if err := admin.SignInTAP(ctx, "admin", s.Pass); err != nil {
		t.Fatalf("sign in with the bootstrap pass: %v", err)
	}
	// A report-only policy on registering security info: the registration below is evaluated
	// against it and recorded as a sign-in to that action.
	watch := map[string]any{"displayName": "Watch registrations", "state": "enabledForReportingButNotEnforced",
		"users":         map[string]any{"includeUsers": []string{"All"}},
		"applications":  map[string]any{"includeUserActions": []string{"registerSecurityInformation"}},
		"grantControls": map[string]any{"authenticationStrengthId": "phishingResistantMfa"}}
	if err := admin.Do(ctx, "POST", "/api/v1/identity/conditionalAccess/policies", watch, nil); err != nil {
		t.Fatalf("create a report-only policy: %v", err)
	}
	key, err := loadtest.NewAuthenticator(s.URL, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Register(ctx, key); err != nil {
		t.Fatalf("register a passkey: %v", err)
	}
	if err := loadtest.NewClient(s.URL, nil).SignIn(ctx, key, "admin"); err != nil {
		t.Fatalf("sign in with the passkey: %v", err)
	}
	err = loadtest.NewClient(s.URL, nil).SignInTAP(ctx, "admin", "WRONGPASSWORD")
	refused := apiError(err)
	if refused == nil {
		t.Fatalf("a wrong pass: got %v, want a refusal", err)
	}
	for _, path := range []string{"/no/such/page-7f3a", "/api/v1/nothing-9c2e"} {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	req, _ := http.NewRequestWithContext(ctx, "BREW", s.URL+"/coffee-5d1b", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}

	f := scrape(t, s.URL)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		// The pass sign-in, and the registration as a sign-in to registerSecurityInformation.
		{"latchkey_signins_total", map[string]string{"method": "tap", "result": "success"}, 2},
		{"latchkey_signins_total", map[string]string{"method": "tap", "result": "failure"}, 1},
		{"latchkey_signins_total", map[string]string{"method": "passkey", "result": "success"}, 1},
		{"latchkey_signins_total", map[string]string{"method": "passkey", "result": "failure"}, 0},
		{"latchkey_taps_issued_total", nil, 1}, // the bootstrap pass
		{"latchkey_taps_redeemed_total", nil, 1},
		{"latchkey_refusals_total", map[string]string{"code": refused.Code}, 1},
		{"latchkey_http_requests_total", map[string]string{"handler": "POST /api/v1/signin/tap", "method": "POST", "code": "200"}, 1},
		{"latchkey_http_requests_total", map[string]string{"handler": "POST /api/v1/signin/tap", "method": "POST", "code": "401"}, 1},
		{"latchkey_http_requests_total", map[string]string{"handler": "POST /api/v1/webauthn/authentication/verify", "code": "200"}, 1},
	} {
		if got := counter(t, f, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// TAP is not phishing-resistant: the report-only policy would have stopped the registration.
	if got := counter(t, f, "latchkey_conditional_access_results_total", map[string]string{"state": "reportOnly", "result": "failure"}); got != 1 {
		t.Errorf("report-only failures = %v, want 1", got)
	}
	if n := len(series(f, "latchkey_conditional_access_results_total", nil)); n != 1 {
		t.Errorf("%d conditional access series, want only the report-only failure", n)
	}
	for _, ceremony := range []string{"registration", "authentication"} {
		if n := histogramCount(f, "latchkey_passkey_ceremony_duration_seconds", map[string]string{"ceremony": ceremony}); n != 1 {
			t.Errorf("ceremony %s observed %d times, want 1", ceremony, n)
		}
	}
	if n := histogramCount(f, "latchkey_store_operation_duration_seconds", map[string]string{"store": "sqlite", "op": "CompletePasskeySignIn"}); n != 1 {
		t.Errorf("store CompletePasskeySignIn observed %d times, want 1", n)
	}
	if n := histogramCount(f, "latchkey_http_request_duration_seconds", map[string]string{"handler": "POST /api/v1/webauthn/registration/verify"}); n != 1 {
		t.Errorf("registration verify timed %d times, want 1", n)
	}
	// Every handler label is a route pattern: the requested paths never become label values,
	// and a method outside HTTP's own is "other".
	for _, m := range f["latchkey_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			v := l.GetValue()
			if strings.Contains(v, "7f3a") || strings.Contains(v, "9c2e") || strings.Contains(v, "5d1b") || v == "BREW" {
				t.Errorf("label %s=%q comes from a request", l.GetName(), v)
			}
		}
	}
	if got := counter(t, f, "latchkey_http_requests_total", map[string]string{"handler": "/", "method": "GET", "code": "404"}); got != 1 {
		t.Errorf("unknown page counted under the catch-all pattern %v times, want 1", got)
	}
	if got := counter(t, f, "latchkey_http_requests_total", map[string]string{"handler": "/", "method": "other", "code": "404"}); got != 1 {
		t.Errorf("a BREW request counted %v times under method other, want 1", got)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if f[name] == nil {
			t.Errorf("no %s: the Go and process collectors are missing", name)
		}
	}
}
