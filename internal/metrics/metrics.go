// Package metrics is Latchkey's Prometheus instrumentation: one registry per process (with the
// Go and process collectors), the counters and histograms the services update, the HTTP
// middleware that measures every request, and a store wrapper that times every store method.
//
// Every label has a closed set of values, so that a scrape stays small whatever people send:
// each collector's comment says how its labels are bounded. A nil *Metrics records nothing,
// so services and tests that have none need no checks.
package metrics

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// Ceremonies, the values of the ceremony label.
const (
	Registration   = "registration"
	Authentication = "authentication"
)

// Other is the label value that stands for any value outside a label's closed set.
const Other = "other"

// maxCodes caps the distinct refusal codes (and sign-in method combinations) one process
// reports: codes are constants in the source, so the cap is only a guard against a code that
// was built from input by mistake.
const maxCodes = 200

// Metrics holds the collectors and the registry they are registered in.
type Metrics struct {
	registry *prometheus.Registry

	// signIns counts sign-in log events. method: latchkey.MethodPasskey, MethodTAP,
	// MethodPassword, MethodTOTP, passkeyRegistration (a refused registration), or the
	// "+"-joined methods of a session for a sign-in to an application (each part one of those,
	// else Other; at most maxCodes values). result: latchkey.SignInSuccess or SignInFailure,
	// else Other.
	signIns *prometheus.CounterVec
	// ceremonyDuration is the server's time to verify a finishing WebAuthn request. ceremony:
	// Registration or Authentication (the two constants; the methods take no free text).
	ceremonyDuration *prometheus.HistogramVec
	// tapsIssued and tapsRedeemed count temporary access passes; no labels.
	tapsIssued, tapsRedeemed prometheus.Counter
	// refusals counts refusals answered to clients. code: the refusal's code, which is a
	// constant in the source; lower-case letters, digits and '_' up to 64 characters, and at
	// most maxCodes distinct values, else Other.
	refusals *prometheus.CounterVec
	// conditionalAccess counts conditional access policy results of recorded accesses. state:
	// enabled or reportOnly (the policy's state); result: success, failure, notApplied or
	// interrupted (the policy result without its reportOnly prefix), else Other.
	conditionalAccess *prometheus.CounterVec
	// storeDuration times store methods. store: the backend name given to Store (sqlite,
	// postgres); op: a method name of latchkey.Store (a fixed list, see store_gen_*.go).
	storeDuration *prometheus.HistogramVec
	// httpRequests and httpDuration measure HTTP requests. handler: the mux pattern that
	// matched (a fixed list, see internal/server routes) or "unmatched"; method: the standard
	// HTTP methods, else Other; code: the status code (a three-digit number).
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	// mails counts outbox sends. result: MailSent, MailRetried or MailFailed, else Other.
	mails *prometheus.CounterVec

	codes   *boundedSet
	methods *boundedSet
}

// New returns metrics registered in a fresh registry with the Go and process collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		registry: r,
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "latchkey_signins_total",
			Help: "Sign-in log events (sign-ins to Latchkey and to applications), by method and result."}, []string{"method", "result"}),
		ceremonyDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "latchkey_passkey_ceremony_duration_seconds",
			Help:    "Server time to verify a finishing passkey registration or authentication, in seconds.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"ceremony"}),
		tapsIssued: prometheus.NewCounter(prometheus.CounterOpts{Name: "latchkey_taps_issued_total",
			Help: "Temporary access passes issued."}),
		tapsRedeemed: prometheus.NewCounter(prometheus.CounterOpts{Name: "latchkey_taps_redeemed_total",
			Help: "Temporary access passes redeemed in a successful sign-in."}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "latchkey_refusals_total",
			Help: "Refusals answered to clients, by error code."}, []string{"code"}),
		conditionalAccess: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "latchkey_conditional_access_results_total",
			Help: "Conditional access policy results of recorded accesses, by policy state and result."}, []string{"state", "result"}),
		storeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "latchkey_store_operation_duration_seconds",
			Help:    "Duration of store methods, in seconds, by store and operation.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"store", "op"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "latchkey_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code."}, []string{"handler", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "latchkey_http_request_duration_seconds",
			Help:    "Duration of HTTP requests, in seconds, by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"handler", "method"}),
		mails:   newMailCounter(),
		codes:   newBoundedSet(maxCodes),
		methods: newBoundedSet(maxCodes),
	}
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.signIns, m.ceremonyDuration, m.tapsIssued, m.tapsRedeemed, m.refusals, m.conditionalAccess,
		m.storeDuration, m.httpRequests, m.httpDuration, m.mails)
	return m
}

