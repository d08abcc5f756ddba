// Package server is Latchkey's HTTP surface: the JSON API (/api/v1/...), the server-rendered
// pages, sessions behind cookies, CSRF protection and the mapping of refusals to status codes.
package server

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/auth"
	"github.com/latchkey/latchkey/internal/latchkey"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Server holds the handlers' dependencies.
type Server struct {
	auth   *auth.Service
	store  latchkey.Store
	logger *slog.Logger
	pages  map[string]*template.Template
	mux    *http.ServeMux

	oidc       OIDCProvider
	oidcBypass []string
}

// New returns a server for svc.
func New(svc *auth.Service, logger *slog.Logger) (*Server, error) {
	s := &Server{auth: svc, store: svc.Store, logger: logger, mux: http.NewServeMux()}
	if err := s.loadTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", s.handleHealthz)

	// JSON API.
	m.HandleFunc("POST /api/v1/signin/tap", s.handleAPISignInTAP)
	m.HandleFunc("POST /api/v1/signout", s.handleAPISignOut)
	m.HandleFunc("POST /api/v1/webauthn/registration/options", s.apiSession(s.handleRegistrationOptions))
	m.HandleFunc("POST /api/v1/webauthn/registration/verify", s.apiSession(s.handleRegistrationVerify))
	m.HandleFunc("POST /api/v1/webauthn/authentication/options", s.handleAuthenticationOptions)
	m.HandleFunc("POST /api/v1/webauthn/authentication/verify", s.handleAuthenticationVerify)
	m.HandleFunc("GET /api/v1/me", s.apiSession(s.handleMe))
	m.HandleFunc("GET /api/v1/me/passkeys", s.apiSession(s.handleMyPasskeys))
	m.HandleFunc("PATCH /api/v1/me/passkeys/{id}", s.apiSession(s.handleRenameMyPasskey))
	m.HandleFunc("DELETE /api/v1/me/passkeys/{id}", s.apiSession(s.handleDeleteMyPasskey))
	m.HandleFunc("GET /api/v1/users", s.apiAdmin(s.handleAPIListUsers))
	m.HandleFunc("POST /api/v1/users", s.apiAdmin(s.handleAPICreateUser))
	m.HandleFunc("GET /api/v1/users/{id}", s.apiAdmin(s.handleAPIGetUser))
	m.HandleFunc("GET /api/v1/users/{id}/authentication/fido2Methods", s.apiAdmin(s.handleAPIUserPasskeys))
	m.HandleFunc("POST /api/v1/users/{id}/authentication/temporaryAccessPassMethods", s.apiAdmin(s.handleAPIIssueTAP))
	m.HandleFunc("GET /api/v1/policies/authenticationMethods", s.apiAdmin(s.handleGetMethodsPolicy))
	m.HandleFunc("PUT /api/v1/policies/authenticationMethods", s.apiAdmin(s.handlePutMethodsPolicy))
	m.HandleFunc("GET "+caAPI+"/policies", s.apiAdmin(s.handleAPIListCAPolicies))
	m.HandleFunc("POST "+caAPI+"/policies", s.apiAdmin(s.handleAPICreateCAPolicy))
	m.HandleFunc("GET "+caAPI+"/policies/{id}", s.apiAdmin(s.handleAPIGetCAPolicy))
	m.HandleFunc("PUT "+caAPI+"/policies/{id}", s.apiAdmin(s.handleAPIPutCAPolicy))
	m.HandleFunc("PATCH "+caAPI+"/policies/{id}", s.apiAdmin(s.handleAPIPatchCAPolicy))
	m.HandleFunc("DELETE "+caAPI+"/policies/{id}", s.apiAdmin(s.handleAPIDeleteCAPolicy))
	m.HandleFunc("GET "+caAPI+"/authenticationStrength/policies", s.apiAdmin(s.handleAPIListStrengths))
	m.HandleFunc("POST "+caAPI+"/authenticationStrength/policies", s.apiAdmin(s.handleAPICreateStrength))
	m.HandleFunc("PUT "+caAPI+"/authenticationStrength/policies/{id}", s.apiAdmin(s.handleAPIPutStrength))
	m.HandleFunc("DELETE "+caAPI+"/authenticationStrength/policies/{id}", s.apiAdmin(s.handleAPIDeleteStrength))
	m.HandleFunc("GET "+caAPI+"/namedLocations", s.apiAdmin(s.handleAPIListLocations))
	m.HandleFunc("POST "+caAPI+"/namedLocations", s.apiAdmin(s.handleAPICreateLocation))
	m.HandleFunc("PUT "+caAPI+"/namedLocations/{id}", s.apiAdmin(s.handleAPIPutLocation))
	m.HandleFunc("DELETE "+caAPI+"/namedLocations/{id}", s.apiAdmin(s.handleAPIDeleteLocation))
	m.HandleFunc("POST "+caAPI+"/evaluate", s.apiAdmin(s.handleAPIEvaluateCA))
	m.HandleFunc("GET "+caAPI+"/lint", s.apiAdmin(s.handleAPILintCA))
	m.HandleFunc("GET /api/v1/applications", s.apiAdmin(s.handleAPIListApps))
	m.HandleFunc("POST /api/v1/applications", s.apiAdmin(s.handleAPICreateApp))
	m.HandleFunc("DELETE /api/v1/applications/{id}", s.apiAdmin(s.handleAPIDeleteApp))
	m.HandleFunc("GET /api/v1/auditLogs/signIns", s.apiAdmin(s.handleAPISignIns))
	m.HandleFunc("/api/", s.handleAPINotFound)

	// Pages.
	m.Handle("GET /static/", http.StripPrefix("/static/", s.staticHandler()))
	m.HandleFunc("GET /{$}", s.handleRoot)
	m.HandleFunc("GET /signin", s.handleSignInPage)
	m.HandleFunc("GET /signin/tap", s.handleTAPPage)
	m.HandleFunc("POST /signin/tap", s.form(s.handleTAPForm))
	m.HandleFunc("POST /signout", s.form(s.handleSignOutForm))
	m.HandleFunc("GET /my/security-info", s.page(s.handleSecurityInfo))
	m.HandleFunc("POST /my/security-info/passkeys/{id}/rename", s.form(s.page(s.handleRenameForm)))
	m.HandleFunc("POST /my/security-info/passkeys/{id}/remove", s.form(s.page(s.handleRemoveForm)))
	m.HandleFunc("GET /admin", s.adminPage(s.handleAdminUsers))
	m.HandleFunc("GET /admin/users", s.adminPage(s.handleAdminUsers))
	m.HandleFunc("POST /admin/users", s.form(s.adminPage(s.handleAdminCreateUser)))
	m.HandleFunc("GET /admin/users/{id}", s.adminPage(s.handleAdminUser))
	m.HandleFunc("POST /admin/users/{id}/tap", s.form(s.adminPage(s.handleAdminIssueTAP)))
	m.HandleFunc("GET /admin/policy", s.adminPage(s.handleAdminPolicy))
	m.HandleFunc("POST /admin/policy/methods", s.form(s.adminPage(s.handleAdminPolicyMethods)))
	m.HandleFunc("POST /admin/policy/default", s.form(s.adminPage(s.handleAdminPolicyDefault)))
	m.HandleFunc("POST /admin/policy/profiles", s.form(s.adminPage(s.handleAdminPolicyAddProfile)))
	m.HandleFunc("POST /admin/policy/profiles/{id}", s.form(s.adminPage(s.handleAdminPolicyEditProfile)))
	m.HandleFunc("POST /admin/policy/profiles/{id}/delete", s.form(s.adminPage(s.handleAdminPolicyDeleteProfile)))
	m.HandleFunc("GET /admin/ca", s.adminPage(s.handleAdminCA))
	m.HandleFunc("GET /admin/ca/new", s.adminPage(s.handleAdminCANew))
	m.HandleFunc("POST /admin/ca", s.form(s.adminPage(s.handleAdminCACreate)))
	m.HandleFunc("GET /admin/ca/{id}", s.adminPage(s.handleAdminCAEdit))
	m.HandleFunc("POST /admin/ca/{id}", s.form(s.adminPage(s.handleAdminCAUpdate)))
	m.HandleFunc("POST /admin/ca/{id}/state", s.form(s.adminPage(s.handleAdminCAState)))
	m.HandleFunc("POST /admin/ca/{id}/delete", s.form(s.adminPage(s.handleAdminCADelete)))
	m.HandleFunc("GET /admin/strengths", s.adminPage(s.handleAdminStrengths))
	m.HandleFunc("POST /admin/strengths", s.form(s.adminPage(s.handleAdminStrengthCreate)))
	m.HandleFunc("POST /admin/strengths/{id}/delete", s.form(s.adminPage(s.handleAdminStrengthDelete)))
	m.HandleFunc("GET /admin/locations", s.adminPage(s.handleAdminLocations))
	m.HandleFunc("POST /admin/locations", s.form(s.adminPage(s.handleAdminLocationCreate)))
	m.HandleFunc("POST /admin/locations/{id}", s.form(s.adminPage(s.handleAdminLocationUpdate)))
	m.HandleFunc("POST /admin/locations/{id}/delete", s.form(s.adminPage(s.handleAdminLocationDelete)))
	m.HandleFunc("GET /admin/whatif", s.adminPage(s.handleAdminWhatIf))
	m.HandleFunc("POST /admin/whatif", s.form(s.adminPage(s.handleAdminWhatIfForm)))
	m.HandleFunc("GET /admin/inspect", s.adminPage(s.handleAdminInspectPage))
	m.HandleFunc("POST /admin/inspect", s.form(s.adminPage(s.handleAdminInspect)))
	m.HandleFunc("GET /admin/apps", s.adminPage(s.handleAdminApps))
	m.HandleFunc("POST /admin/apps", s.form(s.adminPage(s.handleAdminCreateApp)))
	m.HandleFunc("POST /admin/apps/{id}/delete", s.form(s.adminPage(s.handleAdminDeleteApp)))
	m.HandleFunc("GET /admin/signins", s.adminPage(s.handleAdminSignIns))
	m.HandleFunc("GET /admin/signins.csv", s.adminPage(s.handleAdminSignInsCSV))
	s.legacyRoutes(m)
	m.HandleFunc("/", s.handlePageNotFound)
}

