package api

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/httpedge"
)

// handleAPISignIns is GET /api/v1/auditLogs/signIns.
func (s *API) handleAPISignIns(w http.ResponseWriter, r *http.Request) {
	f, err := s.SignInFilter(r, httpedge.ReadSignInQuery(r))
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	q := httpedge.ReadSignInQuery(r)
	events, err := s.store.ListSignInsFiltered(r.Context(), f)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"value": httpedge.WithPolicyResult(events, q.PolicyResult)})
}
