package latchkey

import (
	"context"
	"time"
)

// ProvisioningRequest is one request to the SCIM server as the provisioning log keeps it, for
// the admins' provisioning page. Nothing secret is in it: no Authorization header, and a body
// only for a refused request, with every password removed (internal/provisioning redacts it).
type ProvisioningRequest struct {
	ID   string // time-ordered (NewTimeOrderedID)
	Time time.Time
	// TokenID is the API token that made the request; "" when it carried no token that works.
	TokenID string
	Method  string
	// Path is the request's path with its query, secrets removed.
	Path          string
	Status        int
	CorrelationID string
	// Body is the redacted request body of a refused request (Status >= 400), at most
	// MaxProvisioningBody bytes; "" otherwise.
	Body string
	// ErrorDetail is what the answer said was wrong, for a refused request.
	ErrorDetail string
}

// Failed reports whether the request was refused or failed (status 400 or more).
func (r *ProvisioningRequest) Failed() bool { return r.Status >= 400 }

// MaxProvisioningBody bounds the request body kept with a refused request.
const MaxProvisioningBody = 8 << 10

// ProvisioningRetention bounds the provisioning log: requests older than For, and those beyond
// the Rows newest, are deleted when a request is added.
type ProvisioningRetention struct {
	Rows int
	For  time.Duration
}

// DefaultProvisioningRetention keeps the last 1,000 requests of the last 30 days.
var DefaultProvisioningRetention = ProvisioningRetention{Rows: 1000, For: 30 * 24 * time.Hour}

// ProvisioningFilter selects requests of the provisioning log; empty fields select all.
type ProvisioningFilter struct {
	TokenID string
	// Failed keeps only refused and failed requests (status 400 or more).
	Failed bool
	// Limit caps the number of requests; 0 for no cap (the log is bounded anyway).
	Limit int
}

// ProvisioningStore keeps the provisioning log.
type ProvisioningStore interface {
	// AddProvisioningRequest stores r (assigning ID when empty) and, in the same transaction,
	// deletes the requests keep no longer covers: those before r.Time minus keep.For, and
	// those beyond the keep.Rows newest. A zero field of keep does not bound.
	AddProvisioningRequest(ctx context.Context, r *ProvisioningRequest, keep ProvisioningRetention) error
	// ListProvisioningRequests returns the requests f selects, newest first.
	ListProvisioningRequests(ctx context.Context, f ProvisioningFilter) ([]*ProvisioningRequest, error)
}
