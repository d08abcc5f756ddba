// Package latchkey holds Latchkey's domain: users, groups, passkeys, temporary access passes,
// sessions and sign-in events, the store interfaces that persist them, and the error type every
// refusal travels in. It knows nothing of HTTP or SQL.
package latchkey

import (
	"errors"
	"fmt"
	"time"
)

// Error categories. Each maps to exactly one HTTP status in the server package.
const (
	ECONFLICT       = "conflict"     // 409: the item exists or was already used
	EINVALID        = "invalid"      // 400: the request is malformed or breaks a rule
	ENOTFOUND       = "not_found"    // 404: no such item
	EUNAUTHORIZED   = "unauthorized" // 401: no valid session or credential
	EFORBIDDEN      = "forbidden"    // 403: signed in, but not allowed
	ETOOMANYREQUEST = "too_many"     // 429: throttled
	ETOOLARGE       = "too_large"    // 413: body too big
	EUNSUPPORTED    = "unsupported"  // 415: wrong content type
	EMETHOD         = "method"       // 405: the address exists, not for this method
	EUNAVAILABLE    = "unavailable"  // 503: the store cannot be reached or written now; temporary
	EINTERNAL       = "internal"     // 500: our fault, never the caller's input
)

// Error is a refusal with everything its audiences need: Kind for the status code, Code for
// programs (stable, snake_case), Message for the person in plain words, and Detail for the admin.
type Error struct {
	Kind    string
	Code    string
	Message string
	Detail  string
	Err     error // underlying cause, logged but never shown
	// RetryAfter, for ETOOMANYREQUEST, is how long to wait before trying again (the
	// Retry-After header, in whole seconds).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := e.Code
	if e.Detail != "" {
		s += ": " + e.Detail
	} else if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind and code with a plain message and a formatted admin detail.
func Errorf(kind, code, message, detailFormat string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: message, Detail: fmt.Sprintf(detailFormat, args...)}
}

// ErrorKind returns the kind of err when it is an *Error, else EINTERNAL.
func ErrorKind(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return EINTERNAL
}

// ErrorCode returns the code of err when it is an *Error, else "internal_error".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "internal_error"
}

// IsKind reports whether err is an *Error of the given kind.
func IsKind(err error, kind string) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}

// Store errors, returned by every store implementation for the same situations.
var (
	// ErrNotFound is returned when a looked-up item does not exist.
	ErrNotFound = &Error{Kind: ENOTFOUND, Code: "not_found", Message: "We could not find that.", Detail: "no such item in the store"}
	// ErrConflict is returned when a unique value is taken or a single-use item was already used.
	ErrConflict = &Error{Kind: ECONFLICT, Code: "conflict", Message: "That has changed or was already used. Please try again.", Detail: "unique constraint or single-use item already consumed"}
)

// UnavailableMessage is what a person reads while the store is out of reach.
const UnavailableMessage = "Latchkey cannot reach its database right now. This is temporary: try again in a minute."

// Unavailable returns the refusal for a store that cannot be reached or written right now (the
// database is down or restarting, the disk is full or read-only): kind EUNAVAILABLE, code
// store_unavailable. cause, the driver's error, is kept for the log and never shown.
func Unavailable(cause error) *Error {
	return &Error{Kind: EUNAVAILABLE, Code: "store_unavailable", Message: UnavailableMessage,
		Detail: "the database cannot be reached or written right now; the server log has the cause", Err: cause}
}