// Registry returns the registry the metrics are in (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in the Prometheus text format; a nil m serves 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// SignIn counts one sign-in log event of method (one method, or a session's methods joined by
// "+") with result.
func (m *Metrics) SignIn(method, result string) {
	if m == nil {
		return
	}
	if result != latchkey.SignInSuccess && result != latchkey.SignInFailure {
		result = Other
	}
	m.signIns.WithLabelValues(m.methods.admit(signInMethod(method)), result).Inc()
}

// methodPasskeyRegistration is auth.MethodPasskeyRegistration: the method of a refused
// registration in the sign-in log (auth imports this package, so it cannot be named here).
const methodPasskeyRegistration = "passkeyRegistration"

// signInMethod returns method with every part outside the known methods replaced by Other.
func signInMethod(method string) string {
	parts := strings.Split(method, "+")
	for i, p := range parts {
		switch p {
		case latchkey.MethodPasskey, latchkey.MethodTAP, latchkey.MethodPassword, latchkey.MethodTOTP,
			methodPasskeyRegistration:
		default:
			parts[i] = Other
		}
	}
	return strings.Join(parts, "+")
}

// ObserveCeremony records how long the finishing request of ceremony (Registration or
// Authentication) took since start. Use it as defer m.ObserveCeremony(metrics.Registration,
// time.Now()).
func (m *Metrics) ObserveCeremony(ceremony string, start time.Time) {
	if m == nil {
		return
	}
	if ceremony != Registration && ceremony != Authentication {
		ceremony = Other
	}
	m.ceremonyDuration.WithLabelValues(ceremony).Observe(time.Since(start).Seconds())
}

// TAPIssued counts one temporary access pass issued.
func (m *Metrics) TAPIssued() {
	if m != nil {
		m.tapsIssued.Inc()
	}
}

// TAPRedeemed counts one temporary access pass redeemed in a successful sign-in.
func (m *Metrics) TAPRedeemed() {
	if m != nil {
		m.tapsRedeemed.Inc()
	}
}

// Refusal counts one refusal with code.
func (m *Metrics) Refusal(code string) {
	if m == nil {
		return
	}
	if !isCode(code) {
		code = Other
	}
	m.refusals.WithLabelValues(m.codes.admit(code)).Inc()
}

// isCode reports whether code looks like an error code constant.
func isCode(code string) bool {
	if code == "" || len(code) > 64 {
		return false
	}
	for _, c := range code {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// ConditionalAccess counts one conditional access policy result (policy.ResultSuccess,
// ResultReportOnlyFailure, ...).
func (m *Metrics) ConditionalAccess(result string) {
	if m == nil {
		return
	}
	state, res := "enabled", Other
	switch result {
	case policy.ResultSuccess:
		res = "success"
	case policy.ResultFailure:
		res = "failure"
	case policy.ResultNotApplied:
		res = "notApplied"
	case policy.ResultReportOnlySuccess:
		state, res = "reportOnly", "success"
	case policy.ResultReportOnlyFailure:
		state, res = "reportOnly", "failure"
	case policy.ResultReportOnlyNotApplied:
		state, res = "reportOnly", "notApplied"
	case policy.ResultReportOnlyInterrupted:
		state, res = "reportOnly", "interrupted"
	}
	m.conditionalAccess.WithLabelValues(state, res).Inc()
}
