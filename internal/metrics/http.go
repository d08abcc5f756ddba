package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Unmatched is the handler label of a request no route pattern matched.
const Unmatched = "unmatched"

// boundedSet admits up to max distinct label values and maps any further one to Other.
type boundedSet struct {
	mu   sync.Mutex
	max  int
	seen map[string]struct{}
}

func newBoundedSet(max int) *boundedSet {
	return &boundedSet{max: max, seen: make(map[string]struct{})}
}

// admit returns v when it is known or there is room for it, else Other.
func (b *boundedSet) admit(v string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.seen[v]; ok {
		return v
	}
	if len(b.seen) >= b.max {
		return Other
	}
	b.seen[v] = struct{}{}
	return v
}

// Middleware measures every request next answers: counted by route pattern, method and status,
// and timed by route pattern and method. The pattern is http.Request.Pattern as the mux set it
// on the request next received (so next must be, or wrap, the http.ServeMux with the routes),
// or Unmatched when no pattern matched; the set of patterns is the fixed set of routes. A nil m
// returns next.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// The mux sets Pattern on the request it was given; a shallow copy lets us read it
		// after the handlers ran, whatever they passed on.
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		req := r.WithContext(r.Context())
		defer func() {
			p := recover()
			if p != nil {
				rec.status = http.StatusInternalServerError // what the recovery outside answers
			}
			handler := req.Pattern
			if handler == "" {
				handler = Unmatched
			}
			method := httpMethod(r.Method)
			m.httpRequests.WithLabelValues(handler, method, strconv.Itoa(rec.status)).Inc()
			m.httpDuration.WithLabelValues(handler, method).Observe(time.Since(start).Seconds())
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(rec, req)
	})
}

// httpMethod returns method when it is a standard one, else Other.
func httpMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return Other
}

// statusWriter records the status code of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
