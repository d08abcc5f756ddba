package latchkey

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AuditEvent is one change made by an actor, as the audit log keeps it. The actor's and the
// target's names are kept as they were when the change was made, so that the event stays
// readable after a rename or a delete. Nothing secret (a pass, a token, a client secret) is ever
// in an event.
type AuditEvent struct {
	ID            string // time-ordered (NewTimeOrderedID)
	Time          time.Time
	ActorKind     string // ActorPerson, ActorToken or ActorSystem
	ActorID       string
	ActorName     string // Actor.Name: the person's UPN, "token:" and its name, "cli" or "system"
	Action        string // e.g. "user.create", "role.assign"
	TargetKind    string // e.g. "user", "group", "role", "policy"
	TargetID      string
	TargetName    string
	Summary       map[string]any // what changed; never a secret
	CorrelationID string
	// Seq is the event's position in the sealed log, counted from 0; nil until sealed.
	Seq *int64
	// LeafHash is the RFC 6962 leaf hash of the event's canonical encoding; nil until sealed.
	LeafHash []byte
}

// AuditCheckpoint is a signed statement of the audit log's Merkle tree at one size.
type AuditCheckpoint struct {
	Size int64
	Root []byte
	// Range holds the hashes of the tree's compact range [0, Size), to extend it without
	// reading every leaf.
	Range [][]byte
	// Note is the checkpoint as a signed note (golang.org/x/mod/sumdb/note).
	Note     string
	SealedAt time.Time
}

// AuditKey is the audit log's signing key, kept apart from the token-signing keys.
type AuditKey struct {
	Signer   string // a note signer key (note.NewSigner)
	Verifier string // the matching verifier key (note.NewVerifier)
}

// AuditFilter selects audit events; empty fields select every event.
type AuditFilter struct {
	Actor  string // actor id or name
	Action string
	Target string // target id or name
	Since  time.Time
	Until  time.Time
	After  string // paging: events after this id, in (time, id) order
	Limit  int    // 0: no limit
	// Newest lists newest first (After is then not used).
	Newest bool
}

// AuditSeal seals pending events. It receives the latest checkpoint (nil when none) and the
// unsealed events in (time, id) order, sets each event's Seq and LeafHash, and returns the new
// checkpoint.
type AuditSeal func(prev *AuditCheckpoint, pending []*AuditEvent) (*AuditCheckpoint, error)

// AuditSealBatch is the most events AuditStore.SealAudit seals in one transaction.
const AuditSealBatch = 1000

// AuditStore keeps the audit log. Events are written by the store's write transactions from
// the context (WithAuditEvent); this interface reads them and seals them.
type AuditStore interface {
	// ListAuditEvents returns the events f selects in (time, id) order, sealed or not.
	ListAuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)
	// SealedAuditEvents returns every sealed event in seq order, for verification.
	SealedAuditEvents(ctx context.Context) ([]*AuditEvent, error)
	// LatestAuditCheckpoint returns the checkpoint of the largest size; ErrNotFound when none.
	LatestAuditCheckpoint(ctx context.Context) (*AuditCheckpoint, error)
	// SealAudit runs seal in one transaction over the oldest unsealed events (at most
	// AuditSealBatch) and stores what it returns; it returns how many events were sealed. Seq and checkpoint size are unique, so a
	// second sealer racing this one fails rather than forking the log.
	SealAudit(ctx context.Context, seal AuditSeal) (int, error)
	// AuditKey returns the audit signing key, storing the one generate makes on first use.
	AuditKey(ctx context.Context, generate func() (*AuditKey, error)) (*AuditKey, error)
	// AuditLease tries to become the one sealer. It returns held=false when another node is
	// the sealer; release gives the lease up.
	AuditLease(ctx context.Context) (release func(), held bool, err error)
}

type auditKey struct{}

// WithAuditEvent returns ctx carrying ev in addition to the events ctx already carries. The
// store's next write with that context inserts the events in the transaction of the change:
// a write that fails leaves no event, and an event never exists without its write.
func WithAuditEvent(ctx context.Context, ev ...*AuditEvent) context.Context {
	prev := AuditEvents(ctx)
	all := make([]*AuditEvent, 0, len(prev)+len(ev))
	all = append(append(all, prev...), ev...)
	return context.WithValue(ctx, auditKey{}, all)
}

// AuditEvents returns the events ctx carries.
func AuditEvents(ctx context.Context) []*AuditEvent {
	evs, _ := ctx.Value(auditKey{}).([]*AuditEvent)
	return evs
}

// NewAuditEvent returns an event of action by a on the target, with a new id, the current
// time and the context's correlation id, if any.
func NewAuditEvent(ctx context.Context, a Actor, action, targetKind, targetID, targetName string, summary map[string]any) *AuditEvent {
	ev := &AuditEvent{
		ID: NewTimeOrderedID(), Time: time.Now().UTC().Truncate(time.Microsecond),
		Action: action, TargetKind: targetKind, TargetID: targetID, TargetName: targetName,
		Summary: summary, CorrelationID: CorrelationID(ctx),
	}
	ev.ActorKind, ev.ActorID, ev.ActorName = a.Kind, a.ID(), a.Name()
	return ev
}

type correlationKey struct{}

// WithCorrelationID returns ctx carrying id, which the audit events made with it keep.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// CorrelationID returns the correlation id ctx carries, or "".
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}

// SummaryJSON returns the event's summary as JSON ("{}" when empty).
func (e *AuditEvent) SummaryJSON() string {
	if len(e.Summary) == 0 {
		return "{}"
	}
	b, err := json.Marshal(e.Summary)
	if err != nil {
		return fmt.Sprintf(`{"error":%q}`, err.Error())
	}
	return string(b)
}

// SetSummaryJSON sets the summary from its stored JSON.
func (e *AuditEvent) SetSummaryJSON(s string) error {
	e.Summary = nil
	if s == "" || s == "{}" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), &e.Summary); err != nil {
		return fmt.Errorf("decode audit summary: %w", err)
	}
	return nil
}

// Audit returns ctx carrying a new event of action by a on the target (NewAuditEvent), for
// the store write that makes the change.
func Audit(ctx context.Context, a Actor, action, targetKind, targetID, targetName string, summary map[string]any) context.Context {
	return WithAuditEvent(ctx, NewAuditEvent(ctx, a, action, targetKind, targetID, targetName, summary))
}
