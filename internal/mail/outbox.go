// Package mail sends Latchkey's mail: an SMTP transport configured from a URL, and the outbox
// worker that sends the items the store keeps (latchkey.MailItem).
//
// The outbox holds what to send and about whom, never a message. A Composer registered for the
// item's kind builds the message in memory at the moment it is sent, so that a pass it creates
// is never stored; the message is neither stored nor logged. A worker claims due items with a
// lease under its own holder id, so that several nodes send each mail once; a failed send is
// retried with exponential back-off until the outbox gives up.
package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/metrics"
)

// Message is a plain-text mail.
type Message struct {
	To      []string
	Subject string
	Text    string
}

// A Composer builds the message for an item at the moment it is sent. undo (may be nil) is
// called when the send fails (onboarding revokes the pass it created). Return ErrSkip when the
// item no longer applies (person deleted, disabled, start date gone): the item is cancelled.
type Composer func(ctx context.Context, item *latchkey.MailItem) (msg *Message, undo func(context.Context) error, err error)

// ErrSkip is what a Composer returns for an item that no longer applies.
var ErrSkip = errors.New("mail no longer applies")

// Undeliverable is what a Composer returns for an item that applies but has nobody to go to
// (no address on record). Unlike ErrSkip it stays visible: the outbox gives up on the item at
// once, with Reason (a plain sentence for the admin, no secret) as its last error, so that the
// admin home lists it among the failed mails. Retrying would not find an address.
type Undeliverable struct {
	Reason string
}

// Error returns the reason.
func (e *Undeliverable) Error() string { return "mail undeliverable: " + e.Reason }

// Sender sends one message from the address from.
type Sender interface {
	Send(ctx context.Context, from string, msg *Message) error
}

// Defaults of Options.
const (
	DefaultInterval    = 5 * time.Second
	DefaultLease       = 2 * time.Minute
	DefaultFirstRetry  = time.Minute
	DefaultMaxRetry    = 6 * time.Hour
	DefaultMaxAttempts = 12
	claimBatch         = 20
)

// Options configure an Outbox; zero fields take the defaults.
type Options struct {
	// Sender sends the mail; nil sends nothing and leaves every item waiting.
	Sender Sender
	// From is the sender address of every mail.
	From string
	// Now is the clock that decides what is due (the service clock); time.Now when nil.
	Now func() time.Time
	// Logger logs what the worker does, never a message body; slog.Default when nil.
	Logger *slog.Logger
	// Metrics counts sent and failed mails; nil counts nothing.
	Metrics *metrics.Metrics
	// Interval is the time between two runs of Run.
	Interval time.Duration
	// Lease is how long a claim lasts; an item whose send outlives it may be claimed again.
	Lease time.Duration
	// FirstRetry is the wait after the first failure; it doubles after each, up to MaxRetry.
	FirstRetry, MaxRetry time.Duration
	// MaxAttempts is how many failed sends make the outbox give up (state failed).
	MaxAttempts int
}

// Outbox sends the store's mail items through the registered Composers. It is safe for
// concurrent use.
type Outbox struct {
	store  latchkey.MailStore
	opts   Options
	holder string

	mu        sync.RWMutex
	composers map[string]Composer
	run       sync.Mutex // one RunOnce at a time in a process
}

// NewOutbox returns an outbox over store with opts.
func NewOutbox(store latchkey.MailStore, opts Options) *Outbox {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.FirstRetry <= 0 {
		opts.FirstRetry = DefaultFirstRetry
	}
	if opts.MaxRetry <= 0 {
		opts.MaxRetry = DefaultMaxRetry
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	return &Outbox{store: store, opts: opts, holder: newHolder(), composers: map[string]Composer{}}
}

// newHolder returns a per-process claim holder id.
func newHolder() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "outbox-" + hex.EncodeToString(b)
}

// Register sets the Composer of kind, replacing an earlier one.
func (o *Outbox) Register(kind string, c Composer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.composers[kind] = c
}

// Configured reports whether the outbox has a sender, so that mail is actually sent.
func (o *Outbox) Configured() bool { return o != nil && o.opts.Sender != nil }

// Now returns the outbox clock's time.
func (o *Outbox) Now() time.Time { return o.opts.Now() }

