package latchkey

import (
	"context"
	"time"
)

// Reasons a temporary access pass is not usable, as DESIGN §5 names them.
const (
	TAPUsable           = "Usable"
	TAPDisabledByPolicy = "DisabledByPolicy"
	TAPExpired          = "Expired"
	TAPNotYetValid      = "NotYetValid"
	TAPOneTimeUsed      = "OneTimeUsed"
	TAPLockedOut        = "LockedOut" // too many wrong guesses
)

// AccessPass is a temporary access pass (TAP). Only a hash of the pass is ever stored.
type AccessPass struct {
	ID              string     `json:"id"`
	UserID          string     `json:"userId"`
	Hash            string     `json:"-"`
	CreatedAt       time.Time  `json:"createdDateTime"`
	StartAt         time.Time  `json:"startDateTime"`
	LifetimeMinutes int        `json:"lifetimeInMinutes"`
	OneTime         bool       `json:"isUsableOnce"`
	UsedAt          *time.Time `json:"usedDateTime,omitempty"`
	CreatedBy       string     `json:"createdBy,omitempty"`
}

// ExpiresAt returns when the pass stops working.
func (p *AccessPass) ExpiresAt() time.Time {
	return p.StartAt.Add(time.Duration(p.LifetimeMinutes) * time.Minute)
}

// State returns TAPUsable or the reason the pass cannot be used at now.
func (p *AccessPass) State(now time.Time) string {
	switch {
	case p.OneTime && p.UsedAt != nil:
		return TAPOneTimeUsed
	case now.Before(p.StartAt):
		return TAPNotYetValid
	case !now.Before(p.ExpiresAt()):
		return TAPExpired
	}
	return TAPUsable
}

// TAPStateWords says a pass's state (State's answer, or TAPDisabledByPolicy, TAPLockedOut) in
// the plain words the person's page and `latchkey user show` print.
func TAPStateWords(state string) string {
	switch state {
	case TAPUsable:
		return "can be used"
	case TAPOneTimeUsed:
		return "already used"
	case TAPExpired:
		return "expired"
	case TAPNotYetValid:
		return "not yet valid"
	case TAPDisabledByPolicy:
		return "turned off by the policy"
	case TAPLockedOut:
		return "locked after too many wrong tries"
	}
	return state
}

// AccessPassStore persists temporary access passes: at most one per user.
type AccessPassStore interface {
	// ReplaceAccessPass stores p as the user's only pass, deleting any earlier one and ending the
	// sessions made with it (Session.AccessPassID), in one transaction.
	ReplaceAccessPass(ctx context.Context, p *AccessPass) error
	// FindAccessPassByUser returns the user's pass; ErrNotFound when there is none.
	FindAccessPassByUser(ctx context.Context, userID string) (*AccessPass, error)
	// MarkAccessPassUsed records the first use of a one-time pass. It returns ErrConflict when the
	// pass was already used, so of many racing redemptions exactly one wins.
	MarkAccessPassUsed(ctx context.Context, id string, at time.Time) error
	// DeleteAccessPass removes the user's pass, if any, and ends the sessions made with it, in one
	// transaction.
	DeleteAccessPass(ctx context.Context, userID string) error
}
