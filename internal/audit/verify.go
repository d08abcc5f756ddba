package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Report is what Verify found.
type Report struct {
	OK bool `json:"ok"`
	// Events is how many sealed events the store holds; Pending how many wait to be sealed.
	Events  int64 `json:"events"`
	Pending int   `json:"pending"`
	// CheckpointSize is the size of the latest stored checkpoint.
	CheckpointSize int64 `json:"checkpointSize"`
	// ExternalSize is the size of the checkpoint given to Verify, if any.
	ExternalSize int64 `json:"externalSize,omitempty"`
	// Problem names the first thing wrong; BadSeq and BadID the event, when there is one.
	Problem string `json:"problem,omitempty"`
	BadSeq  *int64 `json:"badSeq,omitempty"`
	BadID   string `json:"badId,omitempty"`
}

func (r *Report) fail(seq int64, id, format string, args ...any) *Report {
	r.OK, r.Problem = false, fmt.Sprintf(format, args...)
	if seq >= 0 {
		r.BadSeq = &seq
	}
	r.BadID = id
	return r
}

// Verify recomputes every sealed event's leaf hash and the tree's root from the stored rows,
// and checks them against the latest stored checkpoint (its signature and root) and, when
// external is not nil, against a checkpoint kept outside the store: a store shorter than that
// checkpoint was truncated, and one whose first leaves give another root was rewritten.
func Verify(ctx context.Context, store latchkey.AuditStore, external []byte) (*Report, error) {
	key, err := store.AuditKey(ctx, NewKey)
	if err != nil {
		return nil, err
	}
	events, err := store.SealedAuditEvents(ctx)
	if err != nil {
		return nil, err
	}
	pending, err := store.ListAuditEvents(ctx, latchkey.AuditFilter{})
	if err != nil {
		return nil, err
	}
	r := &Report{OK: true, Events: int64(len(events))}
	for _, e := range pending {
		if e.Seq == nil {
			r.Pending++
		}
	}
	leaves := make([][]byte, 0, len(events))
	for i, e := range events {
		want := int64(i)
		switch {
		case *e.Seq > want:
			return r.fail(want, "", "event %d is missing (deleted); the next stored event is %d (%s)", want, *e.Seq, e.ID), nil
		case *e.Seq < want:
			return r.fail(*e.Seq, e.ID, "event %d (%s) appears twice", *e.Seq, e.ID), nil
		}
		h := LeafHash(e, want)
		if !bytes.Equal(h, e.LeafHash) {
			return r.fail(want, e.ID, "event %d (%s) was altered, reordered or inserted: its fields do not match its seal", want, e.ID), nil
		}
		leaves = append(leaves, h)
	}
	latest, err := store.LatestAuditCheckpoint(ctx)
	if errors.Is(err, latchkey.ErrNotFound) {
		latest = nil
	} else if err != nil {
		return nil, err
	}
	if latest != nil {
		r.CheckpointSize = latest.Size
		cp, err := OpenCheckpoint([]byte(latest.Note), key.Verifier)
		if err != nil {
			return r.fail(-1, "", "the latest stored checkpoint: %v", err), nil
		}
		if cp.Size != latest.Size || !bytes.Equal(cp.Root, latest.Root) {
			return r.fail(-1, "", "the latest stored checkpoint's signed text does not match its size and root"), nil
		}
		if msg, seq, id := checkRoot(leaves, cp); msg != "" {
			return r.fail(seq, id, "stored checkpoint: %s", msg), nil
		}
		if int64(len(leaves)) > cp.Size {
			e := events[cp.Size]
			return r.fail(cp.Size, e.ID, "event %d (%s) is sealed beyond the latest checkpoint (size %d): inserted", cp.Size, e.ID, cp.Size), nil
		}
	} else if len(events) > 0 {
		return r.fail(0, events[0].ID, "sealed events exist but no checkpoint does"), nil
	}
	if external != nil {
		cp, err := OpenCheckpoint(external, key.Verifier)
		if err != nil {
			return r.fail(-1, "", "the given checkpoint: %v", err), nil
		}
		r.ExternalSize = cp.Size
		if msg, seq, id := checkRoot(leaves, cp); msg != "" {
			return r.fail(seq, id, "given checkpoint: %s", msg), nil
		}
	}
	return r, nil
}

// checkRoot checks that the first cp.Size leaves give cp.Root.
func checkRoot(leaves [][]byte, cp *Checkpoint) (msg string, seq int64, id string) {
	if int64(len(leaves)) < cp.Size {
		return fmt.Sprintf("it covers %d events but the store holds %d: events %d to %d were removed (truncated)",
			cp.Size, len(leaves), len(leaves), cp.Size-1), int64(len(leaves)), ""
	}
	root, err := Root(leaves[:cp.Size])
	if err != nil {
		return err.Error(), -1, ""
	}
	if !bytes.Equal(root, cp.Root) {
		return fmt.Sprintf("the first %d events do not give its root: the log was rewritten", cp.Size), -1, ""
	}
	return "", -1, ""
}
