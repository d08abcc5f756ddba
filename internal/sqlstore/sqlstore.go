// Package sqlstore holds what the SQLite and PostgreSQL stores (internal/sqlite,
// internal/postgres) do alike: the time the stores keep, lists and empty values as their columns
// take them, column lists, numbered migrations and the mapping of driver errors to the
// latchkey.Store contract. It imports neither store, so that both can import it.
package sqlstore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Round returns t as both stores keep it: in UTC, to the microsecond.
func Round(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Now returns the time assigned to new items, rounded to what the stores keep.
func Now() time.Time { return Round(time.Now()) }

// NonNil returns s, or an empty slice for nil: drivers send a nil slice as NULL, and the columns
// that hold lists and bytes are NOT NULL.
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Prefixed qualifies each name in a comma-separated column list with prefix, such as "u.".
func Prefixed(prefix, columns string) string {
	names := strings.Split(columns, ",")
	for i, n := range names {
		names[i] = prefix + strings.TrimSpace(n)
	}
	return strings.Join(names, ", ")
}

// OptString stores an empty string as NULL.
func OptString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// JSONList encodes a list of plain values (strings, structs of them) as a JSON array, never
// null.
func JSONList[T any](v []T) string {
	if len(v) == 0 {
		return "[]"
	}
	b, err := json.Marshal(v)
	if err != nil { // a list of plain values always encodes
		panic(err)
	}
	return string(b)
}

// FromJSONList decodes a list stored by JSONList; never nil.
func FromJSONList(s string) ([]string, error) {
	v := []string{}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("decode list: %w", err)
	}
	return v, nil
}

// SignInAccess returns how both stores keep a sign-in's AMR (space-separated) and its
// conditional access policies (a JSON array, "[]" when none).
func SignInAccess(e *latchkey.SignInEvent) (amr, policies string) {
	return e.AMRText(), JSONList(e.ConditionalAccess)
}

// SetSignInAccess sets e's AMR and ConditionalAccess from what SignInAccess returned; both
// are nil when empty.
func SetSignInAccess(e *latchkey.SignInEvent, amr, policies string) error {
	e.AMR = strings.Fields(amr)
	if len(e.AMR) == 0 {
		e.AMR = nil
	}
	e.ConditionalAccess = nil
	if policies == "" || policies == "[]" {
		return nil
	}
	return json.Unmarshal([]byte(policies), &e.ConditionalAccess)
}

// Driver is what MapError needs to know of a store's driver.
type Driver struct {
	// NoRows is the driver's error for a query that found no row.
	NoRows error
	// Constraint returns latchkey.ErrConflict for a broken unique constraint,
	// latchkey.ErrNotFound for a reference to a missing row, and nil for any other error.
	Constraint func(error) error
	// Unavailable reports whether err says the database cannot be reached or written right now,
	// rather than that a request or the program is wrong.
	Unavailable func(error) bool
}

// MapError turns a driver error into what the latchkey.Store contract promises: nil stays nil;
// a *latchkey.Error (mapped already) is returned as it is; no row becomes latchkey.ErrNotFound;
// a constraint the driver names becomes latchkey.ErrConflict or latchkey.ErrNotFound; an error
// the driver calls unavailable becomes latchkey.Unavailable; any other is wrapped with verb
// ("find user").
func (d Driver) MapError(verb string, err error) error {
	if err == nil {
		return nil
	}
	var done *latchkey.Error
	if errors.As(err, &done) {
		return err
	}
	if errors.Is(err, d.NoRows) {
		return latchkey.ErrNotFound
	}
	if mapped := d.Constraint(err); mapped != nil {
		return mapped
	}
	if d.Unavailable(err) {
		return latchkey.Unavailable(fmt.Errorf("%s: %w", verb, err))
	}
	return fmt.Errorf("%s: %w", verb, err)
}
