package signin

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/latchkey/latchkey/internal/passhash"
)

// TestHashingConcurrencyIsBounded: a burst of 60 wrong passes at once, each from an address and
// for a name of its own so that the throttle lets every one be checked, never runs more than
// passhash.MaxConcurrent argon2id hashes at once; the others wait their turn and are answered
// (tap_invalid), none refused for want of a slot.
func TestHashingConcurrencyIsBounded(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	var calls, peak atomic.Int64
	svc.OnHash = func(running int) {
		calls.Add(1)
		for p := peak.Load(); int64(running) > p && !peak.CompareAndSwap(p, int64(running)); p = peak.Load() {
		}
	}
	const n = 60
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = svc.SignInWithTAP(ctx, fmt.Sprintf("nobody%d@example.com", i), "WRONGPAS", Client{IP: fmt.Sprintf("198.51.100.%d", i)})
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		wantCode(t, err, "tap_invalid")
	}
	if calls.Load() != n {
		t.Errorf("%d hashes for %d checked guesses, want %d", calls.Load(), n, n)
	}
	if p := peak.Load(); p > passhash.MaxConcurrent {
		t.Errorf("%d argon2id hashes ran at once, want at most %d", p, passhash.MaxConcurrent)
	}
	t.Logf("%d hashes, at most %d at once (bound %d)", calls.Load(), peak.Load(), passhash.MaxConcurrent)
}
