package web

import (
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// handleMyStaff shows a manager their direct reports and, when the policy lets them, a way to
// issue each a recovery pass.
func (s *Web) handleMyStaff(w http.ResponseWriter, r *http.Request) {
	s.myStaff(w, r, nil, nil, "")
}

// myStaff renders My Staff with err's refusal, or with the pass just issued.
func (s *Web) myStaff(w http.ResponseWriter, r *http.Request, err error, issued *latchkey.AccessPass, pass string) {
	a, aerr := s.Actor(r)
	if aerr != nil {
		s.errorPage(w, r, aerr)
		return
	}
	st, serr := s.recovery.MyStaff(r.Context(), a)
	if serr != nil {
		s.errorPage(w, r, serr)
		return
	}
	v := View{Data: map[string]any{"Staff": st, "Issued": issued, "Pass": pass}}
	if issued != nil {
		for _, rep := range st.Reports {
			if rep.User.ID == issued.UserID {
				v.Data["IssuedTo"] = rep.User
				v.Data["Link"] = s.publicURL(r) + "/signin/tap?username=" + url.QueryEscape(rep.User.UserPrincipalName)
			}
		}
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		v.Error, v.Status = &body, status
	}
	if pass != "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	s.Render(w, r, "my-staff", "My staff", v)
}

// handleMyStaffPass issues a recovery pass to the report named in the path and shows it once,
// in this POST's answer.
func (s *Web) handleMyStaffPass(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	pass, ap, err := s.recovery.IssueStaffPass(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.myStaff(w, r, err, nil, "")
		return
	}
	s.myStaff(w, r, nil, ap, pass)
}

// hasReports reports whether the signed-in person manages anyone, for the "My staff" link.
func (s *Web) hasReports(r *http.Request, u *latchkey.User) bool {
	if u == nil {
		return false
	}
	ok, err := s.recovery.HasReports(r.Context(), u.ID)
	if err != nil {
		s.logger.Warn("navigation: read the viewer's reports", "err", err)
	}
	return ok
}
