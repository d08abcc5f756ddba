// Package server assembles Latchkey's HTTP surface: it mounts the JSON API (internal/api), the
// pages (internal/web), the OpenID provider and, through MountSCIM, the SCIM server
// (internal/scim) on one mux, and wraps it with correlation ids, security headers (CSP), cross-origin protection, panic
// recovery and request logging; it also answers /healthz and the API's 404 and 405. Handlers
// live in the mounted packages.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/api"
	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/policyadmin"
	"github.com/latchkey/latchkey/internal/provisioning"
	"github.com/latchkey/latchkey/internal/scim"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/web"
	"github.com/latchkey/latchkey/internal/web/policypages"
)

// Server holds the handlers' dependencies.
type Server struct {
	*httpedge.Base
	auth     *signin.Service
	policies *policyadmin.Service
	dir      *directory.Service
	api      *api.API
	scim     *scim.SCIM
	store    latchkey.Store
	logger   *slog.Logger
	web      *web.Web
	// recorder keeps the provisioning log of the SCIM server (see MountSCIM).
	recorder *provisioning.Recorder
	// mux sends /api/ to apiMux (JSON answers, refusals as JSON) and the rest to browserMux
	// (pages, forms, the OpenID provider). Both get the same middleware (see Handler): the API
	// takes cookie sessions too, so it needs the same cross-origin protection.
	mux, apiMux, browserMux *http.ServeMux

	oidcBypass []string
}

// MountOIDC serves the provider at paths (its endpoints, relative to the issuer, which is the
// public URL) and the pages of its sign-in and logout (see oidc.Browser). Paths in crossOrigin
// take cross-origin POSTs from applications (the token endpoint above all) and are exempt from
// cross-origin protection. Logout is the pages': it ends the browser's session. Call it before
// Handler.
func (s *Server) MountOIDC(p *oidc.Provider, paths, crossOrigin []string) {
	for _, path := range paths {
		if path == oidc.EndSessionPath {
			continue
		}
		s.browserMux.Handle(path, p)
	}
	s.oidcBypass = append(s.oidcBypass, crossOrigin...)
	oidc.NewBrowser(s.Base, p, s.web).Mount(s.browserMux)
	s.web.Issuer = p.Issuer()
}

// New returns a server for svc.
func New(svc *signin.Service, logger *slog.Logger) (*Server, error) {
	s := &Server{Base: &httpedge.Base{Logger: logger, Auth: svc}, auth: svc, policies: policyadmin.New(svc), dir: directory.New(svc),
		store: svc.Store, logger: logger, recorder: provisioning.NewRecorder(svc, logger), mux: http.NewServeMux(), apiMux: http.NewServeMux(), browserMux: http.NewServeMux()}
	s.dir.CreateClient = func(ctx context.Context, name string, redirects, postLogout []string, public bool) (*latchkey.Client, string, error) {
		return oidc.CreateClient(ctx, svc.Store, name, redirects, postLogout, public)
	}
	s.api = api.New(s.Base, s.policies, s.dir)
	s.scim = scim.New(s.Base, s.dir)
	var err error
	if s.web, err = web.New(s.Base, s.policies, s.dir); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.Handle("/api/", s.apiMux)
	s.mux.Handle("/", s.browserMux)

	// JSON API.
	s.api.Mount(s.apiMux)
	s.apiMux.HandleFunc("/api/", s.handleAPINotFound)

	// Pages.
	s.web.Mount(s.browserMux)
	policypages.New(s.web, s.policies).Mount(s.browserMux)
}

// MountSCIM serves the SCIM server h at /scim/v2/, every request recorded in the provisioning
// log (provisioning.Recorder). Call it before Handler.
func (s *Server) MountSCIM(h http.Handler) {
	s.mux.Handle(scim.Prefix+"/", s.recorder.Wrap(h))
}

// SCIM returns Latchkey's SCIM server (internal/scim), for MountSCIM.
func (s *Server) SCIM() http.Handler { return s.scim.Handler() }

// Recorder returns the recorder of the provisioning log (tests wait on it).
func (s *Server) Recorder() *provisioning.Recorder { return s.recorder }

// SetMail has the admin home show the mail outbox's status, which status returns.
func (s *Server) SetMail(status func(ctx context.Context) (*mail.Status, error)) {
	s.web.Mail = status
}

// MountMetrics serves h (the Prometheus scrape) at GET /metrics, with no session: operators
// keep /metrics from the internet at their proxy, or serve it on its own listener instead
// (README, Metrics).
func (s *Server) MountMetrics(h http.Handler) {
	s.mux.Handle("GET /metrics", h)
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
		cid := httpedge.NewCorrelationID()
		r = httpedge.WithCorrelationID(r, cid)
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
				status = httpedge.StatusClientClosedRequest // the client went away: not our failure
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
			h.Set("Retry-After", httpedge.RetryAfterSeconds)
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write records that the answer has started.
func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// refuse answers with the error JSON on API and SCIM paths and an error page elsewhere.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if isAPI(r) {
		s.WriteError(w, r, err)
		return
	}
	s.web.ErrorPage(w, r, err)
}

func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, scim.Prefix+"/")
}

// handleHealthz answers 200 when this node can write to its store (a heartbeat write, at most
// once a second: see signin.Service.Health) and 503 while it cannot. The outage itself is logged
// by the service, once.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	if err := s.auth.Health(r.Context()); err != nil {
		if r.Context().Err() != nil {
			return // the checker went away
		}
		httpedge.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "message": latchkey.UnavailableMessage})
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleAPINotFound(w http.ResponseWriter, r *http.Request) {
	// The catch-all matches every method, so the mux never answers 405 itself: look for the
	// methods this path does have.
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.apiMux.Handler(probe); pattern != "" && pattern != "/api/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.WriteError(w, r, latchkey.Errorf(latchkey.EMETHOD, "method_not_allowed",
			"This address does not take that kind of request.", "%s %s: this route takes %s", r.Method, r.URL.Path, strings.Join(allowed, ", ")))
		return
	}
	s.WriteError(w, r, latchkey.Errorf(latchkey.ENOTFOUND, "not_found", "There is nothing at this address.",
		"no API route %s %s", r.Method, r.URL.Path))
}
