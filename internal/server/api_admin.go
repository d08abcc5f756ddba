package server

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

func (s *Server) handleAPIListUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.store.ListUsers(r.Context())
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, map[string]any{"value": users})
}

func (s *Server) handleAPICreateUser(w http.ResponseWriter, r *http.Request) {
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

func (s *Server) handleAPIGetUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.findUser(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, u)
}

// findUser loads the user named by the {id} path value: an id or a UPN.
func (s *Server) findUser(r *http.Request) (*latchkey.User, error) {
	id := r.PathValue("id")
	u, err := s.store.FindUserByID(r.Context(), id)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		u, err = s.store.FindUserByUPN(r.Context(), id)
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "user_not_found", "That user does not exist.", "no user with id or UPN %q", id)
	}
	return u, err
}

func (s *Server) handleAPIUserPasskeys(w http.ResponseWriter, r *http.Request) {
	u, err := s.findUser(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	s.writePasskeys(w, r, u.ID)
}

// tapJSON is the Graph temporaryAccessPassAuthenticationMethod shape; the pass appears only in
// the answer to its creation.
type tapJSON struct {
	*latchkey.AccessPass
	TemporaryAccessPass   string `json:"temporaryAccessPass,omitempty"`
	MethodUsabilityReason string `json:"methodUsabilityReason"`
	IsUsable              bool   `json:"isUsable"`
}

func (s *Server) handleAPIIssueTAP(w http.ResponseWriter, r *http.Request) {
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
	u, err := s.findUser(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	pass, ap, err := s.issueTAP(r, u, signin.IssueOptions{LifetimeMinutes: req.LifetimeInMinutes, OneTime: req.IsUsableOnce, StartAt: req.StartDateTime})
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	state := ap.State(s.auth.Now())
	httpedge.WriteJSON(w, http.StatusCreated, tapJSON{AccessPass: ap, TemporaryAccessPass: pass, MethodUsabilityReason: state, IsUsable: state == latchkey.TAPUsable})
}

// issueTAP issues a pass on behalf of the signed-in admin, who may not issue one for themself.
func (s *Server) issueTAP(r *http.Request, target *latchkey.User, o signin.IssueOptions) (string, *latchkey.AccessPass, error) {
	_, admin := httpedge.CurrentUser(r)
	if admin.ID == target.ID {
		return "", nil, latchkey.Errorf(latchkey.EFORBIDDEN, "tap_for_self",
			"You can't issue a pass for yourself. Ask another administrator, or run `latchkey tap issue` on the server.",
			"admins may not issue a temporary access pass for their own account")
	}
	o.CreatedBy = admin.UserPrincipalName
	return s.dir.IssueAccessPass(r.Context(), target.ID, o)
}
