package web

import (
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

func init() {
	pageNames = append(pageNames, "admin-roles", "admin-role-remove", "admin-units")
}

// roleRoutes registers the pages of role assignments, administrative units and managers.
func (s *Web) roleRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /admin/roles", s.ActorPage(s.handleAdminRoles))
	m.HandleFunc("POST /admin/roles", s.form(s.ActorPage(s.handleAdminAssignRole)))
	m.HandleFunc("GET /admin/roles/remove", s.ActorPage(s.handleAdminRemoveRoleConfirm))
	m.HandleFunc("POST /admin/roles/remove", s.form(s.ActorPage(s.handleAdminRemoveRole)))
	m.HandleFunc("GET /admin/units", s.ActorPage(s.handleAdminUnits))
	m.HandleFunc("POST /admin/units", s.form(s.ActorPage(s.handleAdminCreateUnit)))
	m.HandleFunc("POST /admin/units/members", s.form(s.ActorPage(s.handleAdminAddUnitMember)))
	m.HandleFunc("POST /admin/users/{id}/manager", s.form(s.ActorPage(s.handleAdminSetManager)))
}

func (s *Web) handleAdminRoles(w http.ResponseWriter, r *http.Request) {
	s.adminRoles(w, r, nil, 0, map[string]string{"user": r.URL.Query().Get("user")})
}

// adminRoles shows who holds which role at which scope, and the form to assign one to those who
// may.
func (s *Web) adminRoles(w http.ResponseWriter, r *http.Request, refusal *httpedge.ErrorBody, status int, form map[string]string) {
	ctx := r.Context()
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	asgs, err := s.dir.ListRoleAssignments(ctx, a, "")
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	data := map[string]any{"Assignments": asgs, "Form": form, "CanManage": authz.Can(a, authz.ActionManageRoles)}
	if data["CanManage"] == true {
		units, err := s.dir.ListUnits(ctx, a)
		if err != nil {
			s.errorPage(w, r, err)
			return
		}
		users, err := s.dir.ListUsers(ctx, a)
		if err != nil {
			s.errorPage(w, r, err)
			return
		}
		data["Roles"], data["Units"], data["Users"] = latchkey.Roles, units, users
	}
	s.Render(w, r, "admin-roles", "Roles", View{Error: refusal, Status: status, Data: data})
}

// unitChoices returns the unit field's offered values: "" (the whole directory) and every unit.
func (s *Web) unitChoices(r *http.Request, a latchkey.Actor) ([]string, error) {
	units, err := s.dir.ListUnits(r.Context(), a)
	if err != nil {
		return nil, err
	}
	ids := []string{""}
	for _, u := range units {
		ids = append(ids, u.ID)
	}
	return ids, nil
}

func (s *Web) handleAdminAssignRole(w http.ResponseWriter, r *http.Request) {
	form := map[string]string{"user": r.PostFormValue("user"), "role": r.PostFormValue("role"), "unit": r.PostFormValue("unit")}
	a, err := s.Actor(r)
	var units []string
	if err == nil {
		units, err = s.unitChoices(r, a)
	}
	if err == nil {
		err = CheckOffered(r, Offered{Field: "role", Values: latchkey.Roles}, Offered{Field: "unit", Values: units})
	}
	if err == nil {
		_, err = s.dir.AssignRole(r.Context(), a, form["user"], form["role"], form["unit"])
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminRoles(w, r, &body, status, form)
		return
	}
	http.Redirect(w, r, "/admin/roles", http.StatusSeeOther)
}

// handleAdminRemoveRoleConfirm asks before a role is removed: the list links here, and only the
// form on this page removes it.
func (s *Web) handleAdminRemoveRoleConfirm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	q := r.URL.Query()
	asgs, err := s.dir.ListRoleAssignments(ctx, a, q.Get("user"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	for _, asg := range asgs {
		if asg.Role == q.Get("role") && asg.UnitID == q.Get("unit") {
			s.Render(w, r, "admin-role-remove", "Remove a role", View{Data: map[string]any{"Assignment": asg}})
			return
		}
	}
	s.errorPage(w, r, latchkey.Errorf(latchkey.ENOTFOUND, "role_not_assigned", "This person does not hold that role there (any more).",
		"no assignment of %q at unit %q to user %q", q.Get("role"), q.Get("unit"), q.Get("user")))
}

func (s *Web) handleAdminRemoveRole(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err == nil {
		err = CheckOffered(r, Offered{Field: "confirm", Values: Yes})
	}
	if err == nil && r.PostFormValue("confirm") != "yes" {
		err = latchkey.Errorf(latchkey.EINVALID, "confirmation_required", "Tick the box to confirm the removal.", "form field confirm is not yes")
	}
	if err == nil {
		err = s.dir.RemoveRole(r.Context(), a, r.PostFormValue("user"), r.PostFormValue("role"), r.PostFormValue("unit"))
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/roles", http.StatusSeeOther)
}

func (s *Web) handleAdminUnits(w http.ResponseWriter, r *http.Request) {
	s.adminUnits(w, r, nil, 0, nil)
}

// adminUnits shows the administrative units with their members, and the forms to change them to
// those who may.
func (s *Web) adminUnits(w http.ResponseWriter, r *http.Request, refusal *httpedge.ErrorBody, status int, form map[string]string) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	units, err := s.dir.ListUnits(r.Context(), a)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.Render(w, r, "admin-units", "Administrative units", View{Error: refusal, Status: status, Data: map[string]any{
		"Units": units, "Form": form, "CanManage": authz.Can(a, authz.ActionManageUnits)}})
}

func (s *Web) handleAdminCreateUnit(w http.ResponseWriter, r *http.Request) {
	name := r.PostFormValue("name")
	a, err := s.Actor(r)
	if err == nil {
		_, err = s.dir.CreateUnit(r.Context(), a, name)
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminUnits(w, r, &body, status, map[string]string{"name": name})
		return
	}
	http.Redirect(w, r, "/admin/units", http.StatusSeeOther)
}

func (s *Web) handleAdminAddUnitMember(w http.ResponseWriter, r *http.Request) {
	form := map[string]string{"unit": r.PostFormValue("unit"), "member": r.PostFormValue("member")}
	a, err := s.Actor(r)
	var units []string
	if err == nil {
		units, err = s.unitChoices(r, a)
	}
	if err == nil {
		err = CheckOffered(r, Offered{Field: "unit", Values: units[1:]})
	}
	if err == nil {
		_, err = s.dir.AddUnitMember(r.Context(), a, form["unit"], form["member"])
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminUnits(w, r, &body, status, form)
		return
	}
	http.Redirect(w, r, "/admin/units", http.StatusSeeOther)
}

func (s *Web) handleAdminSetManager(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err == nil {
		_, err = s.dir.SetManager(r.Context(), a, r.PathValue("id"), r.PostFormValue("manager"))
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminUser(w, r, &body, status, "")
		return
	}
	http.Redirect(w, r, "/admin/users/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
}
