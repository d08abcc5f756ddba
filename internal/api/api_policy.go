package api

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// handleGetMethodsPolicy answers the authentication methods policy, Graph-shaped.
func (s *API) handleGetMethodsPolicy(w http.ResponseWriter, r *http.Request) {
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
	p, err := s.policies.MethodsPolicy(r.Context(), a)
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
	a, ok := s.policyActor(w, r)
	if !ok {
		return
	}
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
	p, err := s.policies.SetMethodsPolicyJSON(r.Context(), a, body, override)
	if err != nil {
		s.writeCAError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, p)
}

// policyActor returns who makes a policy request; false when it has answered the error of
// resolving them (whether they may act is the policy service's decision).
func (s *API) policyActor(w http.ResponseWriter, r *http.Request) (latchkey.Actor, bool) {
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return a, false
	}
	return a, true
}
