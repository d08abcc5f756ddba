// Package scim is Latchkey's SCIM 2.0 server (RFC 7643, RFC 7644) under /scim/v2, for the
// provisioning clients of HR and identity systems (Microsoft Entra ID, Okta): Users with the
// enterprise extension and Latchkey's start date, Groups with members, filtering, paging,
// PATCH, PUT and DELETE, and the discovery resources. It accepts what those clients really
// send, quirks included (string booleans, path-less PATCH values whose keys are paths, manager
// as a string, Entra's value-path filters). Requests carry an API token (Authorization:
// Bearer); every change goes through the directory service with the token's actor, which asks
// authz and writes the audit event. Every answer is application/scim+json, and every refusal
// a SCIM Error.
package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// Prefix is where the server mounts the SCIM handler (the Tenant URL's path).
const Prefix = "/scim/v2"

// Refusal codes of the SCIM server; each maps to the scimType of RFC 7644 §3.12 named after it.
const (
	CodeInvalidFilter = "invalid_filter" // scimType invalidFilter
	CodeInvalidPath   = "invalid_path"   // scimType invalidPath
	CodeInvalidValue  = "invalid_value"  // scimType invalidValue
	CodeInvalidSyntax = "invalid_syntax" // scimType invalidSyntax
	CodeMutability    = "mutability"     // scimType mutability
	CodeNoTarget      = "no_target"      // scimType noTarget
)

// scimTypes maps a refusal code to its scimType.
var scimTypes = map[string]string{
	CodeInvalidFilter: "invalidFilter", CodeInvalidPath: "invalidPath", CodeInvalidValue: "invalidValue",
	CodeInvalidSyntax: "invalidSyntax", CodeMutability: "mutability", CodeNoTarget: "noTarget",
	"user_exists": "uniqueness", "group_exists": "uniqueness",
	"malformed_json": "invalidSyntax", "json_too_deep": "invalidSyntax", "wrong_type": "invalidValue",
}

// maxBodyBytes bounds a request body: a group PUT with a few thousand members fits.
const maxBodyBytes = 1 << 20

// defaultCount and maxCount bound a page of a list (RFC 7644 §3.4.2.4).
const (
	defaultCount = 100
	maxCount     = 1000
)

// SCIM holds the handlers' dependencies.
type SCIM struct {
	*httpedge.Base
	dir *directory.Service
	mux *http.ServeMux
}

// New returns the SCIM server over base's token resolution and the directory service.
func New(base *httpedge.Base, dir *directory.Service) *SCIM {
	s := &SCIM{Base: base, dir: dir, mux: http.NewServeMux()}
	s.routes()
	return s
}

func (s *SCIM) routes() {
	m := s.mux
	m.HandleFunc("GET "+Prefix+"/Users", s.handleListUsers)
	m.HandleFunc("POST "+Prefix+"/Users", s.handleCreateUser)
	m.HandleFunc("GET "+Prefix+"/Users/{id}", s.handleGetUser)
	m.HandleFunc("PUT "+Prefix+"/Users/{id}", s.handlePutUser)
	m.HandleFunc("PATCH "+Prefix+"/Users/{id}", s.handlePatchUser)
	m.HandleFunc("DELETE "+Prefix+"/Users/{id}", s.handleDeleteUser)
	m.HandleFunc("GET "+Prefix+"/Groups", s.handleListGroups)
	m.HandleFunc("POST "+Prefix+"/Groups", s.handleCreateGroup)
	m.HandleFunc("GET "+Prefix+"/Groups/{id}", s.handleGetGroup)
	m.HandleFunc("PUT "+Prefix+"/Groups/{id}", s.handlePutGroup)
	m.HandleFunc("PATCH "+Prefix+"/Groups/{id}", s.handlePatchGroup)
	m.HandleFunc("DELETE "+Prefix+"/Groups/{id}", s.handleDeleteGroup)
	m.HandleFunc("GET "+Prefix+"/ServiceProviderConfig", s.handleServiceProviderConfig)
	m.HandleFunc("GET "+Prefix+"/Schemas", s.handleSchemas)
	m.HandleFunc("GET "+Prefix+"/Schemas/{id}", s.handleSchema)
	m.HandleFunc("GET "+Prefix+"/ResourceTypes", s.handleResourceTypes)
	m.HandleFunc("GET "+Prefix+"/ResourceTypes/{id}", s.handleResourceType)
	m.HandleFunc(Prefix+"/", s.handleNotFound)
}

// Handler returns the SCIM server, to mount at Prefix+"/": it takes only API tokens, and
// answers everything, 401, 404, 405 and a 500 after a panic included, as application/scim+json.
func (s *SCIM) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.writeError(w, r, fmt.Errorf("scim %s %s: panic: %v", r.Method, r.URL.Path, p))
			}
		}()
		r, err := s.TokenRequest(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.mux.ServeHTTP(w, r)
	})
}

func (s *SCIM) handleNotFound(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != Prefix+"/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.writeError(w, r, latchkey.Errorf(latchkey.EMETHOD, "method_not_allowed", "This address does not take that kind of request.",
			"%s %s: this route takes %s", r.Method, r.URL.Path, strings.Join(allowed, ", ")))
		return
	}
	s.writeError(w, r, latchkey.Errorf(latchkey.ENOTFOUND, "not_found", "There is nothing at this address.", "no SCIM route %s %s", r.Method, r.URL.Path))
}

