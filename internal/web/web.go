// Package web is Latchkey's server-rendered pages: signing in, My Security Info, the admin
// console's home, people, roles, tokens, applications and sign-in log pages, and the page kit
// they and the policy pages (package web/policypages) share: templates and static assets, form handling
// with CSRF tokens, error pages, the admin navigation, and the pages of the OpenID Connect
// sign-in and sign-out. Handlers only translate between forms and the services.
package web

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/policyadmin"
	"github.com/latchkey/latchkey/internal/recovery"
	"github.com/latchkey/latchkey/internal/signin"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Web holds the pages' dependencies.
type Web struct {
	*httpedge.Base
	auth     *signin.Service
	policies *policyadmin.Service
	dir      *directory.Service
	// recovery runs identity verification and the helpdesk requests (pages_idv.go,
	// pages_helpdesk.go).
	recovery *recovery.Service
	store    latchkey.Store
	logger   *slog.Logger
	pages    map[string]*template.Template
	// Issuer is the OpenID Connect issuer the applications page tells applications to use; set
	// where the provider is mounted, empty when there is none.
	Issuer string
	// Mail, when set, returns the mail outbox's status, which the admin home shows: failures,
	// and the mails waiting when mail is not set up.
	Mail func(ctx context.Context) (*mail.Status, error)
}

// New returns the pages over base's sign-in service, policy administration and directory.
func New(base *httpedge.Base, policies *policyadmin.Service, dir *directory.Service) (*Web, error) {
	s := &Web{Base: base, auth: base.Auth, policies: policies, dir: dir, store: base.Auth.Store, logger: base.Logger,
		recovery: recovery.New(dir)}
	if err := s.loadTemplates(); err != nil {
		return nil, err
	}
	return s, nil
}

// Mount registers the pages on m, the catch-all "/" (a not-found page) included.
func (s *Web) Mount(m *http.ServeMux) {
	m.Handle("GET /static/", http.StripPrefix("/static/", s.staticHandler()))
	m.HandleFunc("GET /{$}", s.handleRoot)
	m.HandleFunc("GET /signin", s.handleSignInPage)
	m.HandleFunc("GET /signin/tap", s.handleTAPPage)
	m.HandleFunc("POST /signin/tap", s.form(s.handleTAPForm))
	m.HandleFunc("POST /signout", s.form(s.handleSignOutForm))
	m.HandleFunc("GET /my/security-info", s.page(s.handleSecurityInfo))
	m.HandleFunc("POST /my/security-info/passkeys/{id}/rename", s.form(s.page(s.handleRenameForm)))
	m.HandleFunc("POST /my/security-info/passkeys/{id}/remove", s.form(s.page(s.handleRemoveForm)))
	// Recovery (issue 13, m2): the kiosk and My Staff.
	m.HandleFunc("POST /my/security-info/new-phone", s.form(s.page(s.handleKioskForm)))
	m.HandleFunc("GET /my/staff", s.page(s.handleMyStaff))
	m.HandleFunc("POST /my/staff/{id}/pass", s.form(s.page(s.handleMyStaffPass)))
	m.HandleFunc("GET /admin", s.ActorPage(s.handleAdmin))
	m.HandleFunc("GET /admin/users", s.ActorPage(s.handleAdminUsers))
	m.HandleFunc("POST /admin/users", s.form(s.ActorPage(s.handleAdminCreateUser)))
	m.HandleFunc("GET /admin/users/{id}", s.ActorPage(s.handleAdminUser))
	m.HandleFunc("POST /admin/users/{id}/tap", s.form(s.ActorPage(s.handleAdminIssueTAP)))
	s.roleRoutes(m)
	s.methodRoutes(m)
	s.lifecycleRoutes(m)
	s.helpdeskRoutes(m) // helpdesk requests with a second approver
	m.HandleFunc("GET /admin/apps", s.ActorPage(s.handleAdminApps))
	m.HandleFunc("POST /admin/apps", s.form(s.ActorPage(s.handleAdminCreateApp)))
	m.HandleFunc("POST /admin/apps/{id}/delete", s.form(s.ActorPage(s.handleAdminDeleteApp)))
	m.HandleFunc("GET /admin/tokens", s.ActorPage(s.handleAdminTokens))
	m.HandleFunc("POST /admin/tokens", s.form(s.ActorPage(s.handleAdminCreateToken)))
	m.HandleFunc("POST /admin/tokens/{id}/revoke", s.form(s.ActorPage(s.handleAdminRevokeToken)))
	m.HandleFunc("GET /admin/signins", s.ActorPage(s.handleAdminSignIns))
	m.HandleFunc("GET /admin/audit", s.ActorPage(s.handleAdminAudit))
	m.HandleFunc("GET /admin/provisioning", s.ActorPage(s.handleAdminProvisioning))
	m.HandleFunc("GET /admin/signins.csv", s.ActorPage(s.handleAdminSignInsCSV))
	s.legacyRoutes(m)
	s.idvRoutes(m)
	s.recoverRoutes(m) // issue 13 items 1 and 7 (m1): /recover, the offer to create a passkey here
	m.HandleFunc("/", s.handlePageNotFound)
}

// Page renders the page name with data, with err's refusal shown when err is not nil (for the
// OpenID sign-in pages, internal/oidc).
func (s *Web) Page(w http.ResponseWriter, r *http.Request, name, title string, err error, data map[string]any) {
	v := View{Data: data}
	if err != nil {
		status, body := s.PublicError(r, err)
		v.Error, v.Status = &body, status
	}
	s.Render(w, r, name, title, v)
}

// Form parses a form post and checks its CSRF token before h.
func (s *Web) Form(h http.HandlerFunc) http.HandlerFunc { return s.form(h) }

// ErrorPage shows a refusal as a page with a plain sentence and the correlation id.
func (s *Web) ErrorPage(w http.ResponseWriter, r *http.Request, err error) {
	s.errorPage(w, r, err)
}

func (s *Web) handlePageNotFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, latchkey.Errorf(latchkey.ENOTFOUND, "not_found", "There is no page at this address. Check the link, or start again from the sign-in page.",
		"no page route %s %s", r.Method, r.URL.Path))
}

func (s *Web) staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	return http.FileServerFS(sub)
}
