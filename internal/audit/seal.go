// Package audit seals Latchkey's audit log into an RFC 6962 Merkle tree with signed
// checkpoints, and verifies it.
//
// Events are inserted unsealed in the transaction of their change (latchkey.WithAuditEvent).
// One sealer (on PostgreSQL the node holding an advisory lock, on SQLite the process) later
// takes the unsealed events in (time, id) order, gives each the next seq and the leaf hash of
// its canonical encoding, extends the tree and stores a checkpoint signed as a note. Nothing is
// chained at insert time, so concurrent writers on several nodes cannot fork the log.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Origin is the first line of every checkpoint and the name of the signing key.
const Origin = "latchkey-audit"

var rf = &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// canonical is the encoding the leaf hash covers: every stored field, in a fixed order.
type canonical struct {
	Seq           int64           `json:"seq"`
	ID            string          `json:"id"`
	Time          int64           `json:"time"` // microseconds since 1970
	ActorKind     string          `json:"actorKind"`
	ActorID       string          `json:"actorId"`
	ActorName     string          `json:"actorName"`
	Action        string          `json:"action"`
	TargetKind    string          `json:"targetKind"`
	TargetID      string          `json:"targetId"`
	TargetName    string          `json:"targetName"`
	Summary       json.RawMessage `json:"summary"`
	CorrelationID string          `json:"correlationId"`
}

// Encode returns the canonical encoding of e at position seq.
func Encode(e *latchkey.AuditEvent, seq int64) []byte {
	b, err := json.Marshal(canonical{
		Seq: seq, ID: e.ID, Time: e.Time.UnixMicro(), ActorKind: e.ActorKind, ActorID: e.ActorID,
		ActorName: e.ActorName, Action: e.Action, TargetKind: e.TargetKind, TargetID: e.TargetID,
		TargetName: e.TargetName, Summary: json.RawMessage(e.SummaryJSON()), CorrelationID: e.CorrelationID,
	})
	if err != nil { // only a summary that is not JSON; SummaryJSON never returns one
		panic(fmt.Sprintf("encode audit event: %v", err))
	}
	return b
}

// LeafHash returns the RFC 6962 leaf hash of e at position seq.
func LeafHash(e *latchkey.AuditEvent, seq int64) []byte {
	return rfc6962.DefaultHasher.HashLeaf(Encode(e, seq))
}

// Root returns the RFC 6962 root of the leaf hashes.
func Root(leaves [][]byte) ([]byte, error) {
	r := rf.NewEmptyRange(0)
	for _, h := range leaves {
		if err := r.Append(h, nil); err != nil {
			return nil, fmt.Errorf("append audit leaf: %w", err)
		}
	}
	return rangeRoot(r)
}

func rangeRoot(r *compact.Range) ([]byte, error) {
	if r.End() == 0 {
		return rfc6962.DefaultHasher.EmptyRoot(), nil
	}
	root, err := r.GetRootHash(nil)
	if err != nil {
		return nil, fmt.Errorf("compute audit root: %w", err)
	}
	return root, nil
}

// NewKey generates an audit signing key.
func NewKey() (*latchkey.AuditKey, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, Origin)
	if err != nil {
		return nil, fmt.Errorf("generate audit key: %w", err)
	}
	return &latchkey.AuditKey{Signer: skey, Verifier: vkey}, nil
}

// checkpointBody is the text a checkpoint signs: origin, size and base64 root, one a line.
func checkpointBody(size int64, root []byte) string {
	return fmt.Sprintf("%s\n%d\n%s\n", Origin, size, base64.StdEncoding.EncodeToString(root))
}

// Checkpoint is a checkpoint's signed content.
type Checkpoint struct {
	Size int64
	Root []byte
}

// OpenCheckpoint verifies the signed note text with verifierKey and returns its content.
func OpenCheckpoint(text []byte, verifierKey string) (*Checkpoint, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return nil, fmt.Errorf("read audit verifier key: %w", err)
	}
	n, err := note.Open(text, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("verify checkpoint signature: %w", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 3 || lines[0] != Origin {
		return nil, fmt.Errorf("read checkpoint: not a %s checkpoint", Origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return nil, fmt.Errorf("read checkpoint size %q", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil {
		return nil, fmt.Errorf("read checkpoint root: %w", err)
	}
	return &Checkpoint{Size: size, Root: root}, nil
}

// Seal seals the pending events once: it returns how many it sealed.
func Seal(ctx context.Context, store latchkey.AuditStore) (int, error) {
	key, err := store.AuditKey(ctx, NewKey)
	if err != nil {
		return 0, err
	}
	signer, err := note.NewSigner(key.Signer)
	if err != nil {
		return 0, fmt.Errorf("read audit signing key: %w", err)
	}
	return store.SealAudit(ctx, func(prev *latchkey.AuditCheckpoint, pending []*latchkey.AuditEvent) (*latchkey.AuditCheckpoint, error) {
		r := rf.NewEmptyRange(0)
		if prev != nil {
			if r, err = rf.NewRange(0, uint64(prev.Size), prev.Range); err != nil {
				return nil, fmt.Errorf("read audit tree at %d: %w", prev.Size, err)
			}
		}
		for _, e := range pending {
			seq := int64(r.End())
			e.Seq, e.LeafHash = &seq, LeafHash(e, seq)
			if err := r.Append(e.LeafHash, nil); err != nil {
				return nil, fmt.Errorf("append audit leaf: %w", err)
			}
		}
		root, err := rangeRoot(r)
		if err != nil {
			return nil, err
		}
		size := int64(r.End())
		signed, err := note.Sign(&note.Note{Text: checkpointBody(size, root)}, signer)
		if err != nil {
			return nil, fmt.Errorf("sign audit checkpoint: %w", err)
		}
		return &latchkey.AuditCheckpoint{Size: size, Root: root, Range: r.Hashes(), Note: string(signed),
			SealedAt: time.Now().UTC()}, nil
	})
}
