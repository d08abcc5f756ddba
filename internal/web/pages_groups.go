package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

func init() {
	pageNames = append(pageNames, "admin-groups", "admin-group", "admin-group-delete")
}

// groupRoutes registers the groups pages: the list with the form to create one, a group's page
// with its members, renaming and deleting (confirmed).
func (s *Web) groupRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /admin/groups", s.ActorPage(s.handleAdminGroups))
	m.HandleFunc("POST /admin/groups", s.form(s.ActorPage(s.handleAdminCreateGroup)))
	m.HandleFunc("GET /admin/groups/{id}", s.ActorPage(s.handleAdminGroup))
	m.HandleFunc("POST /admin/groups/{id}/rename", s.form(s.ActorPage(s.handleAdminGroupChange)))
	m.HandleFunc("POST /admin/groups/{id}/members", s.form(s.ActorPage(s.handleAdminGroupChange)))
	m.HandleFunc("GET /admin/groups/{id}/members/remove", s.ActorPage(s.handleAdminGroupMemberRemoveConfirm))
	m.HandleFunc("POST /admin/groups/{id}/members/remove", s.form(s.ActorPage(s.handleAdminGroupChange)))
	m.HandleFunc("GET /admin/groups/{id}/delete", s.ActorPage(s.handleAdminGroupDeleteConfirm))
	m.HandleFunc("POST /admin/groups/{id}/delete", s.form(s.ActorPage(s.handleAdminGroupDelete)))
}

func (s *Web) handleAdminGroups(w http.ResponseWriter, r *http.Request) {
	s.adminGroups(w, r, nil, 0, nil)
}

func (s *Web) adminGroups(w http.ResponseWriter, r *http.Request, refusal *httpedge.ErrorBody, status int, form map[string]string) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	groups, err := s.dir.ListGroups(r.Context(), a)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.Render(w, r, "admin-groups", "Groups", View{Error: refusal, Status: status, Data: map[string]any{"Groups": groups,
		"Form": form, "CanManage": authz.Can(a, authz.ActionManageGroups)}})
}

func (s *Web) handleAdminCreateGroup(w http.ResponseWriter, r *http.Request) {
	g := &latchkey.Group{DisplayName: strings.TrimSpace(r.PostFormValue("name")), Description: strings.TrimSpace(r.PostFormValue("description"))}
	a, err := s.Actor(r)
	if err == nil {
		err = s.dir.CreateGroup(r.Context(), a, g)
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminGroups(w, r, &body, status, map[string]string{"name": g.DisplayName, "description": g.Description})
		return
	}
	http.Redirect(w, r, "/admin/groups/"+url.PathEscape(g.ID), http.StatusSeeOther)
}

func (s *Web) handleAdminGroup(w http.ResponseWriter, r *http.Request) {
	s.adminGroup(w, r, nil, 0)
}

func (s *Web) adminGroup(w http.ResponseWriter, r *http.Request, refusal *httpedge.ErrorBody, status int) {
	ctx := r.Context()
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	g, members, err := s.dir.GroupMembers(ctx, a, r.PathValue("id"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.Render(w, r, "admin-group", g.DisplayName, View{Error: refusal, Status: status, Data: map[string]any{"Group": g,
		"Members": members, "CanManage": authz.Can(a, authz.ActionManageGroups)}})
}

// handleAdminGroupChange renames a group or adds or removes a member (confirmed), then shows
// the group.
func (s *Web) handleAdminGroupChange(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	g, err := s.dir.FindGroup(ctx, a, r.PathValue("id"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/rename"):
		_, err = s.dir.RenameGroup(ctx, a, g.ID, strings.TrimSpace(r.PostFormValue("name")))
	default:
		var u *latchkey.User
		if u, err = s.dir.FindUser(ctx, a, strings.TrimSpace(r.PostFormValue("user"))); err == nil {
			if strings.HasSuffix(r.URL.Path, "/remove") {
				if err = confirmed(r); err != nil {
					s.errorPage(w, r, err)
					return
				}
				err = s.dir.RemoveGroupMember(ctx, a, g.ID, u.ID)
			} else {
				_, err = s.dir.AddGroupMember(ctx, a, g.ID, u.ID)
			}
		}
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminGroup(w, r, &body, status)
		return
	}
	http.Redirect(w, r, "/admin/groups/"+url.PathEscape(g.ID), http.StatusSeeOther)
}

// handleAdminGroupDeleteConfirm asks before a group is deleted and says what will happen.
func (s *Web) handleAdminGroupDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	g, members, err := s.dir.GroupMembers(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.Render(w, r, "admin-group-delete", "Delete a group", View{Data: map[string]any{"Group": g, "Members": len(members)}})
}

func (s *Web) handleAdminGroupDelete(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err == nil {
		err = CheckOffered(r, Offered{Field: "confirm", Values: Yes})
	}
	if err == nil && r.PostFormValue("confirm") != "yes" {
		err = latchkey.Errorf(latchkey.EINVALID, "confirmation_required", "Tick the box to confirm.", "form field confirm is not yes")
	}
	if err == nil {
		_, err = s.dir.DeleteGroup(r.Context(), a, r.PathValue("id"))
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/groups", http.StatusSeeOther)
}
