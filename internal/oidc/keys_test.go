package oidc

import (
	"context"
	"crypto/rsa"
	"log/slog"
	"path/filepath"
	"sync"
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

// TestSigningKeyAtStart: nodes starting at once on a fresh store (New on each) publish a key
// before any token is signed. However many keys they create between them, every node signs with
// the same one, and every key in service is in the JWKS; a later start creates none.
func TestSigningKeyAtStart(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	const nodes = 6
	providers := make([]*Provider, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			providers[i], errs[i] = New(st, "http://localhost:8080", slog.New(slog.DiscardHandler))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: New: %v", i, err)
		}
	}
	published := map[string]bool{}
	ks, err := providers[0].storage.KeySet(ctx)
	if err != nil || len(ks) == 0 {
		t.Fatalf("JWKS before any token: %d keys, %v; want at least one", len(ks), err)
	}
	for _, k := range ks {
		published[k.ID()] = true
	}
	keys, err := st.ListSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.RetiredAt == nil && !published[k.ID] {
			t.Errorf("key %s is in service but not in the JWKS", k.ID)
		}
	}
	var signer string
	for i, p := range providers {
		k, err := p.storage.SigningKey(ctx)
		if err != nil {
			t.Fatalf("node %d: SigningKey: %v", i, err)
		}
		if signer == "" {
			signer = k.ID()
		}
		if k.ID() != signer || !published[k.ID()] {
			t.Errorf("node %d signs with %s, want %s, published", i, k.ID(), signer)
		}
	}
	t.Logf("%d nodes starting at once created %d keys", nodes, len(keys))

	if _, err := New(st, "http://localhost:8080", slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if again, err := st.ListSigningKeys(ctx); err != nil || len(again) != len(keys) {
		t.Errorf("a later start: %d keys, %v; want the %d there were", len(again), err, len(keys))
	}
}
