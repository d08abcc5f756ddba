package policypages

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/web"
)

// Deleting a policy, a strength, a location or a passkey profile asks first: the lists link to
// GET .../delete, a page that names the thing and says what deleting it does, and only its form
// (POST to the same address) deletes.

// confirmDelete is what a delete confirmation page says. When Blocked is set, the thing cannot
// be deleted yet: the page says why and what to do first, and offers no button.
type confirmDelete struct {
	Back, BackLabel, Question, Consequence, Action, Button, Blocked string
}

func (s *Pages) renderConfirmDelete(w http.ResponseWriter, r *http.Request, title string, c confirmDelete) {
	s.Render(w, r, "confirm-delete", title, web.View{Data: map[string]any{
		"Back": c.Back, "BackLabel": c.BackLabel, "Question": c.Question, "Consequence": c.Consequence,
		"Action": c.Action, "Button": c.Button, "Blocked": c.Blocked}})
}

func (s *Pages) handleConfirmCADelete(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	p, err := s.policies.FindCAPolicy(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	s.renderConfirmDelete(w, r, "Delete a policy", confirmDelete{Back: "/admin/ca", BackLabel: "Conditional access",
		Question:    "Delete the conditional access policy “" + p.Name + "”?",
		Consequence: "It stops applying at once, on every server: sign-ins it would have blocked, or asked more of, go ahead without it. Sign-ins it already judged stay in the sign-in log. This cannot be undone; to keep it but stop it applying, turn it off instead.",
		Action:      "/admin/ca/" + p.ID + "/delete", Button: "Delete policy"})
}

func (s *Pages) handleConfirmStrengthDelete(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	sts, err := s.policies.Strengths(r.Context(), a)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	cfg, err := s.policies.ConditionalAccess(r.Context(), a)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	for _, st := range sts {
		if st.ID == r.PathValue("id") {
			c := confirmDelete{Back: "/admin/strengths", BackLabel: "Authentication strengths",
				Question:    "Delete the authentication strength “" + st.Name + "”?",
				Consequence: "No conditional access policy requires it now, and none can after. This cannot be undone.",
				Action:      "/admin/strengths/" + st.ID + "/delete", Button: "Delete strength"}
			if used := cfg.StrengthUsedBy(st.ID); len(used) > 0 {
				c.Blocked = "It can't be deleted yet: it is still required by " + quoted(used) + ". Choose another strength in " + those(used) + " first, then come back."
			}
			s.renderConfirmDelete(w, r, "Delete a strength", c)
			return
		}
	}
	s.ErrorPage(w, r, notFound("strength_not_found", "That strength does not exist. Reload the list.", r.PathValue("id")))
}

func (s *Pages) handleConfirmLocationDelete(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	cfg, err := s.policies.ConditionalAccess(r.Context(), a)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	for _, l := range cfg.NamedLocations {
		if l.ID == r.PathValue("id") {
			c := confirmDelete{Back: "/admin/locations", BackLabel: "Named locations",
				Question:    "Delete the named location “" + l.Name + "”?",
				Consequence: "No conditional access policy names it now, and none can after. This cannot be undone.",
				Action:      "/admin/locations/" + l.ID + "/delete", Button: "Delete location"}
			if used := cfg.LocationUsedBy(l.ID); len(used) > 0 {
				c.Blocked = "It can't be deleted yet: it is still named by " + quoted(used) + ". Remove it from " + those(used) + " first, then come back."
			}
			s.renderConfirmDelete(w, r, "Delete a location", c)
			return
		}
	}
	s.ErrorPage(w, r, notFound("location_not_found", "That location does not exist. Reload the list.", r.PathValue("id")))
}

func (s *Pages) handleConfirmProfileDelete(w http.ResponseWriter, r *http.Request) {
	a, ok := s.PageActor(w, r)
	if !ok {
		return
	}
	mp, err := s.policies.MethodsPolicy(r.Context(), a)
	if err != nil {
		s.ErrorPage(w, r, err)
		return
	}
	for _, pr := range mp.Passkey.Profiles {
		if pr.ID == r.PathValue("id") {
			s.renderConfirmDelete(w, r, "Delete a passkey profile", confirmDelete{Back: "/admin/policy", BackLabel: "Authentication methods policy",
				Question:    "Delete the passkey profile “" + pr.Name + "”?",
				Consequence: "The people it applied to fall under the default profile from their next sign-in and registration, which may accept different passkeys. This cannot be undone.",
				Action:      "/admin/policy/profiles/" + pr.ID + "/delete", Button: "Delete profile"})
			return
		}
	}
	s.ErrorPage(w, r, notFound("profile_not_found", "That passkey profile does not exist. Reload the page.", r.PathValue("id")))
}

// notFound is the refusal of a confirmation page for something that is gone.
func notFound(code, message, id string) error {
	return latchkey.Errorf(latchkey.ENOTFOUND, code, message, "no such item with id %q", id)
}

// quoted names policies in a sentence: the policy “A”, or the policies “A”, “B” and “C”.
func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "“" + n + "”"
	}
	if len(q) == 1 {
		return "the policy " + q[0]
	}
	return "the policies " + strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// those is "that policy" or "those policies", as many as names.
func those(names []string) string {
	if len(names) == 1 {
		return "that policy"
	}
	return "those policies"
}
