package latchkey

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"
)

// The states of a MailItem.
const (
	MailPending   = "pending"   // waiting to be sent, or to be retried
	MailSent      = "sent"      // handed to the mail server
	MailFailed    = "failed"    // the outbox gave up after its attempts
	MailCancelled = "cancelled" // no longer applies
)

// MailItem is one mail in the outbox: what to send and about whom, never the message itself.
// The message is composed at the moment it is sent, so that nothing secret (a pass, a token, a
// password) is ever stored.
type MailItem struct {
	ID   string
	Kind string // "onboarding", later "recovery", "passkeyAdded", ...
	// Key makes at most one pending item per Key: queuing the same Key again replaces the
	// pending one's NotBefore, SubjectID and Params. "" for no such limit.
	Key       string
	SubjectID string            // the person it is about ("" for none)
	Params    map[string]string // non-secret parameters; never a pass, token or password
	NotBefore time.Time         // not sent before this time
	State     string            // MailPending, MailSent, MailFailed (gave up), MailCancelled
	Attempts  int               // failed attempts so far
	LastError string            // plain sentence, no secret
	CreatedAt time.Time
	SentAt    *time.Time
}

// MailFilter selects outbox items; empty fields select every item.
type MailFilter struct {
	State     string
	Kind      string
	SubjectID string
	Limit     int // 0: no limit
}

// MailStore keeps the outbox. Items are also written by the store's write transactions from
// the context (QueueMail, CancelMail), like audit events.
type MailStore interface {
	// EnqueueMail stores items (and applies what ctx carries) in one write, with QueueMail's
	// semantics: an item whose Key has a pending item replaces that item's NotBefore,
	// SubjectID and Params.
	EnqueueMail(ctx context.Context, items ...MailItem) error
	// ClaimMail claims, for lease, at most limit pending items with NotBefore <= now and no
	// live claim, oldest first, for holder. Two holders claiming at once never get one item.
	ClaimMail(ctx context.Context, now time.Time, holder string, lease time.Duration, limit int) ([]*MailItem, error)
	// MarkMailSent records the item holder claimed as sent at at. ErrConflict when holder
	// no longer holds it or it is no longer pending; ErrNotFound when there is no such item.
	MarkMailSent(ctx context.Context, id, holder string, at time.Time) error
	// MarkMailFailed records a failed attempt of the item holder claimed: Attempts grows by
	// one, LastError is kept and the claim ends; the item is retried from retryAt, or is
	// failed for good when giveUp. Errors as MarkMailSent.
	MarkMailFailed(ctx context.Context, id, holder, lastError string, retryAt time.Time, giveUp bool) error
	// MarkMailCancelled cancels the item holder claimed (it no longer applies). Errors as
	// MarkMailSent.
	MarkMailCancelled(ctx context.Context, id, holder string) error
	// ListMail returns the items f selects, newest first.
	ListMail(ctx context.Context, f MailFilter) ([]*MailItem, error)
	// CountMail returns how many items are in each state (states without items are absent).
	CountMail(ctx context.Context) (map[string]int, error)
}

// MailOp is one outbox change a context carries: an item to queue, or the Key of a pending
// item to cancel.
type MailOp struct {
	Queue     *MailItem // nil for a cancellation
	CancelKey string
}

type mailKey struct{}

// QueueMail returns ctx carrying item (ID assigned if empty, State pending); the next store
// write made with that ctx stores it in the same transaction, like audit events. A write that
// changes nothing, or fails, queues nothing.
func QueueMail(ctx context.Context, item MailItem) context.Context {
	if item.ID == "" {
		item.ID = NewTimeOrderedID()
	}
	item.State = MailPending
	item.Params = maps.Clone(item.Params)
	return withMailOp(ctx, MailOp{Queue: &item})
}

// CancelMail returns ctx carrying a cancellation of the pending item with key (if any), applied
// in the next write's transaction.
func CancelMail(ctx context.Context, key string) context.Context {
	return withMailOp(ctx, MailOp{CancelKey: key})
}

func withMailOp(ctx context.Context, op MailOp) context.Context {
	prev := MailOps(ctx)
	all := make([]MailOp, 0, len(prev)+1)
	all = append(append(all, prev...), op)
	return context.WithValue(ctx, mailKey{}, all)
}

// MailOps returns the outbox changes ctx carries, in the order they were added.
func MailOps(ctx context.Context) []MailOp {
	ops, _ := ctx.Value(mailKey{}).([]MailOp)
	return ops
}

// CarriesRecords reports whether ctx carries audit events or outbox changes, which the
// store's next write inserts in its transaction.
func CarriesRecords(ctx context.Context) bool {
	return len(AuditEvents(ctx)) > 0 || len(MailOps(ctx)) > 0
}

// ParamsJSON returns the item's parameters as JSON ("{}" when empty).
func (m *MailItem) ParamsJSON() string {
	if len(m.Params) == 0 {
		return "{}"
	}
	b, err := json.Marshal(m.Params)
	if err != nil { // a map of strings always encodes
		return "{}"
	}
	return string(b)
}

// SetParamsJSON sets the parameters from their stored JSON.
func (m *MailItem) SetParamsJSON(s string) error {
	m.Params = nil
	if s == "" || s == "{}" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), &m.Params); err != nil {
		return fmt.Errorf("decode mail params: %w", err)
	}
	return nil
}
