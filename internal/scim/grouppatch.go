package scim

import (
	"net/http"
	"slices"
)

// handlePatchGroup applies a PatchOp to a group. Membership is changed one membership at a time
// (add and remove only those that changed), never by writing the whole group back, so that two
// clients changing different members at once both win. The answer is 204, as Entra expects.
func (s *SCIM) handlePatchGroup(w http.ResponseWriter, r *http.Request) {
	a, g, body, err := s.groupRequest(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ops, err := readPatch(body)
	var current []string
	if err == nil {
		current, err = s.memberIDsOf(r.Context(), a, g.ID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	members := slices.Clone(current)
	doc := groupDoc(r, g, nil)
	for _, op := range ops {
		if members, err = applyGroupOp(doc, op, members); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	name, err := stringAttr(doc, "displayName")
	if err == nil && name == "" {
		err = invalid(CodeInvalidValue, "A group keeps a displayName.", "displayName removed")
	}
	if err == nil {
		err = s.rename(r.Context(), a, g, name)
	}
	if err == nil {
		var externalID string
		if externalID, err = stringAttr(doc, "externalId"); err == nil {
			err = s.setExternalID(r.Context(), a, g, externalID)
		}
	}
	if err == nil {
		err = s.setMembers(r.Context(), a, g.ID, current, members)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusNoContent, nil)
}

// applyGroupOp applies op to the group's document (its name) and to members, the ids of its
// members, which it returns changed.
func applyGroupOp(doc map[string]any, op patchOp, members []string) ([]string, error) {
	if op.path == "" {
		if obj, ok := op.value.(map[string]any); ok {
			if v, has := getKey(obj, "members"); has {
				ids, err := memberIDs(listOf(v))
				if err != nil {
					return nil, err
				}
				members = changeMembers(op.op, members, ids)
				rest := map[string]any{}
				for k, v := range obj {
					if p, ok := groupType.resolve(k); !ok || p.attr.name != "members" {
						rest[k] = v
					}
				}
				op.value = rest
			}
		}
		return members, op.apply(groupType, doc)
	}
	p, f, known, err := parsePatchPath(groupType, op.path)
	if err != nil {
		return nil, err
	}
	if !known || p.attr.name != "members" {
		return members, op.apply(groupType, doc)
	}
	if op.op == "remove" && f != nil {
		return slices.DeleteFunc(members, func(id string) bool {
			return f.eval(nil, map[string]any{"value": id, "type": resourceUser})
		}), nil
	}
	if op.op == "remove" && (!op.hasValue || op.value == nil) {
		return nil, nil
	}
	ids, err := memberIDs(listOf(op.value))
	if err != nil {
		return nil, err
	}
	return changeMembers(op.op, members, ids), nil
}

// changeMembers applies add, replace or remove of ids to members.
func changeMembers(op string, members, ids []string) []string {
	switch op {
	case "add":
		for _, id := range ids {
			if !slices.Contains(members, id) {
				members = append(members, id)
			}
		}
		return members
	case "replace":
		return ids
	}
	return slices.DeleteFunc(members, func(id string) bool { return slices.Contains(ids, id) })
}

// listOf reads one object as a list of it; nil (Okta's replace with null) as an empty list.
func listOf(v any) any {
	switch x := v.(type) {
	case nil:
		return []any{}
	case map[string]any:
		return []any{x}
	}
	return v
}
