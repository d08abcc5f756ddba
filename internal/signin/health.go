package signin

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// HeartbeatEvery is how often, at most, the health check writes this node's heartbeat; checks
// in between answer with the last write's result.
const HeartbeatEvery = time.Second

// outage follows the store's availability on this node, so that an outage is logged once when
// it starts (with its cause) and once when it ends (with how long it lasted and how many calls
// failed), however many requests fail in between.
type outage struct {
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
func (s *Service) StoreUnavailable(ctx context.Context, err error) {
	o := &s.outage
	o.mu.Lock()
	defer o.mu.Unlock()
	s.failedLocked(ctx, err)
}

func (s *Service) failedLocked(ctx context.Context, err error) {
	o := &s.outage
	if o.down {
		o.failures++
		return
	}
	o.down, o.since, o.cause, o.failures = true, s.now(), err, 1
	o.isDown.Store(true)
	cause := err
	var e *latchkey.Error
	if errors.As(err, &e) && e.Err != nil {
		cause = e.Err
	}
	s.Logger.ErrorContext(ctx, "store unavailable: answering 503 until it can be written again", "err", cause)
}

// Health reports whether this node can write to its store: it writes the node's heartbeat row,
// at most once per HeartbeatEvery (between writes it answers from the last one), and returns
// an error of kind latchkey.EUNAVAILABLE while the store is out, that is after a failed write or
// after a request failed on an unavailable store, until a heartbeat write works again. The
// first working write after an outage logs "store available again".
func (s *Service) Health(ctx context.Context) error {
	o := &s.outage
	now := s.now()
	o.mu.Lock()
	if d := now.Sub(o.lastProbe); !o.lastProbe.IsZero() && d >= 0 && d < HeartbeatEvery {
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

	err := s.Store.Heartbeat(ctx, node, now)
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case err == nil:
		if o.down {
			s.Logger.InfoContext(ctx, "store available again", "downFor", s.now().Sub(o.since).Round(time.Millisecond).String(),
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
	s.failedLocked(ctx, err)
	return o.err()
}

// err is the error Health answers with while the store is out, nil otherwise.
func (o *outage) err() error {
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
func (s *Service) CheckRecovery() {
	o := &s.outage
	if !o.isDown.Load() {
		return
	}
	o.mu.Lock()
	d := s.now().Sub(o.lastProbe)
	due := o.down && (d < 0 || d >= HeartbeatEvery)
	o.mu.Unlock()
	if due {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.Health(ctx)
		}()
	}
}

// logStoreError logs a store write whose failure does not stop the request (the sign-in log, a
// throttle count): an outage goes to StoreUnavailable, which logs it once; a call cut short by
// the caller going away is not an error; anything else is.
func (s *Service) logStoreError(ctx context.Context, msg string, err error, attrs ...any) {
	switch {
	case ctx.Err() != nil:
		s.Logger.DebugContext(ctx, msg+" (request cancelled)", append(attrs, "err", err)...)
	case latchkey.IsKind(err, latchkey.EUNAVAILABLE):
		s.StoreUnavailable(ctx, err)
	default:
		s.Logger.ErrorContext(ctx, msg, append(attrs, "err", err)...)
	}
}
