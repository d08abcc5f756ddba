package httpedge

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/device"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// MaxBodyBytes bounds every request body; a WebAuthn response with a long certificate chain
// fits comfortably.
const MaxBodyBytes = 64 << 10

type ctxKey int

const correlationKey ctxKey = iota

// NewCorrelationID returns a fresh id for a request, to find it in the logs.
func NewCorrelationID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CorrelationID returns the id the middleware gave this request.
func CorrelationID(r *http.Request) string {
	if id, ok := r.Context().Value(correlationKey).(string); ok {
		return id
	}
	return ""
}

// WithCorrelationID returns r carrying the correlation id id (see CorrelationID).
func WithCorrelationID(r *http.Request, id string) *http.Request {
	// The audit events the request writes keep the id too.
	return r.WithContext(latchkey.WithCorrelationID(context.WithValue(r.Context(), correlationKey, id), id))
}

// ClientOf describes the caller for sessions and the sign-in log.
func ClientOf(r *http.Request) signin.Client {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	platform, version := device.Platform(r.UserAgent(),
		device.Hints{Platform: r.Header.Get("Sec-CH-UA-Platform"), PlatformVersion: r.Header.Get("Sec-CH-UA-Platform-Version")})
	return signin.Client{IP: ip, UserAgent: r.UserAgent(), CorrelationID: CorrelationID(r), Platform: platform, PlatformVersion: version}
}

// ReadJSONBody reads a JSON request body: it must say application/json, be at most MaxBodyBytes,
// be UTF-8, nest at most latchkey.MaxJSONDepth deep, and be one well-formed JSON value. It
// returns the raw bytes.
func ReadJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, latchkey.Errorf(latchkey.EUNSUPPORTED, "unsupported_media_type",
			"This address accepts JSON only.", "Content-Type must be application/json, got %q", r.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, latchkey.Errorf(latchkey.ETOOLARGE, "body_too_large",
			"The request is too large.", "request bodies are limited to %d bytes", MaxBodyBytes)
	} else if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "body_unreadable", "The request could not be read. Please try again.", "read body: %v", err)
	}
	if err := latchkey.CheckJSONText(body); err != nil {
		return nil, err
	}
	if !json.Valid(body) {
		return nil, latchkey.Errorf(latchkey.EINVALID, "malformed_json",
			"The request is not valid JSON.", "the body is not a well-formed JSON document")
	}
	return body, nil
}

// DecodeJSON reads a JSON object into v; anything but an object, wrong types, trailing data and
// fields v does not have are refused, so that a misspelt field is not silently dropped.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := ReadJSONBody(w, r)
	if err != nil {
		return err
	}
	if err := latchkey.CheckJSONObject(body); err != nil {
		return err
	}
	return UnmarshalStrict(body, v)
}

// UnmarshalStrict decodes body into v, refusing unknown fields, values of the wrong type and
// malformed JSON with plain refusals (see DecodeJSON).
func UnmarshalStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return latchkey.Errorf(latchkey.EINVALID, "unknown_field", "The request has a field this address does not take: "+field+". Check its spelling.",
				"decode: unknown field %s", field)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return latchkey.Errorf(latchkey.EINVALID, "wrong_type",
					"The request has a value of the wrong kind.", "the body must be a JSON object, got %s", te.Value)
			}
			return latchkey.Errorf(latchkey.EINVALID, "wrong_type",
				"The request has a value of the wrong kind.", "field %q must be %s, got %s", te.Field, te.Type, te.Value)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return latchkey.Errorf(latchkey.EINVALID, "malformed_json", "The request is not valid JSON.", "decode: %v", err)
		}
		// Well-formed JSON that a field's own decoder refuses, such as a date-time that is not one.
		return latchkey.Errorf(latchkey.EINVALID, "wrong_type",
			"The request has a value of the wrong kind.", "decode: %v", err)
	}
	return nil
}

// LockoutOverride reads ?lockoutOverride=N (0 when absent).
func LockoutOverride(r *http.Request) (int, error) {
	v := r.URL.Query().Get("lockoutOverride")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, latchkey.Errorf(latchkey.EINVALID, "invalid_request", "The lockout override must be the number of people affected.",
			"lockoutOverride must be a whole number ≥ 0, not %q", v)
	}
	return n, nil
}
