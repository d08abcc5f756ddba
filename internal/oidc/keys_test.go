package oidc

import (
	"context"
	"crypto/rsa"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/sqlite"
)

// TestSigningKeyRotation: the first signature creates a key; past KeyRotationInterval the next
// signature rotates to a new key; a retired key stays in the key set for RetiredKeyPublished and
// then leaves it.
func TestSigningKeyRotation(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &storage{store: st, now: func() time.Time { return now }, keys: map[string]*rsa.PrivateKey{}}
	kids := func() []string {
		t.Helper()
		ks, err := s.KeySet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range ks {
			out = append(out, k.ID())
		}
		return out
	}

	first, err := s.SigningKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(KeyRotationInterval - time.Minute)
	if k, _ := s.SigningKey(ctx); k.ID() != first.ID() {
		t.Fatalf("rotated before the interval: %s, was %s", k.ID(), first.ID())
	}
	now = now.Add(2 * time.Minute)
	second, err := s.SigningKey(ctx)
	if err != nil || second.ID() == first.ID() {
		t.Fatalf("no rotation after the interval: %v %v", second, err)
	}
	if got := kids(); len(got) != 2 {
		t.Fatalf("key set right after rotation %v, want both keys", got)
	}
	now = now.Add(RetiredKeyPublished - time.Minute)
	if got := kids(); len(got) != 2 {
		t.Fatalf("key set %v before the retired key's time is up, want both keys", got)
	}
	now = now.Add(2 * time.Minute)
	if got := kids(); len(got) != 1 || got[0] != second.ID() {
		t.Fatalf("key set %v after the retired key's time, want only %s", got, second.ID())
	}
}
