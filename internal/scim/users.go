package scim

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey/internal/latchkey"
)

func (s *SCIM) handleListUsers(w http.ResponseWriter, r *http.Request) {
	a, start, count, f, err := s.listRequest(r, userType)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	users, err := s.candidates(r.Context(), a, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	docs := []map[string]any{}
	for _, u := range users {
		doc := userDoc(r, u)
		if f == nil || f.matches(doc) {
			docs = append(docs, doc)
		}
	}
	list := listResponse(docs, start, count)
	for i, d := range list["Resources"].([]map[string]any) {
		list["Resources"].([]map[string]any)[i] = project(r, userType, d)
	}
	writeJSON(w, http.StatusOK, list)
}

// candidates returns the users a filter is evaluated on: every user the actor may see (the same
// population a new userName is checked against), or for the lookups Entra and Okta make before
// every create (userName eq "x", id eq "x", externalId eq "x") the users it names.
func (s *SCIM) candidates(ctx context.Context, a latchkey.Actor, f *filter) ([]*latchkey.User, error) {
	if f != nil && f.kind == fCompare && f.op == "eq" && f.path.sub == nil && !f.elem {
		v, ok := f.value.(string)
		if ok && f.path.attr.name == "externalId" {
			return s.dir.FindUsersByExternalID(ctx, a, v)
		}
		if ok && (f.path.attr.name == "userName" || f.path.attr.name == "id") {
			u, err := s.dir.FindUser(ctx, a, v)
			if latchkey.IsKind(err, latchkey.ENOTFOUND) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			return []*latchkey.User{u}, nil // the filter itself then checks the attribute
		}
	}
	return s.dir.ListUsers(ctx, a)
}

func (s *SCIM) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	a, body, err := s.actorAndBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := readUser(body)
	if err == nil && f.userName == "" {
		err = invalid(CodeInvalidValue, "Enter a userName.", "userName is required")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u := f.newUser()
	if f.manager != nil && *f.manager != "" {
		m, err := s.dir.FindUser(r.Context(), a, *f.manager)
		if err != nil {
			s.writeError(w, r, badManager(err))
			return
		}
		u.ManagerID = m.ID
	}
	if err := s.dir.CreateUser(r.Context(), a, u); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", location(r, "/Users", u.ID))
	writeJSON(w, http.StatusCreated, userDoc(r, u))
}

// badManager words a manager that names nobody as a bad value, not a missing resource.
func badManager(err error) error {
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return invalid(CodeInvalidValue, "The manager is not a person Latchkey knows.", "manager names no user")
	}
	return err
}

// actorAndBody returns the request's actor and its JSON object body.
func (s *SCIM) actorAndBody(w http.ResponseWriter, r *http.Request) (latchkey.Actor, map[string]any, error) {
	a, err := s.Actor(r)
	if err != nil {
		return a, nil, err
	}
	body, err := readBody(w, r)
	return a, body, err
}

// listRequest reads what every list request starts with: the actor, the page (startIndex,
// count) and the filter on typ, if any.
func (s *SCIM) listRequest(r *http.Request, typ *resourceType) (a latchkey.Actor, start, count int, f *filter, err error) {
	if a, err = s.Actor(r); err != nil {
		return
	}
	if start, count, err = page(r); err != nil {
		return
	}
	if q := r.URL.Query().Get("filter"); q != "" {
		f, err = parseFilter(typ, q)
	}
	return
}

// userRequest reads what a PUT or PATCH of a user starts with: the actor, the user the path
// names and the request's body.
func (s *SCIM) userRequest(w http.ResponseWriter, r *http.Request) (latchkey.Actor, *latchkey.User, map[string]any, error) {
	a, body, err := s.actorAndBody(w, r)
	if err != nil {
		return a, nil, nil, err
	}
	u, err := s.user(r.Context(), a, r.PathValue("id"))
	return a, u, body, err
}

// user returns the user whose id is id (a userName does not name a SCIM resource).
func (s *SCIM) user(ctx context.Context, a latchkey.Actor, id string) (*latchkey.User, error) {
	u, err := s.dir.FindUser(ctx, a, id)
	if err == nil && u.ID != id {
		err = latchkey.Errorf(latchkey.ENOTFOUND, "user_not_found", "That user does not exist.", "no user with id %q", id)
	}
	return u, err
}

func (s *SCIM) handleGetUser(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.user(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, project(r, userType, userDoc(r, u)))
}

func (s *SCIM) handlePutUser(w http.ResponseWriter, r *http.Request) {
	a, u, body, err := s.userRequest(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := readUser(body)
	if err == nil && f.userName == "" {
		err = invalid(CodeInvalidValue, "Enter a userName.", "userName is required")
	}
	if err == nil {
		u, err = s.update(r.Context(), a, u, f)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userDoc(r, u))
}

func (s *SCIM) handlePatchUser(w http.ResponseWriter, r *http.Request) {
	a, u, body, err := s.userRequest(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ops, err := readPatch(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	doc := userDoc(r, u)
	for _, op := range ops {
		if err := op.apply(userType, doc); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	f, err := readUser(doc)
	if err == nil && f.userName == "" {
		err = invalid(CodeInvalidValue, "A user keeps a userName.", "userName removed")
	}
	if err == nil {
		u, err = s.update(r.Context(), a, u, f)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userDoc(r, u))
}

// update makes u hold f, through the directory with the actor: one profile update (one audit
// event), and enabling or disabling the account when active changes. A userName change that
// comes with turning the account off is not applied: Entra renames a soft-deleted person to a
// tombstone name, which must not become their sign-in name.
func (s *SCIM) update(ctx context.Context, a latchkey.Actor, u *latchkey.User, f userFields) (*latchkey.User, error) {
	disable := f.active != nil && !*f.active && u.Enabled
	enable := f.active != nil && *f.active && !u.Enabled
	if disable {
		f.userName = u.UserPrincipalName
	}
	var err error
	if enable {
		if u, err = s.dir.EnableUser(ctx, a, u.ID); err != nil {
			return nil, err
		}
	}
	if ch := f.changes(u); !empty(ch) {
		if u, err = s.dir.UpdateUser(ctx, a, u.ID, ch); err != nil {
			if ch.Manager != nil {
				err = badManager(err)
			}
			return nil, err
		}
	}
	if disable {
		if u, err = s.dir.DisableUser(ctx, a, u.ID); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (s *SCIM) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.user(r.Context(), a, r.PathValue("id"))
	if err == nil {
		_, err = s.dir.DeleteUser(r.Context(), a, u.ID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusNoContent, nil)
}
