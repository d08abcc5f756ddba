// Package httpedge is what Latchkey's HTTP handlers (the JSON API, the pages and the OpenID
// glue) share at the edge: the one mapping of refusals to status codes and error bodies, the
// cookie session lookup, JSON request bodies, correlation ids and the caller's client info. It
// holds no routes.
package httpedge

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// Base is what every handler group needs to answer: a logger for refusals and internal errors,
// and the sign-in service for sessions and the store's outage log. Handler groups embed it.
type Base struct {
	Logger *slog.Logger
	Auth   *signin.Service
}

// StatusOf maps an error kind to its HTTP status: the one place this happens.
func StatusOf(kind string) int {
	switch kind {
	case latchkey.EINVALID:
		return http.StatusBadRequest
	case latchkey.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case latchkey.EFORBIDDEN:
		return http.StatusForbidden
	case latchkey.ENOTFOUND:
		return http.StatusNotFound
	case latchkey.ECONFLICT:
		return http.StatusConflict
	case latchkey.ETOOMANYREQUEST:
		return http.StatusTooManyRequests
	case latchkey.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case latchkey.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case latchkey.EMETHOD:
		return http.StatusMethodNotAllowed
	case latchkey.EUNAVAILABLE:
		return http.StatusServiceUnavailable // with Retry-After: see statusRecorder
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON shape of every refusal (DESIGN §4).
type ErrorBody struct {
	Error         string `json:"error"`
	Message       string `json:"message"`
	Detail        string `json:"detail"`
	CorrelationID string `json:"correlationId"`
	// RetryAfter, for a 429, is what the Retry-After header says (whole seconds); not in the JSON.
	RetryAfter int `json:"-"`
}

// SetRetryAfter sends the Retry-After header of a throttled answer.
func SetRetryAfter(w http.ResponseWriter, body *ErrorBody) {
	if body != nil && body.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(body.RetryAfter))
	}
}

// StatusClientClosedRequest is what the log shows for a request whose client went away before
// the answer (nginx's 499): not an error, and not a 5xx.
const StatusClientClosedRequest = 499

// RetryAfterSeconds is the Retry-After of every 503: a store outage is usually over in seconds
// (a database restart) or needs an admin (a full disk).
const RetryAfterSeconds = "5"

// PublicError returns what may be shown for err, and counts the refusal by its code for the
// metrics (see refusalOf).
func (s *Base) PublicError(r *http.Request, err error) (int, ErrorBody) {
	status, body := s.refusalOf(r, err)
	s.Auth.Metrics.Refusal(body.Error)
	return status, body
}

// refusalOf returns what may be shown for err; internal errors are logged and hidden. A
// request whose client has gone away is only noted (status 499), whatever failed; an outage of
// the store is reported once to the service's outage log and answered 503.
func (s *Base) refusalOf(r *http.Request, err error) (int, ErrorBody) {
	cid := CorrelationID(r)
	if r.Context().Err() != nil {
		s.Logger.DebugContext(r.Context(), "request cancelled by the client", "err", err, "path", r.URL.Path, "correlationId", cid)
		return StatusClientClosedRequest, ErrorBody{Error: "request_cancelled", Message: "The request was cancelled before it finished.",
			Detail: "the client closed the connection before the answer", CorrelationID: cid}
	}
	var e *latchkey.Error
	if errors.As(err, &e) && e.Kind == latchkey.EUNAVAILABLE {
		s.Auth.StoreUnavailable(r.Context(), e)
		return StatusOf(e.Kind), ErrorBody{Error: e.Code, Message: e.Message, Detail: e.Detail, CorrelationID: cid}
	}
	if !errors.As(err, &e) || e.Kind == latchkey.EINTERNAL {
		s.Logger.ErrorContext(r.Context(), "internal error", "err", err, "path", r.URL.Path, "correlationId", cid)
		return http.StatusInternalServerError, ErrorBody{Error: "internal_error",
			Message: "Something went wrong on our side. Please try again in a moment; if it keeps happening, give IT this reference: " + cid + ".",
			Detail:  "internal error; see the server log for correlation id " + cid, CorrelationID: cid}
	}
	attrs := []any{"code", e.Code, "detail", e.Detail, "path", r.URL.Path, "correlationId", cid}
	if e.Err != nil {
		attrs = append(attrs, "reason", e.Err.Error())
	}
	s.Logger.InfoContext(r.Context(), "refused", attrs...)
	body := ErrorBody{Error: e.Code, Message: e.Message, Detail: e.Detail, CorrelationID: cid}
	if e.Kind == latchkey.ETOOMANYREQUEST && e.RetryAfter > 0 {
		body.RetryAfter = int((e.RetryAfter + time.Second - 1) / time.Second)
	}
	return StatusOf(e.Kind), body
}

// writeError answers an API request with the error JSON.
func (s *Base) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.PublicError(r, err)
	SetRetryAfter(w, &body)
	if status == http.StatusUnauthorized {
		// RFC 6750 §3: say which scheme the API takes; a refused token also says why.
		challenge := `Bearer realm="latchkey"`
		if body.Error == "invalid_token" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	WriteJSON(w, status, body)
}

// WriteJSON answers with v as JSON and status, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write json", "err", err)
	}
}
