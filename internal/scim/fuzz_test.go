package scim

import (
	"encoding/json"
	"testing"
)

// FuzzFilter: any filter text is parsed or refused with invalidFilter, and a parsed filter is
// evaluated on a user document without panicking.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{`userName eq "a"`, `emails[type eq "work"].value eq "a@b"`, `id eq 1 and manager eq 2`,
		`not (active eq "False") or name.givenName sw "J"`, `members[value eq "u"]`, `(((userName pr)))`, `emails[type eq "work" and value co "@"]`} {
		f.Add(s)
	}
	doc := map[string]any{"id": "1", "userName": "a", "active": false, "name": map[string]any{"givenName": "J"},
		"emails": []any{map[string]any{"type": "work", "value": "a@b"}}, SchemaEnterprise: map[string]any{"manager": map[string]any{"value": "2"}}}
	f.Fuzz(func(t *testing.T, s string) {
		for _, rt := range []*resourceType{userType, groupType} {
			flt, err := parseFilter(rt, s)
			if err != nil {
				continue
			}
			flt.matches(doc)
		}
	})
}

// FuzzPatch: any PatchOp body is applied to a user document or refused with a 400, and the
// patched document is read back without panicking.
func FuzzPatch(f *testing.F) {
	for _, s := range []string{
		patchBody(`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x@y"}`),
		patchBody(`{"op":"replace","value":{"name.givenName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"1"}}`),
		patchBody(`{"op":"Add","path":"manager","value":[{"$ref":null,"value":"m"}]}`),
		patchBody(`{"op":"remove","path":"members[value eq \"u\"]"}`),
		patchBody(`{"op":"Remove","path":"members","value":[{"value":"u"}]}`),
		patchBody(`{"op":"replace","path":"active","value":"False"}`),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var m map[string]any
		if json.Unmarshal([]byte(body), &m) != nil || m == nil {
			return
		}
		ops, err := readPatch(m)
		if err != nil {
			return
		}
		doc := map[string]any{"id": "1", "userName": "a", "emails": []any{map[string]any{"type": "work", "value": "a@b"}},
			SchemaEnterprise: map[string]any{"manager": map[string]any{"value": "2"}}}
		for _, op := range ops {
			if err := op.apply(userType, doc); err != nil {
				return
			}
		}
		_, _ = readUser(doc)
		gdoc := map[string]any{"id": "g", "displayName": "G"}
		members := []string{"u"}
		for _, op := range ops {
			if members, err = applyGroupOp(gdoc, op, members); err != nil {
				return
			}
		}
	})
}