// MountMetrics serves h (the Prometheus scrape) at GET /metrics, with no session: operators
// keep /metrics from the internet at their proxy, or serve it on its own listener instead
// (README, Metrics).
func (s *Server) MountMetrics(h http.Handler) {
	s.mux.Handle("GET /metrics", h)
}

func (s *Server) handlePageNotFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, latchkey.Errorf(latchkey.ENOTFOUND, "not_found", "There is no page at this address. Check the link, or start again from the sign-in page.",
		"no page route %s %s", r.Method, r.URL.Path))
}

func (s *Server) staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	return http.FileServerFS(sub)
}

// Handler returns the server with its middleware: correlation ids, security headers, cross-origin
// protection for every state-changing request, panic recovery, request logging and, when the
// service has metrics, request metrics.
func (s *Server) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.refuse(w, r, latchkey.Errorf(latchkey.EFORBIDDEN, "cross_origin_request",
			"This request came from another website and was blocked. Go to the sign-in page directly and try again.",
			"cross-origin %s %s refused (Sec-Fetch-Site/Origin)", r.Method, r.URL.Path))
	}))
	for _, p := range s.oidcBypass {
		cop.AddInsecureBypassPattern(p)
	}
	// The metrics middleware passes its request on to the mux unchanged, so that it reads the
	// route pattern the mux matched.
	inner := s.auth.Metrics.Middleware(cop.Handler(s.mux))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		cid := newCorrelationID()
		r = withCorrelationID(r, cid)
		h := w.Header()
		h.Set("X-Correlation-Id", cid)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				s.logger.Error("panic", "panic", p, "path", r.URL.Path, "correlationId", cid)
				if !rec.wrote {
					s.refuse(rec, r, latchkey.Errorf(latchkey.EINTERNAL, "internal_error", "", "panic: %v", p))
				}
			}
			status := rec.status
			if r.Context().Err() != nil && (status >= 500 || !rec.wrote) {
				status = StatusClientClosedRequest // the client went away: not our failure
			}
			s.logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", status,
				"durationMs", float64(time.Since(start).Microseconds())/1000, "correlationId", cid)
			if status < 500 && r.URL.Path != "/healthz" {
				s.auth.CheckRecovery()
			}
		}()
		inner.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

