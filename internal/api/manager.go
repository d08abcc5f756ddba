package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// Refusal codes of the manager routes.
const (
	// CodeManagerNotFound: GET .../manager of a person who has no manager.
	CodeManagerNotFound = "manager_not_found"
	// CodeInvalidReference: a $ref body whose @odata.id names no user.
	CodeInvalidReference = "invalid_reference"
)

// refID returns the id a Graph @odata.id reference names: the last path segment of a full or
// relative address (".../users/{id}"), or the value itself when it is a bare id.
func refID(ref string) (string, error) {
	bad := func(why string) error {
		return latchkey.Errorf(latchkey.EINVALID, CodeInvalidReference, "Name the manager as an address that ends with their id, such as https://login.example.com/api/v1/users/ID.",
			"@odata.id %q: %s", ref, why)
	}
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", bad("empty")
	}
	u, err := url.Parse(ref)
	if err != nil {
		return "", bad(err.Error())
	}
	p := strings.TrimRight(u.Path, "/")
	id := p[strings.LastIndex(p, "/")+1:]
	// Graph also writes users('id').
	if i := strings.Index(id, "('"); i >= 0 && strings.HasSuffix(id, "')") {
		id = id[i+2 : len(id)-2]
	}
	if id == "" || id == "users" {
		return "", bad("no user id at the end of the address")
	}
	return id, nil
}

// handleAPIGetManager answers the person's manager as GET /api/v1/users/{id} answers a user;
// 404 manager_not_found when they have none. Seeing the manager needs the right to see them too.
func (s *API) handleAPIGetManager(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	u, err := s.dir.FindUser(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	if u.ManagerID == "" {
		s.WriteError(w, r, latchkey.Errorf(latchkey.ENOTFOUND, CodeManagerNotFound, "This person has no manager.", "user %s has no manager", u.UserPrincipalName))
		return
	}
	m, err := s.dir.FindUser(r.Context(), a, u.ManagerID)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		err = latchkey.Errorf(latchkey.ENOTFOUND, CodeManagerNotFound, "This person has no manager.", "user %s: manager %s not found", u.UserPrincipalName, u.ManagerID)
	}
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, m)
}

// handleAPIPutManager makes the user that the body's @odata.id names the person's manager, as
// Graph's PUT .../manager/$ref does, and answers 204. Refusals are SetManager's (manager_self,
// manager_cycle, user_not_found).
func (s *API) handleAPIPutManager(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ODataID string `json:"@odata.id"`
	}
	if err := httpedge.DecodeJSON(w, r, &body); err != nil {
		s.WriteError(w, r, err)
		return
	}
	id, err := refID(body.ODataID)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	s.setManager(w, r, id)
}

// handleAPIDeleteManager removes the person's manager and answers 204.
func (s *API) handleAPIDeleteManager(w http.ResponseWriter, r *http.Request) {
	s.setManager(w, r, "")
}

// setManager sets (or, with "", clears) the manager of the path's user and answers 204.
func (s *API) setManager(w http.ResponseWriter, r *http.Request, managerRef string) {
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	if _, err := s.dir.SetManager(r.Context(), a, r.PathValue("id"), managerRef); err != nil {
		s.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
