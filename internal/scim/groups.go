package scim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// groupDoc renders g as a SCIM Group; members is nil when they are not shown.
func groupDoc(r *http.Request, g *latchkey.Group, members []*latchkey.User) map[string]any {
	doc := map[string]any{"schemas": []any{SchemaGroup}, "id": g.ID, "displayName": g.DisplayName,
		"meta": map[string]any{"resourceType": resourceGroup, "created": g.CreatedAt.UTC().Format(time.RFC3339),
			"lastModified": g.CreatedAt.UTC().Format(time.RFC3339), "location": location(r, "/Groups", g.ID)}}
	if g.ExternalID != "" {
		doc["externalId"] = g.ExternalID
	}
	if members != nil {
		list := make([]any, len(members))
		for i, u := range members {
			list[i] = map[string]any{"value": u.ID, "display": u.UserPrincipalName, "type": resourceUser, "$ref": location(r, "/Users", u.ID)}
		}
		doc["members"] = list
	}
	return doc
}

// wantsMembers reports whether the request's attributes and excludedAttributes leave members in.
func wantsMembers(r *http.Request) bool {
	has := func(param string) bool {
		for _, n := range strings.Split(r.URL.Query().Get(param), ",") {
			if p, ok := groupType.resolve(strings.TrimSpace(n)); ok && p.attr.name == "members" {
				return true
			}
		}
		return false
	}
	if has("excludedAttributes") {
		return false
	}
	return r.URL.Query().Get("attributes") == "" || has("attributes")
}

// usesMembers reports whether f looks at members.
func usesMembers(f *filter) bool {
	if f == nil {
		return false
	}
	if f.kind == fCompare || f.kind == fPresent || f.kind == fValuePath {
		return f.path.attr.name == "members"
	}
	return usesMembers(f.l) || usesMembers(f.r)
}

