package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// maxProvisioningPage bounds $top on GET /api/v1/provisioning/requests (the log keeps 1,000).
const maxProvisioningPage = 1000

// provisioningRequestJSON is one request of the provisioning log in API answers.
type provisioningRequestJSON struct {
	ID            string    `json:"id"`
	DateTime      time.Time `json:"dateTime"`
	TokenID       string    `json:"tokenId"`
	Method        string    `json:"method"`
	Path          string    `json:"path"`
	Status        int       `json:"status"`
	CorrelationID string    `json:"correlationId"`
	RequestBody   string    `json:"requestBody,omitempty"`
	ErrorDetail   string    `json:"errorDetail,omitempty"`
}

// handleAPIProvisioningRequests is GET /api/v1/provisioning/requests: the provisioning log,
// newest first, filtered by tokenId and failed=true, at most $top requests (100 unless said).
func (s *API) handleAPIProvisioningRequests(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := latchkey.ProvisioningFilter{TokenID: q.Get("tokenId"), Limit: 100}
	switch q.Get("failed") {
	case "", "false":
	case "true":
		f.Failed = true
	default:
		s.WriteError(w, r, latchkey.Errorf(latchkey.EINVALID, "invalid_request", "Say failed=true or failed=false.",
			"failed %q is not true or false", q.Get("failed")))
		return
	}
	if v := q.Get("$top"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > maxProvisioningPage {
			s.WriteError(w, r, latchkey.Errorf(latchkey.EINVALID, "invalid_top", "Ask for between 1 and 1000 requests.",
				"$top %q is not a number from 1 to %d", v, maxProvisioningPage))
			return
		}
	}
	reqs, err := s.provisioning.ListRequests(r.Context(), a, f)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	value := make([]provisioningRequestJSON, len(reqs))
	for i, p := range reqs {
		value[i] = provisioningRequestJSON{ID: p.ID, DateTime: p.Time, TokenID: p.TokenID, Method: p.Method, Path: p.Path,
			Status: p.Status, CorrelationID: p.CorrelationID, RequestBody: p.Body, ErrorDetail: p.ErrorDetail}
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"value": value})
}
