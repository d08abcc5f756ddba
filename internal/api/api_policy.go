package api

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/httpedge"
)

// handleGetMethodsPolicy answers the authentication methods policy, Graph-shaped.
func (s *API) handleGetMethodsPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.auth.MethodsPolicy(r.Context())
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, p)
}

// handlePutMethodsPolicy replaces the policy; fields left out keep their defaults. A refused
// policy is not stored, and the answer says which rule it breaks. A change that leaves people
// with no way to sign in is refused with lockout_override_required and the people, as for
// conditional access, unless ?lockoutOverride=N gives their number.
func (s *API) handlePutMethodsPolicy(w http.ResponseWriter, r *http.Request) {
	override, err := httpedge.LockoutOverride(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	body, err := httpedge.ReadJSONBody(w, r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	p, err := s.policies.SetMethodsPolicyJSON(r.Context(), body, override)
	if err != nil {
		s.writeCAError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, p)
}
