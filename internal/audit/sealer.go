package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Interval is how often the sealer seals pending events.
const Interval = time.Second

// Sealer is the service that seals the audit log. Run it on every node: only the one that holds
// the store's lease (AuditStore.AuditLease) seals.
type Sealer struct {
	Store    latchkey.AuditStore
	Log      *slog.Logger
	Interval time.Duration // Interval when zero
}

// Run seals every Interval until ctx ends, then, if it holds the lease, seals what is pending
// once more (a clean shutdown leaves nothing unsealed) and gives the lease up.
func (s *Sealer) Run(ctx context.Context) {
	every := s.Interval
	if every <= 0 {
		every = Interval
	}
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	release, held := func() {}, false
	defer func() { release() }()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if !held {
			r, ok, err := s.Store.AuditLease(ctx)
			if err != nil && ctx.Err() == nil {
				log.Warn("audit sealer: take lease", "error", err)
			}
			if ok {
				release, held = r, true
			}
		}
		if held {
			if err := sealAll(ctx, s.Store); err != nil && ctx.Err() == nil {
				// Perhaps the lease was lost (its connection dropped) and another node seals
				// now: give it up and take it again only when free.
				log.Error("audit sealer: seal", "error", err)
				release()
				release, held = func() {}, false
			}
		}
		select {
		case <-ctx.Done():
			if held {
				final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				if err := sealAll(final, s.Store); err != nil {
					log.Error("audit sealer: seal at shutdown", "error", err)
				}
				cancel()
			}
			return
		case <-tick.C:
		}
	}
}

// sealAll seals batches until nothing is pending.
func sealAll(ctx context.Context, store latchkey.AuditStore) error {
	for {
		n, err := Seal(ctx, store)
		if err != nil || n < latchkey.AuditSealBatch {
			return err
		}
	}
}
