// Package policypages is the admin console's policy pages: the authentication methods policy
// with its passkey profiles and legacy methods, conditional access with its lint, authentication
// strengths, named locations, what-if and passkey inspection. It builds on the page kit of
// package web (templates, CSRF-checked forms, error pages, the admin navigation); what a viewer
// may see and change is policyadmin's decision, through authz.
package policypages

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/policyadmin"
	"github.com/latchkey/latchkey/internal/web"
)

// Pages holds the policy pages' dependencies.
type Pages struct {
	*web.Web
	policies *policyadmin.Service
}

// New returns the policy pages on the page kit w over the policy administration service.
func New(w *web.Web, policies *policyadmin.Service) *Pages {
	return &Pages{Web: w, policies: policies}
}

// Mount registers the policy pages on m.
func (s *Pages) Mount(m *http.ServeMux) {
	m.HandleFunc("GET /admin/ca/{id}/delete", s.ActorPage(s.handleConfirmCADelete))
	m.HandleFunc("GET /admin/strengths/{id}/delete", s.ActorPage(s.handleConfirmStrengthDelete))
	m.HandleFunc("GET /admin/locations/{id}/delete", s.ActorPage(s.handleConfirmLocationDelete))
	m.HandleFunc("GET /admin/policy/profiles/{id}/delete", s.ActorPage(s.handleConfirmProfileDelete))
	m.HandleFunc("GET /admin/policy", s.ActorPage(s.handleAdminPolicy))
	m.HandleFunc("POST /admin/policy/methods", s.Form(s.ActorPage(s.handleAdminPolicyMethods)))
	m.HandleFunc("POST /admin/policy/default", s.Form(s.ActorPage(s.handleAdminPolicyDefault)))
	m.HandleFunc("POST /admin/policy/profiles", s.Form(s.ActorPage(s.handleAdminPolicyAddProfile)))
	m.HandleFunc("POST /admin/policy/profiles/{id}", s.Form(s.ActorPage(s.handleAdminPolicyEditProfile)))
	m.HandleFunc("POST /admin/policy/profiles/{id}/delete", s.Form(s.ActorPage(s.handleAdminPolicyDeleteProfile)))
	m.HandleFunc("GET /admin/ca", s.ActorPage(s.handleAdminCA))
	m.HandleFunc("GET /admin/ca/new", s.ActorPage(s.handleAdminCANew))
	m.HandleFunc("POST /admin/ca", s.Form(s.ActorPage(s.handleAdminCACreate)))
	m.HandleFunc("GET /admin/ca/{id}", s.ActorPage(s.handleAdminCAEdit))
	m.HandleFunc("POST /admin/ca/{id}", s.Form(s.ActorPage(s.handleAdminCAUpdate)))
	m.HandleFunc("POST /admin/ca/{id}/state", s.Form(s.ActorPage(s.handleAdminCAState)))
	m.HandleFunc("POST /admin/ca/{id}/delete", s.Form(s.ActorPage(s.handleAdminCADelete)))
	m.HandleFunc("GET /admin/strengths", s.ActorPage(s.handleAdminStrengths))
	m.HandleFunc("POST /admin/strengths", s.Form(s.ActorPage(s.handleAdminStrengthCreate)))
	m.HandleFunc("POST /admin/strengths/{id}/delete", s.Form(s.ActorPage(s.handleAdminStrengthDelete)))
	m.HandleFunc("GET /admin/locations", s.ActorPage(s.handleAdminLocations))
	m.HandleFunc("POST /admin/locations", s.Form(s.ActorPage(s.handleAdminLocationCreate)))
	m.HandleFunc("POST /admin/locations/{id}", s.Form(s.ActorPage(s.handleAdminLocationUpdate)))
	m.HandleFunc("POST /admin/locations/{id}/delete", s.Form(s.ActorPage(s.handleAdminLocationDelete)))
	m.HandleFunc("GET /admin/whatif", s.ActorPage(s.handleAdminWhatIf))
	m.HandleFunc("POST /admin/whatif", s.Form(s.ActorPage(s.handleAdminWhatIfForm)))
	m.HandleFunc("GET /admin/inspect", s.ActorPage(s.handleAdminInspectPage))
	m.HandleFunc("POST /admin/inspect", s.Form(s.ActorPage(s.handleAdminInspect)))
	m.HandleFunc("POST /admin/policy/legacy", s.Form(s.ActorPage(s.handleAdminPolicyLegacy)))
	m.HandleFunc("POST /admin/policy/onboarding", s.Form(s.ActorPage(s.handleAdminPolicyOnboarding)))
	m.HandleFunc("POST /admin/policy/recovery", s.Form(s.ActorPage(s.handleAdminPolicyRecovery)))
}
