package sqlite

import (
	"context"
	"errors"
	"sync"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// maxBatch bounds how many sign-ins one transaction commits.
const maxBatch = 64

// signInBatcher commits concurrent sign-ins in one transaction (group commit). Each sign-in runs
// in its own savepoint, so one refused sign-in is rolled back alone; a failed commit fails every
// sign-in of the batch, none of which is then written.
type signInBatcher struct {
	s       *Store
	queue   chan *signInRequest
	closing chan struct{}
	// mu makes queueing and closing exclusive: a request is either queued before close (and
	// answered by the drain) or refused, never queued after the loop has stopped.
	mu     sync.RWMutex
	closed bool
	done   sync.WaitGroup
}

type signInRequest struct {
	ctx    context.Context
	signIn *latchkey.PasskeySignIn
	result chan error
}

func newSignInBatcher(s *Store) *signInBatcher {
	b := &signInBatcher{s: s, queue: make(chan *signInRequest, 4*maxBatch), closing: make(chan struct{})}
	b.done.Add(1)
	go b.run()
	return b
}

var errStoreClosed = errors.New("sqlite store is closed")

// do queues c and waits for its batch to commit.
func (b *signInBatcher) do(ctx context.Context, c *latchkey.PasskeySignIn) error {
	r := &signInRequest{ctx: ctx, signIn: c, result: make(chan error, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return wrap(completeVerb, errStoreClosed)
	}
	select {
	case b.queue <- r:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	// Once queued the request is always answered, even if ctx ends: it may already be written.
	return <-r.result
}

func (b *signInBatcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.closing)
	}
	b.mu.Unlock()
	b.done.Wait()
}

func (b *signInBatcher) run() {
	defer b.done.Done()
	batch := make([]*signInRequest, 0, maxBatch)
	for {
		select {
		case <-b.closing:
			b.drain()
			return
		case r := <-b.queue:
			batch = append(batch[:0], r)
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-b.queue:
				batch = append(batch, r)
			default:
				break more
			}
		}
		b.commit(batch)
	}
}

// drain refuses what is still queued when the store closes.
func (b *signInBatcher) drain() {
	for {
		select {
		case r := <-b.queue:
			r.result <- wrap(completeVerb, errStoreClosed)
		default:
			return
		}
	}
}

// errRetryWithSavepoints rolls back an optimistic batch in which a sign-in was refused.
var errRetryWithSavepoints = errors.New("a sign-in of the batch was refused")

// commit runs a batch in one transaction. Refusals are rare, so it first runs every sign-in
// straight; if one is refused, it rolls that back and runs the batch again with each sign-in in
// its own savepoint, so that only the refused ones are undone.
func (b *signInBatcher) commit(batch []*signInRequest) {
	results := make([]error, len(batch))
	ctx := context.Background() // the batch outlives any one request's context
	run := func(savepoints bool) error {
		return b.s.write(ctx, completeVerb, func(tx *txn) error {
			for i, r := range batch {
				if err := r.ctx.Err(); err != nil {
					results[i] = err // the caller gave up before its turn: nothing written
					continue
				}
				if !savepoints {
					if results[i] = completePasskeySignIn(ctx, tx, r.signIn); results[i] != nil {
						return errRetryWithSavepoints
					}
					continue
				}
				if _, err := tx.ExecContext(ctx, "SAVEPOINT sign_in"); err != nil {
					return wrap(completeVerb, err)
				}
				if results[i] = completePasskeySignIn(ctx, tx, r.signIn); results[i] != nil {
					if _, err := tx.ExecContext(ctx, "ROLLBACK TO sign_in"); err != nil {
						return wrap(completeVerb, err)
					}
				}
				if _, err := tx.ExecContext(ctx, "RELEASE sign_in"); err != nil {
					return wrap(completeVerb, err)
				}
			}
			return nil
		})
	}
	err := run(false)
	if errors.Is(err, errRetryWithSavepoints) {
		if len(batch) == 1 {
			err = nil // the rollback undid the one refused sign-in; its result says why
		} else {
			err = run(true)
		}
	}
	for i, r := range batch {
		if err != nil {
			results[i] = err
		}
		r.result <- results[i]
	}
}