// Run sends due mail every Interval until ctx ends. Without a sender it does nothing.
func (o *Outbox) Run(ctx context.Context) {
	if !o.Configured() {
		return
	}
	t := time.NewTicker(o.opts.Interval)
	defer t.Stop()
	for {
		if err := o.RunOnce(ctx); err != nil && ctx.Err() == nil {
			o.opts.Logger.Warn("mail outbox run failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce claims the items due now and sends them, until none is due. Without a sender it
// sends nothing. A failed send is no error of RunOnce: the item is retried later. When ctx
// ends, the mail being sent is finished and recorded, and RunOnce returns; the items it had
// claimed but not begun wait for their lease to end.
func (o *Outbox) RunOnce(ctx context.Context) error {
	if !o.Configured() {
		return nil
	}
	o.run.Lock()
	defer o.run.Unlock()
	for {
		if ctx.Err() != nil {
			return nil
		}
		items, err := o.store.ClaimMail(ctx, o.opts.Now(), o.holder, o.opts.Lease, claimBatch)
		if err != nil {
			return fmt.Errorf("claim mail: %w", err)
		}
		for _, it := range items {
			if ctx.Err() != nil {
				return nil
			}
			if err := o.deliver(context.WithoutCancel(ctx), it); err != nil {
				return err
			}
		}
		if len(items) < claimBatch {
			return nil
		}
	}
}

// deliver composes and sends one claimed item and records the outcome; it returns only the
// errors of recording it.
func (o *Outbox) deliver(ctx context.Context, it *latchkey.MailItem) error {
	log := o.opts.Logger.With("mail", it.ID, "kind", it.Kind)
	o.mu.RLock()
	compose := o.composers[it.Kind]
	o.mu.RUnlock()
	if compose == nil {
		return o.fail(ctx, log, it, nil, fmt.Sprintf("Latchkey does not know how to write a mail of kind %q.", it.Kind), nil)
	}
	msg, undo, err := compose(ctx, it)
	if errors.Is(err, ErrSkip) {
		log.Info("mail no longer applies; cancelled")
		return o.record(ctx, "cancel mail", o.store.MarkMailCancelled(ctx, it.ID, o.holder))
	}
	var nobody *Undeliverable
	if errors.As(err, &nobody) {
		o.opts.Metrics.Mail(metrics.MailFailed)
		log.Warn("mail has nobody to go to; gave up", "reason", nobody.Reason)
		return o.record(ctx, "mark mail failed", o.store.MarkMailFailed(ctx, it.ID, o.holder, nobody.Reason, o.opts.Now(), true))
	}
	if err != nil {
		return o.fail(ctx, log, it, nil, "The mail could not be written.", err)
	}
	if err := o.opts.Sender.Send(ctx, o.opts.From, msg); err != nil {
		return o.fail(ctx, log, it, undo, "The mail server did not take the mail.", err)
	}
	o.opts.Metrics.Mail(metrics.MailSent)
	log.Info("mail sent", "recipients", len(msg.To))
	return o.record(ctx, "mark mail sent", o.store.MarkMailSent(ctx, it.ID, o.holder, o.opts.Now()))
}

// fail undoes what the composer made, and records the failed attempt with a retry after
// back-off, or gives up after MaxAttempts.
func (o *Outbox) fail(ctx context.Context, log *slog.Logger, it *latchkey.MailItem, undo func(context.Context) error, sentence string, cause error) error {
	if undo != nil {
		if err := undo(ctx); err != nil {
			log.Error("undoing a failed mail failed", "err", err)
		}
	}
	attempts := it.Attempts + 1
	giveUp := attempts >= o.opts.MaxAttempts
	retryAt := o.opts.Now().Add(o.Backoff(attempts))
	lastError := sentence
	var se *SendError
	if errors.As(cause, &se) { // the mail server's answer helps the admin; it holds no secret
		lastError += " " + se.Plain()
	}
	if giveUp {
		o.opts.Metrics.Mail(metrics.MailFailed)
		log.Error("mail failed; giving up", "attempts", attempts, "err", cause)
	} else {
		o.opts.Metrics.Mail(metrics.MailRetried)
		log.Warn("mail failed; will retry", "attempts", attempts, "retryAt", retryAt, "err", cause)
	}
	return o.record(ctx, "mark mail failed", o.store.MarkMailFailed(ctx, it.ID, o.holder, lastError, retryAt, giveUp))
}

// record returns err wrapped with verb; a conflict (another node took the item over after the
// lease ran out, or it was cancelled meanwhile) is no error.
func (o *Outbox) record(_ context.Context, verb string, err error) error {
	if err == nil || errors.Is(err, latchkey.ErrConflict) || errors.Is(err, latchkey.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("%s: %w", verb, err)
}

// Backoff returns the wait before the next attempt after attempts failures: FirstRetry,
// doubling each time, at most MaxRetry.
func (o *Outbox) Backoff(attempts int) time.Duration {
	d := o.opts.FirstRetry
	for i := 1; i < attempts && d < o.opts.MaxRetry; i++ {
		d *= 2
	}
	return min(d, o.opts.MaxRetry)
}
