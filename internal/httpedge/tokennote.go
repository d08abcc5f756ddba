package httpedge

import (
	"context"
	"net/http"
	"sync"
)

// TokenNote is where the Bearer token resolution writes down which API token a request used,
// for a middleware that wraps the handler (the provisioning log) and cannot see the actor the
// handler resolved.
type TokenNote struct {
	mu sync.Mutex
	id string
}

const tokenNoteKey ctxKey = 102

// WithTokenNote returns r carrying a new, empty note, which the handler's token resolution
// fills in (see Base.Actor, APIActor and APISession).
func WithTokenNote(r *http.Request) (*http.Request, *TokenNote) {
	n := &TokenNote{}
	return r.WithContext(context.WithValue(r.Context(), tokenNoteKey, n)), n
}

// TokenID returns the id of the API token the request's handler resolved; "" when it resolved
// none (no token, or one that does not work).
func (n *TokenNote) TokenID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.id
}

// noteToken writes id on r's note, if r carries one.
func noteToken(r *http.Request, id string) {
	if n, ok := r.Context().Value(tokenNoteKey).(*TokenNote); ok {
		n.mu.Lock()
		n.id = id
		n.mu.Unlock()
	}
}
