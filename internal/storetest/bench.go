package storetest

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// benchClients is about how many goroutines the parallel benchmarks run, as in a busy sign-in
// page.
const benchClients = 64

// RunCompletePasskeySignInBenchmarks measures CompletePasskeySignIn, from one goroutine and from
// about benchClients at once, each with its own passkey so that every call succeeds.
// newStore must return a fresh, empty, migrated store that is closed when b ends.
func RunCompletePasskeySignInBenchmarks(b *testing.B, newStore func(b *testing.B) latchkey.Store) {
	complete := func(b *testing.B, s latchkey.Store, c *latchkey.PasskeySignIn) error {
		if err := s.CompletePasskeySignIn(b.Context(), c); err != nil {
			return fmt.Errorf("CompletePasskeySignIn: %w", err)
		}
		return nil
	}
	for _, v := range []struct {
		name  string
		write func(*testing.B, latchkey.Store, *latchkey.PasskeySignIn) error
	}{{"", complete}} {
		b.Run("serial"+v.name, func(b *testing.B) {
			s := newStore(b)
			p := benchPasskeys(b, s, 1)[0]
			count := p.SignCount
			for b.Loop() {
				count++
				if err := v.write(b, s, newPasskeySignIn(p, count)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("parallel"+v.name, func(b *testing.B) {
			s := newStore(b)
			parallelism := max(1, benchClients/runtime.GOMAXPROCS(0))
			keys := benchPasskeys(b, s, parallelism*runtime.GOMAXPROCS(0))
			var next atomic.Int64
			b.SetParallelism(parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				p := keys[next.Add(1)-1]
				count := p.SignCount
				for pb.Next() {
					count++
					if err := v.write(b, s, newPasskeySignIn(p, count)); err != nil {
						b.Error(err) // not Fatal: this is not the benchmark's goroutine
						return
					}
				}
			})
		})
	}
}

// benchPasskeys creates n users with one passkey each.
func benchPasskeys(b *testing.B, s latchkey.Store, n int) []*latchkey.Passkey {
	keys := make([]*latchkey.Passkey, n)
	for i := range keys {
		u := newUser(fmt.Sprintf("user%03d@example.com", i))
		if err := s.CreateUser(b.Context(), u); err != nil {
			b.Fatalf("CreateUser: %v", err)
		}
		keys[i] = newPasskey(u.ID, t0)
		if err := s.CreatePasskey(b.Context(), keys[i]); err != nil {
			b.Fatalf("CreatePasskey: %v", err)
		}
	}
	return keys
}
