package sqlstore

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/latchkey/latchkey/internal/latchkey"
)

func TestMigrations(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0010_later.sql": {Data: []byte("B")},
		"m/0002_first.sql": {Data: []byte("A")},
		"m/README":         {Data: []byte("not a migration")},
	}
	list, err := Migrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Version != 2 || list[0].SQL != "A" || list[1].Name != "0010_later.sql" {
		t.Errorf("Migrations = %+v, want 0002 then 0010", list)
	}
	if err := CheckNotNewer([]int{2, 10}, list); err != nil {
		t.Errorf("CheckNotNewer at the newest: %v", err)
	}
	err = CheckNotNewer([]int{2, 11}, list)
	if err == nil || !strings.Contains(err.Error(), "schema version 11, newer than this program's 10") {
		t.Errorf("CheckNotNewer past the newest = %v", err)
	}

	fsys["m/0010_again.sql"] = &fstest.MapFile{Data: []byte("C")}
	if _, err := Migrations(fsys, "m"); err == nil || !strings.Contains(err.Error(), "share a number") {
		t.Errorf("Migrations with two 0010 = %v, want a refusal", err)
	}
	delete(fsys, "m/0010_again.sql")
	fsys["m/x_unnumbered.sql"] = &fstest.MapFile{Data: []byte("D")}
	if _, err := Migrations(fsys, "m"); err == nil || !strings.Contains(err.Error(), "must start with a number") {
		t.Errorf("Migrations with an unnumbered file = %v, want a refusal", err)
	}
}

func TestMapError(t *testing.T) {
	noRows, unique, down := errors.New("no rows"), errors.New("unique"), errors.New("down")
	d := Driver{
		NoRows: noRows,
		Constraint: func(err error) error {
			if errors.Is(err, unique) {
				return latchkey.ErrConflict
			}
			return nil
		},
		Unavailable: func(err error) bool { return errors.Is(err, down) },
	}
	if d.MapError("find user", nil) != nil {
		t.Error("nil mapped to an error")
	}
	if err := d.MapError("find user", noRows); err != latchkey.ErrNotFound {
		t.Errorf("no rows = %v, want ErrNotFound", err)
	}
	if err := d.MapError("create user", unique); err != latchkey.ErrConflict {
		t.Errorf("unique = %v, want ErrConflict", err)
	}
	if err := d.MapError("find user", down); !latchkey.IsKind(err, latchkey.EUNAVAILABLE) || !errors.Is(err, down) {
		t.Errorf("down = %v, want Unavailable wrapping it", err)
	}
	if err := d.MapError("find user", latchkey.ErrConflict); err != latchkey.ErrConflict {
		t.Errorf("a store error = %v, want it as it is", err)
	}
	other := errors.New("syntax")
	if err := d.MapError("find user", other); err.Error() != "find user: syntax" || !errors.Is(err, other) {
		t.Errorf("other = %v, want it wrapped with the verb", err)
	}
}

func TestListsAndAccess(t *testing.T) {
	if got := JSONList[string](nil); got != "[]" {
		t.Errorf("JSONList(nil) = %q", got)
	}
	got, err := FromJSONList(JSONList([]string{"a", "b"}))
	if err != nil || len(got) != 2 || got[1] != "b" {
		t.Errorf("round trip = %v, %v", got, err)
	}
	if got := NonNil[byte](nil); got == nil {
		t.Error("NonNil(nil) is nil")
	}
	if got := Prefixed("u.", "id, upn,name"); got != "u.id, u.upn, u.name" {
		t.Errorf("Prefixed = %q", got)
	}
	e := &latchkey.SignInEvent{AMR: []string{"pop", "hwk"}, ConditionalAccess: []latchkey.PolicyResult{{PolicyID: "p1", Name: "P", Result: "success"}}}
	amr, policies := SignInAccess(e)
	var back latchkey.SignInEvent
	if err := SetSignInAccess(&back, amr, policies); err != nil || amr != "pop hwk" || len(back.AMR) != 2 || back.ConditionalAccess[0] != e.ConditionalAccess[0] {
		t.Errorf("access round trip: %q %q → %+v, %v", amr, policies, back, err)
	}
	if err := SetSignInAccess(&back, "", "[]"); err != nil || back.AMR != nil || back.ConditionalAccess != nil {
		t.Errorf("empty access → %+v, %v; want nil lists", back, err)
	}
}