func (s *SCIM) handleListGroups(w http.ResponseWriter, r *http.Request) {
	a, start, count, f, err := s.listRequest(r, groupType)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	groups, err := s.dir.ListGroups(r.Context(), a)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var kept []*latchkey.Group
	for _, g := range groups {
		var members []*latchkey.User
		if usesMembers(f) {
			if _, members, err = s.dir.GroupMembers(r.Context(), a, g.ID); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if f == nil || f.matches(groupDoc(r, g, members)) {
			kept = append(kept, g)
		}
	}
	from, to := min(start-1, len(kept)), min(start-1+count, len(kept))
	docs := make([]map[string]any, 0, to-from)
	for _, g := range kept[from:to] {
		doc, err := s.groupDocFor(r, a, g)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		docs = append(docs, project(r, groupType, doc))
	}
	list := listResponse(docs, 1, len(docs))
	list["totalResults"], list["startIndex"] = len(kept), start
	writeJSON(w, http.StatusOK, list)
}

// groupDocFor renders g, with its members unless the request leaves them out.
func (s *SCIM) groupDocFor(r *http.Request, a latchkey.Actor, g *latchkey.Group) (map[string]any, error) {
	if !wantsMembers(r) {
		return groupDoc(r, g, nil), nil
	}
	_, members, err := s.dir.GroupMembers(r.Context(), a, g.ID)
	if err != nil {
		return nil, err
	}
	if members == nil {
		members = []*latchkey.User{}
	}
	return groupDoc(r, g, members), nil
}

// groupRequest reads what a PUT or PATCH of a group starts with: the actor, the group the path
// names and the request's body.
func (s *SCIM) groupRequest(w http.ResponseWriter, r *http.Request) (latchkey.Actor, *latchkey.Group, map[string]any, error) {
	a, body, err := s.actorAndBody(w, r)
	if err != nil {
		return a, nil, nil, err
	}
	g, err := s.group(r.Context(), a, r.PathValue("id"))
	return a, g, body, err
}

// group returns the group whose id is id (a name does not name a SCIM resource).
func (s *SCIM) group(ctx context.Context, a latchkey.Actor, id string) (*latchkey.Group, error) {
	g, err := s.dir.FindGroup(ctx, a, id)
	if err == nil && g.ID != id {
		err = latchkey.Errorf(latchkey.ENOTFOUND, "group_not_found", "That group does not exist.", "no group with id %q", id)
	}
	return g, err
}

func (s *SCIM) handleGetGroup(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	g, err := s.group(r.Context(), a, r.PathValue("id"))
	var doc map[string]any
	if err == nil {
		doc, err = s.groupDocFor(r, a, g)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, project(r, groupType, doc))
}

// readGroup reads a Group document: its name, externalId and member ids (nil when the document
// has no members attribute).
func readGroup(doc map[string]any) (name, externalID string, members []string, err error) {
	if name, err = stringAttr(doc, "displayName"); err != nil {
		return
	}
	if name == "" {
		return "", "", nil, invalid(CodeInvalidValue, "Enter a displayName.", "displayName is required")
	}
	if externalID, err = stringAttr(doc, "externalId"); err != nil {
		return
	}
	members, err = memberIDs(get(doc, "members"))
	return
}

// memberIDs reads a members value: a list of {"value": id}; nil for null.
func memberIDs(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, invalid(CodeInvalidValue, "members must be a list.", "members is not an array")
	}
	ids := []string{}
	for _, e := range list {
		m, _ := e.(map[string]any)
		id, _ := get(m, "value").(string)
		if id == "" {
			return nil, invalid(CodeInvalidValue, "Each member needs a value: the person's id.", "a members element has no value")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (s *SCIM) handleCreateGroup(w http.ResponseWriter, r *http.Request) {
	a, body, err := s.actorAndBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	name, externalID, members, err := readGroup(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	g := &latchkey.Group{DisplayName: name, ExternalID: externalID, Source: latchkey.UserSourceSCIM}
	if err := s.dir.CreateGroup(r.Context(), a, g); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.setMembers(r.Context(), a, g.ID, nil, members); err != nil {
		// Undo the creation, so that the client's retry is not a 409.
		if _, derr := s.dir.DeleteGroup(r.Context(), a, g.ID); derr != nil {
			s.Logger.WarnContext(r.Context(), "undo group creation", "err", derr, "group", g.ID)
		}
		s.writeError(w, r, err)
		return
	}
	doc, err := s.groupDocFor(r, a, g)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", location(r, "/Groups", g.ID))
	writeJSON(w, http.StatusCreated, doc)
}

func (s *SCIM) handlePutGroup(w http.ResponseWriter, r *http.Request) {
	a, g, body, err := s.groupRequest(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	name, externalID, members, err := readGroup(body)
	if err == nil {
		err = s.rename(r.Context(), a, g, name)
	}
	if err == nil {
		err = s.setExternalID(r.Context(), a, g, externalID)
	}
	var current []string
	if err == nil {
		current, err = s.memberIDsOf(r.Context(), a, g.ID)
	}
	if err == nil {
		// A PUT without members empties the group (Okta pushes whole groups this way).
		err = s.setMembers(r.Context(), a, g.ID, current, members)
	}
	var doc map[string]any
	if err == nil {
		doc, err = s.groupDocFor(r, a, g)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// rename gives g the name, when it differs.
func (s *SCIM) rename(ctx context.Context, a latchkey.Actor, g *latchkey.Group, name string) error {
	if name == g.DisplayName {
		return nil
	}
	renamed, err := s.dir.RenameGroup(ctx, a, g.ID, name)
	if err == nil {
		*g = *renamed
	}
	return err
}

// setExternalID gives g the external id, when it differs.
func (s *SCIM) setExternalID(ctx context.Context, a latchkey.Actor, g *latchkey.Group, externalID string) error {
	if externalID == g.ExternalID {
		return nil
	}
	updated, err := s.dir.SetGroupExternalID(ctx, a, g.ID, externalID)
	if err == nil {
		*g = *updated
	}
	return err
}

// memberIDsOf returns the ids of the group's members.
func (s *SCIM) memberIDsOf(ctx context.Context, a latchkey.Actor, groupID string) ([]string, error) {
	_, members, err := s.dir.GroupMembers(ctx, a, groupID)
	ids := make([]string, len(members))
	for i, u := range members {
		ids[i] = u.ID
	}
	return ids, err
}

// setMembers changes the group's members from current to want, one membership at a time (each
// its own audit event): those in want and not in current are added, those in current and not
// in want removed.
func (s *SCIM) setMembers(ctx context.Context, a latchkey.Actor, groupID string, current, want []string) error {
	had, wanted := set(current), set(want)
	for _, id := range want {
		if !had[id] {
			had[id] = true
			if _, err := s.dir.AddGroupMember(ctx, a, groupID, id); err != nil {
				return badMember(err, id)
			}
		}
	}
	for _, id := range current {
		if !wanted[id] {
			if err := s.dir.RemoveGroupMember(ctx, a, groupID, id); err != nil {
				return err
			}
		}
	}
	return nil
}

func set(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// badMember words a member that names nobody as a bad value.
func badMember(err error, id string) error {
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return invalid(CodeInvalidValue, "A member is not a person Latchkey knows.", fmt.Sprintf("member %q names no user", clip(id)))
	}
	return err
}

func (s *SCIM) handleDeleteGroup(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	g, err := s.group(r.Context(), a, r.PathValue("id"))
	if err == nil {
		_, err = s.dir.DeleteGroup(r.Context(), a, g.ID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusNoContent, nil)
}
