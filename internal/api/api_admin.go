package api

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

func (s *API) handleAPICreateUser(w http.ResponseWriter, r *http.Request) {
	var u latchkey.User
	u.Enabled = true
	if err := httpedge.DecodeJSON(w, r, &u); err != nil {
		s.WriteError(w, r, err)
		return
	}
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	if err := s.dir.CreateUser(r.Context(), a, &u); err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusCreated, &u)
}

func (s *API) handleAPIGetUser(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	u, err := s.dir.FindUser(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, u)
}

// TAPJSON is the Graph temporaryAccessPassAuthenticationMethod shape; the pass appears only in
// the answer to its creation.
type TAPJSON struct {
	ODataType string `json:"@odata.type"`
	*latchkey.AccessPass
	TemporaryAccessPass   string `json:"temporaryAccessPass,omitempty"`
	MethodUsabilityReason string `json:"methodUsabilityReason"`
	IsUsable              bool   `json:"isUsable"`
}

func (s *API) handleAPIIssueTAP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		LifetimeInMinutes int       `json:"lifetimeInMinutes"`
		IsUsableOnce      bool      `json:"isUsableOnce"`
		StartDateTime     time.Time `json:"startDateTime"`
	}
	if r.ContentLength != 0 {
		if err := httpedge.DecodeJSON(w, r, &req); err != nil {
			s.WriteError(w, r, err)
			return
		}
	}
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	pass, ap, err := s.dir.IssueAccessPass(r.Context(), a, r.PathValue("id"), signin.IssueOptions{LifetimeMinutes: req.LifetimeInMinutes, OneTime: req.IsUsableOnce, StartAt: req.StartDateTime})
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusCreated, s.tapView(ap, pass))
}