// WriteHeader records the status; every 503 (an outage of the store) tells clients when to
// try again.
func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
		if h := r.Header(); code == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
			h.Set("Retry-After", retryAfterSeconds)
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// refuse answers with the error JSON on API paths and an error page elsewhere.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if isAPI(r) {
		s.writeError(w, r, err)
		return
	}
	s.errorPage(w, r, err)
}

func isAPI(r *http.Request) bool {
	return len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/api/"
}

// handleHealthz answers 200 when this node can write to its store (a heartbeat write, at most
// once a second: see auth.Service.Health) and 503 while it cannot. The outage itself is logged
// by the service, once.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	if err := s.auth.Health(r.Context()); err != nil {
		if r.Context().Err() != nil {
			return // the checker went away
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "message": latchkey.UnavailableMessage})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleAPINotFound(w http.ResponseWriter, r *http.Request) {
	// The catch-all matches every method, so the mux never answers 405 itself: look for the
	// methods this path does have.
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/api/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.writeError(w, r, latchkey.Errorf(latchkey.EMETHOD, "method_not_allowed",
			"This address does not take that kind of request.", "%s %s: this route takes %s", r.Method, r.URL.Path, strings.Join(allowed, ", ")))
		return
	}
	s.writeError(w, r, latchkey.Errorf(latchkey.ENOTFOUND, "not_found", "There is nothing at this address.",
		"no API route %s %s", r.Method, r.URL.Path))
}
