package api

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

func (s *API) handleAPIListUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.store.ListUsers(r.Context())
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"value": users})
}

func (s *API) handleAPICreateUser(w http.ResponseWriter, r *http.Request) {
	var u latchkey.User
	u.Enabled = true
	if err := httpedge.DecodeJSON(w, r, &u); err != nil {
		s.WriteError(w, r, err)
		return
	}
	if err := s.dir.CreateUser(r.Context(), &u); err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusCreated, &u)
}

func (s *API) handleAPIGetUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.dir.FindUser(r.Context(), r.PathValue("id"))
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, u)
}

func (s *API) handleAPIUserPasskeys(w http.ResponseWriter, r *http.Request) {
	u, err := s.dir.FindUser(r.Context(), r.PathValue("id"))
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	s.writePasskeys(w, r, u.ID)
}

// TAPJSON is the Graph temporaryAccessPassAuthenticationMethod shape; the pass appears only in
// the answer to its creation.
type TAPJSON struct {
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
	u, err := s.dir.FindUser(r.Context(), r.PathValue("id"))
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	issuer := httpedge.SignedInUser(r)
	if issuer == nil {
		// TODO(i10-merge): an API token admitted by APIAdmin's temporary exception; i10b's
		// actor-taking IssueAccessPass replaces this.
		a, err := s.Actor(r)
		if err != nil {
			s.WriteError(w, r, err)
			return
		}
		issuer = &latchkey.User{UserPrincipalName: a.Name()}
	}
	pass, ap, err := s.dir.IssueAccessPassFor(r.Context(), issuer, u, signin.IssueOptions{LifetimeMinutes: req.LifetimeInMinutes, OneTime: req.IsUsableOnce, StartAt: req.StartDateTime})
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	state := ap.State(s.auth.Now())
	httpedge.WriteJSON(w, http.StatusCreated, TAPJSON{AccessPass: ap, TemporaryAccessPass: pass, MethodUsabilityReason: state, IsUsable: state == latchkey.TAPUsable})
}
