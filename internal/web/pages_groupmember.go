package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

func init() {
	pageNames = append(pageNames, "admin-group-member-remove")
}

// fromPerson is the confirmation page's from= when it was reached from the person's page, so
// that the removal and Cancel lead back there; otherwise they lead back to the group's page.
const fromPerson = "person"

// handleAdminGroupMemberRemoveConfirm asks before a person is taken out of a group, naming both
// and saying what happens; the person's page and the group's page link here, and only the form
// on this page takes them out.
func (s *Web) handleAdminGroupMemberRemoveConfirm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := s.Actor(r)
	if err == nil && !authz.Can(a, authz.ActionManageGroups) {
		err = authz.Decide(a, authz.ActionManageGroups, authz.Target{Kind: authz.TargetGroup, ID: r.PathValue("id")})
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	g, members, err := s.dir.GroupMembers(ctx, a, r.PathValue("id"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	u, err := s.dir.FindUser(ctx, a, strings.TrimSpace(r.URL.Query().Get("user")))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	member := false
	for _, m := range members {
		member = member || m.ID == u.ID
	}
	if !member {
		s.errorPage(w, r, latchkey.Errorf(latchkey.ENOTFOUND, "not_a_member", u.UserPrincipalName+" is not in "+g.DisplayName+" (any more).",
			"user %s is not a member of group %s", u.ID, g.ID))
		return
	}
	action, back, backLabel := "/admin/groups/"+url.PathEscape(g.ID)+"/members/remove", "/admin/groups/"+url.PathEscape(g.ID), g.DisplayName
	if r.URL.Query().Get("from") == fromPerson {
		action, back, backLabel = "/admin/users/"+url.PathEscape(u.ID)+"/groups/remove", "/admin/users/"+url.PathEscape(u.ID), u.DisplayName
		if backLabel == "" {
			backLabel = u.UserPrincipalName
		}
	}
	s.Render(w, r, "admin-group-member-remove", "Take a person out of a group", View{Data: map[string]any{
		"Group": g, "Person": u, "Action": action, "Back": back, "BackLabel": backLabel}})
}

// confirmed refuses a removal whose form did not have its confirmation box ticked.
func confirmed(r *http.Request) error {
	if err := CheckOffered(r, Offered{Field: "confirm", Values: Yes}); err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "yes" {
		return latchkey.Errorf(latchkey.EINVALID, "confirmation_required", "Tick the box to confirm.", "form field confirm is not yes")
	}
	return nil
}
