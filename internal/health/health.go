// Package health follows whether this node can write to its store: it answers the health check
// from a heartbeat written at most once per HeartbeatEvery, and logs an outage once when it
// starts (with its cause) and once when it ends (with how long it lasted and how many calls
// failed), however many requests fail in between.
package health

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// HeartbeatEvery is how often, at most, the health check writes this node's heartbeat; checks
// in between answer with the last write's result.
const HeartbeatEvery = time.Second

// Heartbeater writes this node's heartbeat row (latchkey.Store does).
type Heartbeater interface {
	Heartbeat(ctx context.Context, node string, at time.Time) error
}

// Deps are what a Tracker works with. They are passed to each call rather than kept, so that
// their owner may replace them (tests replace the clock).
type Deps struct {
	Store  Heartbeater
	Logger *slog.Logger
	Now    func() time.Time
}

func (d Deps) now() time.Time { return d.Now().UTC() }

// Tracker follows the store's availability on this node. Its zero value is ready to use: the
// store is taken as available until a call says otherwise.
type Tracker struct {
	isDown    atomic.Bool // down, readable without the lock (every request looks)
	mu        sync.Mutex
	down      bool
	since     time.Time
	cause     error
	failures  int
	lastProbe time.Time // the last heartbeat write began
	node      string
}

// StoreUnavailable records that a store call failed because the store cannot be reached or
// written (an error of kind latchkey.EUNAVAILABLE). The first failure of an outage is logged at
// ERROR with its cause; later ones are only counted.
func (o *Tracker) StoreUnavailable(ctx context.Context, d Deps, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failedLocked(ctx, d, err)
}

func (o *Tracker) failedLocked(ctx context.Context, d Deps, err error) {
	if o.down {
		o.failures++
		return
	}
	o.down, o.since, o.cause, o.failures = true, d.now(), err, 1
	o.isDown.Store(true)
	cause := err
	var e *latchkey.Error
	if errors.As(err, &e) && e.Err != nil {
		cause = e.Err
	}
	d.Logger.ErrorContext(ctx, "store unavailable: answering 503 until it can be written again", "err", cause)
}

// Health reports whether this node can write to its store: it writes the node's heartbeat row,
// at most once per HeartbeatEvery (between writes it answers from the last one), and returns
// an error of kind latchkey.EUNAVAILABLE while the store is out, that is after a failed write or
// after a request failed on an unavailable store, until a heartbeat write works again. The
// first working write after an outage logs "store available again".
func (o *Tracker) Health(ctx context.Context, d Deps) error {
	now := d.now()
	o.mu.Lock()
	if since := now.Sub(o.lastProbe); !o.lastProbe.IsZero() && since >= 0 && since < HeartbeatEvery {
		err := o.err()
		o.mu.Unlock()
		return err
	}
	o.lastProbe = now
	if o.node == "" {
		o.node, _ = os.Hostname()
		if o.node == "" {
			o.node = "latchkey"
		}
	}
	node := o.node
	o.mu.Unlock()

	err := d.Store.Heartbeat(ctx, node, now)
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case err == nil:
		if o.down {
			d.Logger.InfoContext(ctx, "store available again", "downFor", d.now().Sub(o.since).Round(time.Millisecond).String(),
				"failedCalls", o.failures)
			o.down, o.cause, o.failures = false, nil, 0
			o.isDown.Store(false)
		}
		return nil
	case ctx.Err() != nil:
		return err // the caller went away: this says nothing about the store
	}
	if !latchkey.IsKind(err, latchkey.EUNAVAILABLE) {
		err = latchkey.Unavailable(err) // whatever the reason, this node cannot write
	}
	o.failedLocked(ctx, d, err)
	return o.err()
}

// err is the error Health answers with while the store is out, nil otherwise.
func (o *Tracker) err() error {
	if !o.down {
		return nil
	}
	if latchkey.IsKind(o.cause, latchkey.EUNAVAILABLE) {
		return o.cause
	}
	return latchkey.Unavailable(o.cause)
}

// CheckRecovery, called after a request that worked, looks whether an outage has ended when
// one is under way and the last heartbeat is older than HeartbeatEvery: it writes a heartbeat in
// the background, so that the end of an outage is noticed (and logged) even when nothing calls
// the health check.
func (o *Tracker) CheckRecovery(d Deps) {
	if !o.isDown.Load() {
		return
	}
	o.mu.Lock()
	since := d.now().Sub(o.lastProbe)
	due := o.down && (since < 0 || since >= HeartbeatEvery)
	o.mu.Unlock()
	if due {
		o.probe(d)
	}
}

// probe writes a heartbeat in the background.
func (o *Tracker) probe(d Deps) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = o.Health(ctx, d)
	}()
}

// LogStoreError logs a store write whose failure does not stop the request (the sign-in log, a
// throttle count): an outage goes to StoreUnavailable, which logs it once; a call cut short by
// the caller going away is not an error; anything else is.
func (o *Tracker) LogStoreError(ctx context.Context, d Deps, msg string, err error, attrs ...any) {
	switch {
	case ctx.Err() != nil:
		d.Logger.DebugContext(ctx, msg+" (request cancelled)", append(attrs, "err", err)...)
	case latchkey.IsKind(err, latchkey.EUNAVAILABLE):
		o.StoreUnavailable(ctx, d, err)
	default:
		d.Logger.ErrorContext(ctx, msg, append(attrs, "err", err)...)
	}
}
