package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/policy"
)

// Attention lines of the admin home page: each a count with a link to the list it counts.

// handleAdmin is the admin home page, for those whose roles let them read all users: what needs
// attention. Others go to the first admin page their roles allow, and a person whose roles allow
// none is refused with a way to their own security info.
func (s *Web) handleAdmin(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	links := adminNav(a, r.URL.Path)
	if len(links) == 0 {
		status, body := s.PublicError(r, errNoAdminPage(a))
		s.Render(w, r, "admin-none", "Admin pages", View{Error: &body, Status: status})
		return
	}
	// The home page counts over the whole directory; a role scoped to a unit goes to its list.
	if authz.Decide(a, authz.ActionReadUsers, authz.Target{Kind: authz.TargetUser}) != nil {
		http.Redirect(w, r, links[0].Href, http.StatusSeeOther)
		return
	}
	att, err := s.policies.Attention(r.Context(), a)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	byHand, states, err := s.dir.PeopleNeedingPassByHand(r.Context(), a)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	since := att.Since.Format("2006-01-02")
	mailSt, mailProblems, err := s.mailStatus(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.Render(w, r, "admin-home", "Admin home", View{Data: map[string]any{
		"A":             att,
		"ByHand":        byHand,
		"ByHandStates":  states,
		"Mail":          mailSt,
		"MailProblems":  mailProblems,
		"FailuresURL":   "/admin/signins?" + url.Values{"result": {latchkey.SignInFailure}, "since": {since}}.Encode(),
		"WouldBlockURL": "/admin/signins?" + url.Values{"policyResult": {policy.ResultReportOnlyFailure}, "since": {since}}.Encode() + "&policy=",
	}})
}

// userFilters are the lists the home page links to, by the users page's show parameter.
var userFilters = map[string]string{"nopasskey": "People with no passkey", "activepass": "People with a usable temporary access pass",
	"secondpasskey": "People who should add a second passkey"}

// filterUsers keeps the enabled users the users page's show parameter asks for (see
// userFilters); all of users when show is empty or unknown.
func (s *Web) filterUsers(r *http.Request, users []*latchkey.User, show string) ([]*latchkey.User, error) {
	if userFilters[show] == "" {
		return users, nil
	}
	ctx, now := r.Context(), s.auth.Now()
	pol, err := s.auth.MethodsPolicy(ctx)
	if err != nil {
		return nil, err
	}
	kept := users[:0:0]
	for _, u := range users {
		if !u.Enabled {
			continue
		}
		var keep bool
		switch show {
		case "nopasskey":
			pks, err := s.store.ListPasskeysByUser(ctx, u.ID)
			if err != nil {
				return nil, err
			}
			keep = len(pks) == 0
		case "secondpasskey":
			pks, err := s.store.ListPasskeysByUser(ctx, u.ID)
			if err != nil {
				return nil, err
			}
			keep = pol.RegistrationCampaign.SecondPasskey.Reason(pks, now) != ""
		case "activepass":
			p, err := s.store.FindAccessPassByUser(ctx, u.ID)
			if err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND) {
				return nil, err
			}
			keep = err == nil && p.State(now) == latchkey.TAPUsable
		}
		if keep {
			kept = append(kept, u)
		}
	}
	return kept, nil
}

// mailProblem is one failed or retrying mail as the admin home lists it.
type mailProblem struct {
	Item *latchkey.MailItem
	// What names the mail in words, such as "Onboarding mail".
	What string
	// Person is the display name of the person the mail is about; PersonID is "" when the mail
	// is about nobody or the person is gone.
	Person, PersonID string
}

// mailStatus returns the outbox's status (nil when the server has no outbox) and its problems
// with the people they are about.
func (s *Web) mailStatus(r *http.Request) (*mail.Status, []mailProblem, error) {
	if s.Mail == nil {
		return nil, nil, nil
	}
	st, err := s.Mail(r.Context())
	if err != nil {
		return nil, nil, err
	}
	var out []mailProblem
	for _, it := range st.Problems {
		p := mailProblem{Item: it, What: mailKindWords(it.Kind)}
		if it.SubjectID != "" {
			u, err := s.store.FindUserByID(r.Context(), it.SubjectID)
			switch {
			case err == nil:
				p.Person, p.PersonID = u.DisplayName, u.ID
			case latchkey.IsKind(err, latchkey.ENOTFOUND):
				p.Person = "a person who has since been deleted"
			default:
				return nil, nil, err
			}
		}
		out = append(out, p)
	}
	return st, out, nil
}

// mailKindWords names a mail kind in words for the admin home.
func mailKindWords(kind string) string {
	switch kind {
	case "onboarding":
		return "Onboarding mail (first pass)"
	case "recovery":
		return "Security notice: a pass to get back in was issued"
	case "passkeyAdded":
		return "Security notice: a passkey was added"
	case "passkeyRemoved":
		return "Security notice: a passkey was removed"
	case "":
		return "Mail"
	}
	return strings.ToUpper(kind[:1]) + kind[1:] + " mail"
}
