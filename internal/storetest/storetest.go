// Package storetest is the conformance suite that every latchkey.Store implementation runs, so
// that the SQLite and PostgreSQL stores behave the same way down to error values, ordering,
// time precision and races on single-use items.
//
// A store's test calls RunTests and RunConcurrencyTests with a function that returns a fresh,
// empty, migrated store; each subtest gets its own. For what only a store's own SQL can set up (a schema from
// before a migration, a deleted row), its test arranges that and calls the Check helpers
// (CheckRolesMigration, CheckUserDeletion). RunTwoNodeTests takes two stores opened
// separately on one fresh database, as two nodes hold them.
package storetest

import (
	"crypto/rand"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// test is one conformance subtest, run against its own fresh store.
type test struct {
	name string
	run  func(t *testing.T, s latchkey.Store)
}

// RunTests runs the behavioural conformance suite. newStore must return a fresh, empty, migrated
// store each time it is called; the caller arranges for it to be closed, for example with
// t.Cleanup.
func RunTests(t *testing.T, newStore func(t *testing.T) latchkey.Store) {
	var tests []test
	tests = append(tests, userTests...)
	tests = append(tests, groupTests...)
	tests = append(tests, passkeyTests...)
	tests = append(tests, accessPassTests...)
	tests = append(tests, sessionTests...)
	tests = append(tests, challengeTests...)
	tests = append(tests, signInTests...)
	tests = append(tests, miscTests...)
	tests = append(tests, oidcTests...)
	tests = append(tests, legacyTests...)
	tests = append(tests, healthTests...)
	tests = append(tests, roleTests...)
	tests = append(tests, unitTests...)
	tests = append(tests, apiTokenTests...)
	tests = append(tests, settingTests...)
	tests = append(tests, lifecycleTests...)
	tests = append(tests, auditTests...)
	tests = append(tests, countTests...)
	tests = append(tests, scimTests...)
	tests = append(tests, provisioningTests...)
	tests = append(tests, mailTests...)
	tests = append(tests, helpdeskTests...)
	runAll(t, tests, newStore)
}

// RunConcurrencyTests runs the races on single-use items and counters: many goroutines released
// at once, of which exactly one may win, and none may see an error other than the documented
// ErrConflict or ErrNotFound (in particular no "database is locked").
func RunConcurrencyTests(t *testing.T, newStore func(t *testing.T) latchkey.Store) {
	tests := append(concurrencyTests[:len(concurrencyTests):len(concurrencyTests)], legacyConcurrencyTests...)
	tests = append(append(append(tests, roleConcurrencyTests...), settingConcurrencyTests...), lifecycleConcurrencyTests...)
	runAll(t, append(append(tests, mailConcurrencyTests...), helpdeskConcurrencyTests...), newStore)
}

func runAll(t *testing.T, tests []test, newStore func(t *testing.T) latchkey.Store) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newStore(t))
		})
	}
}

// t0 is the base time of fixtures: not UTC and with nanoseconds, so that a store which keeps
// the zone or loses microseconds is caught.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 123456789, time.FixedZone("UTC+1", 3600))

// opts compare times at microsecond precision in UTC and treat nil and empty slices alike.
var opts = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool {
		return a.UTC().Truncate(time.Microsecond).Equal(b.UTC().Truncate(time.Microsecond))
	}),
	cmpopts.EquateEmpty(),
}

// diff reports a difference between got and want, "(-got +want)".
func diff(t *testing.T, what string, got, want any, extra ...cmp.Option) {
	t.Helper()
	if d := cmp.Diff(got, want, append(cmp.Options{opts}, extra...)...); d != "" {
		t.Errorf("%s mismatch (-got +want):\n%s", what, d)
	}
	checkUTC(t, what, got)
}

// unchanged reports a difference between an argument after a store call and its copy from
// before, where a store may only have filled in what the interface says it assigns. Times in it
// are the caller's and need not be UTC.
func unchanged(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(got, want, opts); d != "" {
		t.Errorf("%s changed by the store (-got +want):\n%s", what, d)
	}
}

// checkUTC reports every time.Time reachable from v (through pointers, slices and struct
// fields) that is not in UTC.
func checkUTC(t *testing.T, what string, v any) {
	t.Helper()
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(path, v.Elem())
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(path, v.Index(i))
			}
		case reflect.Struct:
			if tm, ok := v.Interface().(time.Time); ok {
				if tm.Location() != time.UTC {
					t.Errorf("%s: %s is in %v, want UTC", what, path, tm.Location())
				}
				return
			}
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(path+"."+v.Type().Field(i).Name, v.Field(i))
				}
			}
		}
	}
	walk("", reflect.ValueOf(v))
}

// must stops the test when err is not nil.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr reports err unless it is want (by errors.Is).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

// checkAssigned reports whether an ID and a CreatedAt between before and after were assigned.
func checkAssigned(t *testing.T, what, id string, createdAt, before, after time.Time) {
	t.Helper()
	if id == "" {
		t.Errorf("%s: no ID assigned", what)
	}
	lo, hi := before.Truncate(time.Microsecond), after.Add(time.Microsecond)
	if createdAt.Before(lo) || createdAt.After(hi) {
		t.Errorf("%s: CreatedAt = %v, want between %v and %v", what, createdAt, before, after)
	}
}

// randomBytes returns n random bytes beginning with a zero byte and ending with 0xff, so that a
// store which treats bytes as text is caught.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	b[0], b[n-1] = 0x00, 0xff
	return b
}

func newUser(upn string) *latchkey.User {
	return &latchkey.User{
		ID:                latchkey.NewID(),
		UserPrincipalName: upn,
		DisplayName:       "Display " + upn,
		UserType:          latchkey.UserTypeMember,
		Roles:             []string{},
		CreatedAt:         t0,
	}
}

func mustCreateUser(t *testing.T, s latchkey.Store, upn string) *latchkey.User {
	t.Helper()
	u := newUser(upn)
	must(t, "CreateUser "+upn, s.CreateUser(t.Context(), u))
	return u
}

func newPasskey(userID string, createdAt time.Time) *latchkey.Passkey {
	return &latchkey.Passkey{
		ID:                latchkey.NewID(),
		UserID:            userID,
		CredentialID:      randomBytes(32),
		PublicKey:         randomBytes(77),
		SignCount:         7,
		AAGUID:            "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
		AttestationFormat: "packed",
		AttestationType:   "basic_full",
		AttestationTrust:  latchkey.AttestationAttested,
		Transports:        []string{"internal", "hybrid"},
		BackupEligible:    true,
		BackupState:       true,
		UserVerified:      true,
		Kind:              latchkey.KindSynced,
		Provider:          "Google Password Manager",
		Nickname:          "Pixel 9",
		CreatedAt:         createdAt,
		AttestationObject: randomBytes(300),
		ClientDataJSON:    []byte(`{"type":"webauthn.create","challenge":"abc","origin":"https://id.example.com"}`),
	}
}

func mustCreatePasskey(t *testing.T, s latchkey.Store, userID string, createdAt time.Time) *latchkey.Passkey {
	t.Helper()
	p := newPasskey(userID, createdAt)
	must(t, "CreatePasskey", s.CreatePasskey(t.Context(), p))
	return p
}

// sortByID orders slices of users, groups and the like by ID, for listings whose order the
// interface does not promise.
var sortByID = cmp.Options{
	cmpopts.SortSlices(func(a, b *latchkey.User) bool { return a.ID < b.ID }),
	cmpopts.SortSlices(func(a, b *latchkey.Group) bool { return a.ID < b.ID }),
}
