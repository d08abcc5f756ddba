package api

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/httpedge"
)

// handleAPISignIns is GET /api/v1/auditLogs/signIns.
func (s *API) handleAPISignIns(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	q := httpedge.ReadSignInQuery(r)
	f, err := s.SignInFilter(r, q)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	events, err := s.auth.SignInEvents(r.Context(), a, f)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"value": httpedge.WithPolicyResult(events, q.PolicyResult)})
}
