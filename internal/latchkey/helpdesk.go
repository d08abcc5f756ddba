package latchkey

import (
	"context"
	"time"
)

// HelpdeskState is where a helpdesk request stands.
type HelpdeskState string

// The states of a helpdesk request. A request starts pending; a second administrator approves
// or rejects it; the requester executes an approved one (the pass is created then, once); a
// pending or approved request that reaches ExpiresAt expires.
const (
	HelpdeskPending  HelpdeskState = "pending"
	HelpdeskApproved HelpdeskState = "approved"
	HelpdeskRejected HelpdeskState = "rejected"
	HelpdeskExecuted HelpdeskState = "executed"
	HelpdeskExpired  HelpdeskState = "expired"
)

// HelpdeskRequestLifetime is how long a helpdesk request may wait for its approval and its
// execution.
const HelpdeskRequestLifetime = time.Hour

// How the requester checked the person's identity (HelpdeskRequest.IdentityCheck).
const (
	IdentityCheckVideoWithManager = "videoWithManager"
	IdentityCheckInPersonWithID   = "inPersonWithID"
	IdentityCheckCallback         = "callbackOnRecord"
	IdentityCheckOther            = "other"
)

// HelpdeskRequest is an authentication admin's request for a recovery pass for a person who
// holds a role, which a second administrator must approve before the requester creates the
// pass.
type HelpdeskRequest struct {
	ID          string
	TargetID    string // the person the pass is for
	RequesterID string // the admin who asked
	Reason      string
	Ticket      string
	// IdentityCheck is one of the IdentityCheck* constants; IdentityNote is the requester's
	// words for IdentityCheckOther ("" otherwise).
	IdentityCheck string
	IdentityNote  string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	State         HelpdeskState
	// ApproverID and DecidedAt are set by the approval or the rejection.
	ApproverID string
	DecidedAt  time.Time
	// ExecutedAt and PassID are set by the execution.
	ExecutedAt time.Time
	PassID     string
}

// HelpdeskStore keeps helpdesk requests. Changes are compare-and-set on the state, so that an
// approval binds to the request as it stood, and of racing executions exactly one wins.
type HelpdeskStore interface {
	// CreateHelpdeskRequest stores r, assigning ID when empty.
	CreateHelpdeskRequest(ctx context.Context, r *HelpdeskRequest) error
	// FindHelpdeskRequest returns the request id; ErrNotFound when there is none.
	FindHelpdeskRequest(ctx context.Context, id string) (*HelpdeskRequest, error)
	// ListHelpdeskRequests returns the requests created at or after since, newest first.
	ListHelpdeskRequests(ctx context.Context, since time.Time) ([]*HelpdeskRequest, error)
	// UpdateHelpdeskRequest writes r's State, ApproverID, DecidedAt, ExecutedAt and PassID
	// only when the stored request is in state from and, unless before is zero, expires after
	// before. It returns ErrConflict when the request is in another state or has expired,
	// ErrNotFound when there is no such request.
	UpdateHelpdeskRequest(ctx context.Context, r *HelpdeskRequest, from HelpdeskState, before time.Time) error
}
