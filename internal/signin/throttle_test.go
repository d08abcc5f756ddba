package signin

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// TestHashingConcurrencyIsBounded: a burst of 60 wrong passes at once, each from an address and
// for a name of its own so that the throttle lets every one be checked, never runs more than
// MaxConcurrentHashes argon2id hashes at once; the others wait their turn and are answered
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
	if p := peak.Load(); p > MaxConcurrentHashes {
		t.Errorf("%d argon2id hashes ran at once, want at most %d", p, MaxConcurrentHashes)
	}
	t.Logf("%d hashes, at most %d at once (bound %d)", calls.Load(), peak.Load(), MaxConcurrentHashes)
}

// TestHashWaitEndsWithTheRequest: a caller waiting for a hash slot gives up when its request's
// context ends, with an error, rather than waiting on.
func TestHashWaitEndsWithTheRequest(t *testing.T) {
	svc, _ := newService(t)
	for range MaxConcurrentHashes {
		hashSlots <- struct{}{}
	}
	defer func() {
		for range MaxConcurrentHashes {
			<-hashSlots
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := svc.hashPass(ctx, "some pass")
		done <- err
	}()
	cancel()
	if err := <-done; err == nil || ctx.Err() == nil {
		t.Fatalf("hashPass with every slot taken and the context ended = %v, want the context's error", err)
	}
}
