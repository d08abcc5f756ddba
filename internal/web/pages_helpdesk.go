package web

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/recovery"
)

func init() {
	pageNames = append(pageNames, "admin-helpdesk", "admin-helpdesk-new", "admin-helpdesk-confirm", "admin-helpdesk-pass")
}

// helpdeskRoutes registers the helpdesk pages: a request for a pass for a person who holds a
// role, its approval or rejection by a second admin, and its execution by the requester.
func (s *Web) helpdeskRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /admin/helpdesk", s.ActorPage(s.handleHelpdesk))
	m.HandleFunc("GET /admin/helpdesk/new", s.ActorPage(s.handleHelpdeskNew))
	m.HandleFunc("POST /admin/helpdesk", s.form(s.ActorPage(s.handleHelpdeskRequest)))
	m.HandleFunc("GET /admin/helpdesk/{id}/{decision}", s.ActorPage(s.handleHelpdeskConfirm))
	m.HandleFunc("POST /admin/helpdesk/{id}/approve", s.form(s.ActorPage(s.handleHelpdeskDecide)))
	m.HandleFunc("POST /admin/helpdesk/{id}/reject", s.form(s.ActorPage(s.handleHelpdeskDecide)))
	m.HandleFunc("POST /admin/helpdesk/{id}/execute", s.form(s.ActorPage(s.handleHelpdeskExecute)))
}

func (s *Web) handleHelpdesk(w http.ResponseWriter, r *http.Request) {
	s.helpdeskList(w, r, nil, 0, r.URL.Query().Get("done"))
}

// helpdeskDone are the sentences the list shows after an action (?done=).
var helpdeskDone = map[string]string{
	"requested": "Request sent. A privileged authentication admin or a global admin must approve it within the hour; then you create the pass here.",
	"approve":   "Approved. The requester can now create the pass, within the request's hour.",
	"reject":    "Rejected. No pass will be created for this request.",
}

func (s *Web) helpdeskList(w http.ResponseWriter, r *http.Request, refusal *httpedge.ErrorBody, status int, done string) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	items, err := s.recovery.HelpdeskRequests(r.Context(), a)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.Render(w, r, "admin-helpdesk", "Helpdesk requests", View{Error: refusal, Status: status,
		Data: map[string]any{"Items": items, "Done": helpdeskDone[done]}})
}

func (s *Web) handleHelpdeskNew(w http.ResponseWriter, r *http.Request) {
	s.helpdeskForm(w, r, nil, 0, map[string]string{"user": r.URL.Query().Get("user")})
}

func (s *Web) helpdeskForm(w http.ResponseWriter, r *http.Request, refusal *httpedge.ErrorBody, status int, form map[string]string) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	u, err := s.dir.FindUser(r.Context(), a, form["user"])
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.Render(w, r, "admin-helpdesk-new", "Request a pass", View{Error: refusal, Status: status,
		Data: map[string]any{"Target": u, "Form": form, "Checks": recovery.IdentityChecks}})
}

func (s *Web) handleHelpdeskRequest(w http.ResponseWriter, r *http.Request) {
	form := map[string]string{"user": r.PostFormValue("user"), "reason": r.PostFormValue("reason"), "ticket": r.PostFormValue("ticket"),
		"identityCheck": r.PostFormValue("identityCheck"), "identityNote": r.PostFormValue("identityNote")}
	a, err := s.Actor(r)
	if err == nil {
		_, err = s.recovery.RequestHelpdeskPass(r.Context(), a, recovery.HelpdeskInput{UserRef: form["user"], Reason: form["reason"],
			Ticket: form["ticket"], IdentityCheck: form["identityCheck"], IdentityNote: form["identityNote"]})
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.helpdeskForm(w, r, &body, status, form)
		return
	}
	http.Redirect(w, r, "/admin/helpdesk?done=requested", http.StatusSeeOther)
}

// handleHelpdeskConfirm asks the approver to confirm an approval or a rejection, naming the
// person, the reason, the ticket and the identity check.
func (s *Web) handleHelpdeskConfirm(w http.ResponseWriter, r *http.Request) {
	decision := r.PathValue("decision")
	if decision != "approve" && decision != "reject" {
		s.handlePageNotFound(w, r)
		return
	}
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	it, err := s.recovery.HelpdeskRequest(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	title := "Approve a pass"
	if decision == "reject" {
		title = "Reject a pass request"
	}
	s.Render(w, r, "admin-helpdesk-confirm", title, View{Data: map[string]any{"Item": it, "Decision": decision}})
}

func (s *Web) handleHelpdeskDecide(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	id := r.PathValue("id")
	approve := r.URL.Path == "/admin/helpdesk/"+id+"/approve"
	if r.PostFormValue("confirm") != "yes" {
		err = latchkey.Errorf(latchkey.EINVALID, "confirm_required", "Tick the box to confirm.", "helpdesk decision without confirm=yes")
	} else if approve {
		err = s.recovery.ApproveHelpdeskRequest(r.Context(), a, id)
	} else {
		err = s.recovery.RejectHelpdeskRequest(r.Context(), a, id)
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.helpdeskList(w, r, &body, status, "")
		return
	}
	done := "reject"
	if approve {
		done = "approve"
	}
	http.Redirect(w, r, "/admin/helpdesk?done="+done, http.StatusSeeOther)
}

// handleHelpdeskExecute creates the approved request's pass and shows it in this answer only:
// a reload posts again and is refused, for the pass is created once.
func (s *Web) handleHelpdeskExecute(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	it, err := s.recovery.HelpdeskRequest(r.Context(), a, r.PathValue("id"))
	var pass string
	var ap *latchkey.AccessPass
	if err == nil {
		pass, ap, err = s.recovery.ExecuteHelpdeskRequest(r.Context(), a, it.Request.ID)
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.helpdeskList(w, r, &body, status, "")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.Render(w, r, "admin-helpdesk-pass", "The pass", View{Data: map[string]any{"Item": it, "Pass": pass,
		"AccessPass": ap, "Expires": ap.ExpiresAt(), "SignInAddress": s.signInAddress(it.Target)}})
}