// errorBody is a SCIM Error (RFC 7644 §3.12): status is a string.
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail"`
}

// writeError answers with err as a SCIM Error. What may be shown, the status and the logging
// are httpedge's; the scimType follows the refusal's code.
func (s *SCIM) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.PublicError(r, err)
	httpedge.SetRetryAfter(w, &body)
	if status == http.StatusUnauthorized {
		challenge := `Bearer realm="latchkey"`
		if body.Error == "invalid_token" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	detail := body.Message
	if body.Detail != "" {
		detail += " (" + body.Detail + ")"
	}
	eb := errorBody{Schemas: []string{schemaError}, Status: strconv.Itoa(status), ScimType: scimTypes[body.Error], Detail: detail}
	switch {
	case eb.ScimType != "":
	case status == http.StatusBadRequest:
		eb.ScimType = "invalidValue" // a profile the directory refuses (a name too long, one's own manager)
	case status == http.StatusConflict && errors.Is(err, latchkey.ErrConflict):
		eb.ScimType = "uniqueness"
	}
	writeJSON(w, status, eb)
}

// writeJSON answers with v as application/scim+json, never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentTypeUTF8)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if status == http.StatusNoContent {
		return
	}
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write scim json", "err", err)
	}
}

// readBody reads a JSON object body. It takes application/scim+json and application/json
// (with or without charset), and a body without Content-Type, as Okta's documented requests
// have none.
func readBody(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != contentType && mt != "application/json" && mt != "text/json") {
			return nil, latchkey.Errorf(latchkey.EUNSUPPORTED, "unsupported_media_type", "This address accepts SCIM JSON only.",
				"Content-Type must be application/scim+json or application/json, got %q", clip(ct))
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, latchkey.Errorf(latchkey.ETOOLARGE, "body_too_large", "The request is too large.", "request bodies are limited to %d bytes", maxBodyBytes)
	} else if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, CodeInvalidSyntax, "The request could not be read. Please try again.", "read body: %v", err)
	}
	if err := latchkey.CheckJSONText(b); err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, CodeInvalidSyntax, "The request is not a JSON object.", "decode body: %v", err)
	}
	return m, nil
}

// page reads startIndex and count (RFC 7644 §3.4.2.4): startIndex below 1 is 1, a negative
// count is 0, and count is at most maxCount.
func page(r *http.Request) (start, count int, err error) {
	q := r.URL.Query()
	start, count = 1, defaultCount
	for _, p := range []struct {
		name string
		to   *int
	}{{"startIndex", &start}, {"count", &count}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return 0, 0, latchkey.Errorf(latchkey.EINVALID, CodeInvalidValue, p.name+" must be a whole number.", "%s=%q", p.name, clip(v))
			}
			*p.to = n
		}
	}
	return max(start, 1), min(max(count, 0), maxCount), nil
}

// listResponse pages docs (1-based start) into a ListResponse.
func listResponse(docs []map[string]any, start, count int) map[string]any {
	total := len(docs)
	from := min(start-1, total)
	to := min(from+count, total)
	res := docs[from:to]
	if res == nil {
		res = []map[string]any{}
	}
	return map[string]any{"schemas": []string{schemaList}, "totalResults": total, "startIndex": start,
		"itemsPerPage": len(res), "Resources": res}
}

// project applies ?attributes= and ?excludedAttributes= (top-level names, in any case, or
// schema-qualified) to doc; id and schemas always stay.
func project(r *http.Request, rt *resourceType, doc map[string]any) map[string]any {
	q := r.URL.Query()
	names := func(param string) map[string]bool {
		out := map[string]bool{}
		for _, n := range strings.Split(q.Get(param), ",") {
			if n = strings.TrimSpace(n); n == "" {
				continue
			}
			if p, ok := rt.resolve(n); ok {
				out[p.urn+":"+p.attr.name] = true
			} else if ext := rt.extension(n); ext != nil {
				out[ext.id] = true
			}
		}
		return out
	}
	keep, drop := names("attributes"), names("excludedAttributes")
	if len(keep) == 0 && len(drop) == 0 {
		return doc
	}
	out := map[string]any{}
	for k, v := range doc {
		full := rt.core.id + ":" + k
		if _, isExt := v.(map[string]any); isExt && rt.extension(k) != nil {
			full = k
		}
		switch {
		case k == "id" || k == "schemas":
			out[k] = v
		case len(keep) > 0 && !keep[full] && !keepsExt(keep, k):
		case drop[full]:
		default:
			out[k] = v
		}
	}
	return out
}

// keepsExt reports whether keep names the extension urn or one of its attributes.
func keepsExt(keep map[string]bool, urn string) bool {
	for k := range keep {
		if strings.HasPrefix(k, urn) {
			return true
		}
	}
	return false
}

// location returns the absolute address of a resource, from the request's host.
func location(r *http.Request, endpoint, id string) string {
	scheme := "https"
	if r.TLS == nil && r.Header.Get("X-Forwarded-Proto") == "http" {
		scheme = "http"
	}
	return scheme + "://" + r.Host + Prefix + endpoint + "/" + id
}
