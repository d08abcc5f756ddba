// Package provisioning keeps and shows the provisioning log: a middleware (Recorder) that
// records every request to the SCIM server — which token, when, what, the answer's status and,
// for a refused request, its body without passwords and what was wrong — and the service behind
// the admins' provisioning page and API (Service): the tokens in use, the last request of each,
// recent errors, and the people created lately with how far their onboarding has got.
package provisioning

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

const (
	// maxWritesInFlight bounds the log writes under way at once: past it a record is dropped
	// (and the drop logged) rather than queued, so that a slow store never holds SCIM back.
	maxWritesInFlight = 64
	// writeTimeout bounds one log write.
	writeTimeout = 5 * time.Second
	// maxDetail bounds the error detail kept with a refused request.
	maxDetail = 1 << 10
	// maxBearerLen bounds a bearer value looked up by its hash (a token is 46 characters).
	maxBearerLen = 128
)

// Recorder records requests to the handlers it wraps in the provisioning log. Writing the
// record happens after the answer, off the request's goroutine: a log write that is slow or
// fails never slows or fails the request; it is logged and the request carries on.
type Recorder struct {
	auth   *signin.Service
	logger *slog.Logger
	// Keep bounds the log; DefaultProvisioningRetention unless changed before the first request.
	Keep latchkey.ProvisioningRetention

	slots chan struct{}
	wg    sync.WaitGroup
}

// NewRecorder returns a recorder writing to svc's store with svc's clock, logging failures to
// logger.
func NewRecorder(svc *signin.Service, logger *slog.Logger) *Recorder {
	return &Recorder{auth: svc, logger: logger, Keep: latchkey.DefaultProvisioningRetention,
		slots: make(chan struct{}, maxWritesInFlight)}
}

// Wait returns when every log write under way has finished (tests; shutdown).
func (rc *Recorder) Wait() { rc.wg.Wait() }

// Wrap returns h recording every request in the provisioning log.
func (rc *Recorder) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := rc.auth.Now().UTC()
		r, note := httpedge.WithTokenNote(r)
		body := &teeBody{ReadCloser: r.Body}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = body
		}
		rw := &responseRecorder{ResponseWriter: w, status: http.StatusOK}
		// The record is made whatever happens in h, a panic included (the server's recovery
		// answers it 500 further out).
		defer func() {
			status := rw.status
			if p := recover(); p != nil {
				if !rw.wrote {
					status = http.StatusInternalServerError
				}
				defer panic(p)
			}
			rec := &latchkey.ProvisioningRequest{ID: latchkey.NewTimeOrderedID(), Time: at, TokenID: note.TokenID(),
				Method: r.Method, Status: status, CorrelationID: httpedge.CorrelationID(r)}
			rc.finish(rec, r, body.buf.Bytes(), rw.body.Bytes())
		}()
		h.ServeHTTP(rw, r)
	})
}

// finish completes rec with what may be kept of the request and writes it, off the request.
func (rc *Recorder) finish(rec *latchkey.ProvisioningRequest, r *http.Request, reqBody, respBody []byte) {
	bearer := bearerToken(r)
	var secrets []string
	if bearer != "" {
		secrets = append(secrets, bearer)
	}
	if rec.Failed() {
		var removed []string
		rec.Body, removed = RedactBody(reqBody, secrets)
		secrets = append(secrets, removed...)
		rec.ErrorDetail = clean(capText(scrubText(errorDetail(respBody), secrets), maxDetail))
	}
	rec.Path = clean(RedactURI(r.URL, secrets))
	rec.Method = clean(rec.Method)
	select {
	case rc.slots <- struct{}{}:
	default:
		rc.logger.Warn("provisioning log: too many writes under way; this request is not recorded",
			"path", rec.Path, "status", rec.Status, "correlationId", rec.CorrelationID)
		return
	}
	rc.wg.Add(1)
	go func() {
		defer func() { <-rc.slots; rc.wg.Done() }()
		rc.write(rec, bearer)
	}()
}

// write stores rec. When the handler resolved no token (it refused a revoked or expired one,
// or did not resolve it through httpedge), the token is looked up by its hash, so that the
// log still says which token it was.
func (rc *Recorder) write(rec *latchkey.ProvisioningRequest, bearer string) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if rec.TokenID == "" && strings.HasPrefix(bearer, signin.APITokenPrefix) && len(bearer) <= maxBearerLen {
		if t, err := rc.auth.Store.FindAPITokenByHash(ctx, signin.APITokenHash(bearer)); err == nil {
			rec.TokenID = t.ID
		}
	}
	if err := rc.auth.Store.AddProvisioningRequest(ctx, rec, rc.Keep); err != nil {
		rc.logger.Warn("provisioning log: record a request", "err", err, "path", rec.Path, "status", rec.Status,
			"correlationId", rec.CorrelationID)
	}
}

// bearerToken returns the request's bearer token, or "".
func bearerToken(r *http.Request) string {
	scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// errorDetail returns what an error answer says was wrong: SCIM's scimType and detail, or
// Latchkey's error code and detail; "" when the answer is not such JSON.
func errorDetail(body []byte) string {
	var e struct {
		SCIMType string `json:"scimType"`
		Error    string `json:"error"`
		Detail   string `json:"detail"`
		Message  string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	code, detail := e.SCIMType, e.Detail
	if code == "" {
		code = e.Error
	}
	if detail == "" {
		detail = e.Message
	}
	switch {
	case code == "":
		return detail
	case detail == "":
		return code
	}
	return code + ": " + detail
}

// clean makes s storable in every store: valid UTF-8 without NUL.
func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// teeBody keeps the first bytes of the request body that the handler reads, enough for the
// log (the handler reads at most httpedge.MaxBodyBytes anyway).
type teeBody struct {
	io.ReadCloser
	buf bytes.Buffer
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if room := httpedge.MaxBodyBytes - t.buf.Len(); room > 0 {
		t.buf.Write(p[:min(n, room)])
	}
	return n, err
}

// responseRecorder notes the answer's status, and keeps the start of an error answer's body
// for its detail.
type responseRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *responseRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *responseRecorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	if r.status >= 400 {
		if room := latchkey.MaxProvisioningBody - r.body.Len(); room > 0 {
			r.body.Write(b[:min(len(b), room)])
		}
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *responseRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
