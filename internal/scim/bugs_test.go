package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"testing"
)

// TestReferenceBugs holds the bugs other SCIM servers had (shared reference
// scim-clients.md §5) that no other test here covers; the rest are covered by:
// 1, 3, 4 TestUniquenessAndFilterSeeTheSamePeople; 2 TestFilters, TestAttacks and the Entra
// sequence; 5, 7, 8, 9, 11, 16 the Entra and Okta sequences; 14 TestAttacks; 15
// TestTombstoneRenameIsNotApplied.
func TestReferenceBugs(t *testing.T) {
	t.Run("2 groups matched by externalId, which PATCH and PUT change", func(t *testing.T) {
		h := newHarness(t)
		g := h.do("POST", "/Groups", `{"displayName":"Eng","externalId":"obj-1"}`).object(t)["id"].(string)
		find := func(ext string) float64 {
			n, _ := h.do("GET", "/Groups?excludedAttributes=members&filter="+urlQuery(`externalId eq "`+ext+`"`), "").object(t)["totalResults"].(float64)
			return n
		}
		if find("obj-1") != 1 {
			t.Errorf("externalId obj-1 not found")
		}
		if r := h.do("PATCH", "/Groups/"+g, patchBody(`{"op":"Replace","path":"externalId","value":"obj-2"}`)); r.status != 204 {
			t.Fatalf("patch externalId: %d %s", r.status, r.body)
		}
		if find("obj-1") != 0 || find("obj-2") != 1 {
			t.Errorf("after PATCH: obj-1 %v, obj-2 %v, want 0 and 1", find("obj-1"), find("obj-2"))
		}
		if r := h.do("PUT", "/Groups/"+g, `{"displayName":"Eng","externalId":"obj-3"}`); r.status != 200 || r.object(t)["externalId"] != "obj-3" {
			t.Fatalf("put externalId: %d %s", r.status, r.body)
		}
		wantError(t, "a control character in externalId", h.do("PATCH", "/Groups/"+g, patchBody(`{"op":"Replace","path":"externalId","value":"a\u0000b"}`)), 400, "invalidValue")
		wantError(t, "a control character in a user's externalId", h.do("POST", "/Users", `{"userName":"z@example.com","externalId":"a\u0000b"}`), 400, "invalidValue")
	})
	t.Run("6 work mail made when absent, other addresses kept", func(t *testing.T) {
		h := newHarness(t)
		id := h.createUser("nomail@example.com", `,"emails":[{"type":"home","value":"me@home.example"}]`)
		r := h.do("PATCH", "/Users/"+id, patchBody(`{"op":"Add","path":"emails[type eq \"work\"].value","value":"nomail@example.com"}`))
		if r.status != 200 {
			t.Fatalf("add work mail: %d %s", r.status, r.body)
		}
		r = h.do("PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@example.com"}`))
		u, err := h.store.FindUserByID(context.Background(), id)
		if err != nil || r.status != 200 || u.Mail != "new@example.com" || u.PersonalMail != "me@home.example" {
			t.Errorf("after replace: %d mail %q personal %q (%v)", r.status, u.Mail, u.PersonalMail, err)
		}
		r = h.do("PATCH", "/Users/"+id, patchBody(`{"op":"Remove","path":"emails[type eq \"home\"]"}`))
		if u, _ = h.store.FindUserByID(context.Background(), id); r.status != 200 || u.Mail != "new@example.com" || u.PersonalMail != "" {
			t.Errorf("after removing home: %d mail %q personal %q", r.status, u.Mail, u.PersonalMail)
		}
	})
	t.Run("7 and 9 nested path-less objects, empty and null values, manager cleared by an empty replace", func(t *testing.T) {
		h := newHarness(t)
		boss := h.createUser("boss@example.com")
		id := h.createUser("n@example.com", `,"name":{"givenName":"N","familyName":"M"},"`+SchemaEnterprise+`":{"department":"Ops","employeeNumber":"9","manager":"`+boss+`"}`)
		r := h.do("PATCH", "/Users/"+id, patchBody(`{"op":"replace","value":{"name":{"givenName":"Nora"},"`+SchemaEnterprise+`":{"department":"Sales"}}}`))
		u, _ := h.store.FindUserByID(context.Background(), id)
		if r.status != 200 || u.GivenName != "Nora" || u.Surname != "M" || u.Department != "Sales" || u.EmployeeID != "9" || u.ManagerID != boss {
			t.Errorf("nested replace: %d %+v", r.status, u)
		}
		r = h.do("PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"`+SchemaEnterprise+`:manager","value":""},`+
			`{"op":"Replace","path":"`+SchemaEnterprise+`:department","value":""},{"op":"Replace","path":"name.familyName","value":null},`+
			`{"op":"Replace","path":"`+SchemaEnterprise+`:employeeNumber","value":null}`))
		u, _ = h.store.FindUserByID(context.Background(), id)
		if r.status != 200 || u.ManagerID != "" || u.Department != "" || u.Surname != "" || u.EmployeeID != "" || u.GivenName != "Nora" {
			t.Errorf("empty and null replace: %d %+v", r.status, u)
		}
	})
	t.Run("10 PUT without active leaves it; PUT of a group without members empties it", func(t *testing.T) {
		h := newHarness(t)
		id := h.createUser("paused@example.com", `,"active":false,"`+SchemaEnterprise+`":{"department":"Ops"}`)
		r := h.do("PUT", "/Users/"+id, `{"userName":"paused@example.com","name":{"givenName":"P"}}`)
		if m := r.object(t); r.status != 200 || m["active"] != false {
			t.Errorf("PUT without active: %d %s", r.status, r.body)
		}
		if u, _ := h.store.FindUserByID(context.Background(), id); u.Department != "Ops" || u.GivenName != "P" {
			t.Errorf("PUT without the extension: department %q given %q, want Ops and P", u.Department, u.GivenName)
		}
		g := h.do("POST", "/Groups", `{"displayName":"Team","members":[{"value":"`+id+`"}]}`).object(t)["id"].(string)
		r = h.do("PUT", "/Groups/"+g, `{"displayName":"Team"}`)
		if m := r.object(t); r.status != 200 || !reflect.DeepEqual(m["members"], []any{}) {
			t.Errorf("PUT group without members: %d %s", r.status, r.body)
		}
		// RFC remove of members without a value empties it too; with a value list only those go.
		a, b := h.createUser("a@example.com"), h.createUser("b@example.com")
		h.do("PATCH", "/Groups/"+g, patchBody(`{"op":"add","path":"members","value":[{"value":"`+a+`"},{"value":"`+b+`"}]}`))
		h.do("PATCH", "/Groups/"+g, patchBody(`{"op":"remove","path":"members","value":[{"value":"`+a+`"}]}`))
		if members := h.memberIDs(g); !reflect.DeepEqual(members, []string{b}) {
			t.Errorf("after removing a by value: %v, want [b]", members)
		}
		h.do("PATCH", "/Groups/"+g, patchBody(`{"op":"remove","path":"members"}`))
		if members := h.memberIDs(g); len(members) != 0 {
			t.Errorf("after removing members: %v, want none", members)
		}
	})
	t.Run("12 concurrent membership changes all win", func(t *testing.T) {
		h := newHarness(t)
		g := h.do("POST", "/Groups", `{"displayName":"Everyone"}`).object(t)["id"].(string)
		var ids []string
		for i := range 12 {
			ids = append(ids, h.createUser(fmt.Sprintf("m%d@example.com", i)))
		}
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				r := h.do("PATCH", "/Groups/"+g, patchBody(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+id+`"}]}`))
				if r.status != http.StatusNoContent {
					t.Errorf("add %s: %d %s", id, r.status, r.body)
				}
			})
		}
		wg.Wait()
		if got := h.memberIDs(g); len(got) != len(ids) {
			t.Errorf("%d members after %d concurrent adds", len(got), len(ids))
		}
	})
	t.Run("13 no ETags advertised", func(t *testing.T) {
		h := newHarness(t)
		m := h.do("GET", "/ServiceProviderConfig", "").object(t)
		if etag, _ := m["etag"].(map[string]any); etag["supported"] != false {
			t.Errorf("etag %v, want supported false", m["etag"])
		}
		if patch, _ := m["patch"].(map[string]any); patch["supported"] != true {
			t.Errorf("patch %v, want supported true", m["patch"])
		}
	})
	t.Run("17 POST, GET, PATCH and list answer the same resource", func(t *testing.T) {
		h := newHarness(t)
		boss := h.createUser("boss@example.com")
		post := h.do("POST", "/Users", `{"userName":"Same@Example.com","name":{"givenName":"S","familyName":"A"},"externalId":"x1",`+
			`"emails":[{"type":"work","value":"same@example.com"}],"`+SchemaEnterprise+`":{"manager":"boss@example.com","employeeNumber":"7"},`+
			`"`+SchemaLatchkey+`":{"startDate":"2027-01-04"}}`)
		created := post.object(t)
		id := created["id"].(string)
		get := h.do("GET", "/Users/"+id, "").object(t)
		patched := h.do("PATCH", "/Users/"+id, patchBody(`{"op":"Add","path":"nickName","value":"x"}`)).object(t)
		listed := h.do("GET", "/Users?filter="+urlQuery(`userName eq "same@example.com"`), "").object(t)["Resources"].([]any)[0]
		for name, other := range map[string]any{"GET": get, "PATCH": patched, "list": listed} {
			if !reflect.DeepEqual(created, other) {
				a, _ := json.Marshal(created)
				b, _ := json.Marshal(other)
				t.Errorf("POST and %s differ:\n%s\n%s", name, a, b)
			}
		}
		if created["userName"] != "Same@Example.com" {
			t.Errorf("userName %v, want as sent", created["userName"])
		}
		ent, _ := created[SchemaEnterprise].(map[string]any)
		if mgr, _ := ent["manager"].(map[string]any); mgr["value"] != boss {
			t.Errorf("manager %v, want {value: %s}", ent["manager"], boss)
		}
	})
}

// memberIDs returns the ids of the group's members, from the store.
func (h *harness) memberIDs(groupID string) []string {
	h.t.Helper()
	members, err := h.store.ListGroupMembers(context.Background(), groupID)
	if err != nil {
		h.t.Fatal(err)
	}
	var ids []string
	for _, u := range members {
		ids = append(ids, u.ID)
	}
	return ids
}
