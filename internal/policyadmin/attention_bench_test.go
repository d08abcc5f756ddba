package policyadmin

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// BenchmarkAttention5000 measures the admin home page's counts over a directory of 5,000 people
// (half with a passkey, one in five with a pass) and a week of 2,000 sign-ins, a quarter of them
// failed.
func BenchmarkAttention5000(b *testing.B) {
	svc, _ := newService(b)
	ctx := context.Background()
	now := svc.Now()
	for i := range 5000 {
		u := addUser(b, svc, fmt.Sprintf("user%04d@example.com", i))
		if i%2 == 0 {
			addPasskey(b, svc, u, latchkey.KindSynced, latchkey.AttestationNone)
		}
		if i%5 == 0 {
			if err := svc.Store.ReplaceAccessPass(ctx, &latchkey.AccessPass{UserID: u.ID, Hash: "not a pass", StartAt: now.Add(-time.Hour),
				LifetimeMinutes: 480, CreatedBy: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range 2000 {
		result := latchkey.SignInSuccess
		if i%4 == 0 {
			result = latchkey.SignInFailure
		}
		if err := svc.Store.RecordSignIn(ctx, &latchkey.SignInEvent{UPN: "user@example.com", Method: "tap", Result: result,
			CreatedAt: now.Add(-time.Duration(i) * time.Minute)}); err != nil {
			b.Fatal(err)
		}
	}
	// A reports reader sees the people and the log counts only; the system sees everything,
	// conditional access's lint (a walk over every enabled person) included.
	reader := latchkey.Actor{Kind: latchkey.ActorPerson, UserID: "reader", UPN: "reader@example.com",
		Roles: []latchkey.RoleAssignment{{UserID: "reader", Role: latchkey.RoleReportsReader}}}
	for _, c := range []struct {
		name string
		a    latchkey.Actor
	}{{"counts", reader}, {"everything", latchkey.SystemActor}} {
		b.Run(c.name, func(b *testing.B) {
			var got *Attention
			for b.Loop() {
				var err error
				if got, err = svc.Attention(ctx, c.a); err != nil {
					b.Fatal(err)
				}
			}
			if got.NoPasskey != 2500 || got.ActivePasses != 1000 || got.Failures != 500 {
				b.Fatalf("counts: no passkey %d, passes %d, failures %d; want 2500, 1000, 500", got.NoPasskey, got.ActivePasses, got.Failures)
			}
		})
	}
}
