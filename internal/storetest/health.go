package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var healthTests = []test{
	{"Heartbeat", testHeartbeat},
	{"Unavailable/ClosedStore", testClosedStoreUnavailable},
}

// testHeartbeat: a node's heartbeat is one row, written again and again (an upsert, never a
// conflict), next to other nodes' rows.
func testHeartbeat(t *testing.T, s latchkey.Store) {
	ctx := context.Background()
	for i, node := range []string{"node-a", "node-a", "node-b", "node-a"} {
		if err := s.Heartbeat(ctx, node, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatalf("Heartbeat %d (%s): %v", i, node, err)
		}
	}
}

// testClosedStoreUnavailable: a store that cannot be reached (here: closed, as while a node
// shuts down) answers reads, writes, the sign-in batch and the heartbeat with an EUNAVAILABLE
// error, which the server turns into 503, not with an internal error.
func testClosedStoreUnavailable(t *testing.T, s latchkey.Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, "closed@example.com")
	p := newPasskey(u.ID, t0)
	if err := s.CreatePasskey(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := map[string]error{
		"FindUserByID":          func() error { _, err := s.FindUserByID(ctx, u.ID); return err }(),
		"CreateUser":            s.CreateUser(ctx, newUser("later@example.com")),
		"CompletePasskeySignIn": s.CompletePasskeySignIn(ctx, newPasskeySignIn(p, 9)),
		"Heartbeat":             s.Heartbeat(ctx, "node-a", t0),
		"Ping":                  s.Ping(ctx),
	}
	for name, err := range calls {
		if !latchkey.IsKind(err, latchkey.EUNAVAILABLE) {
			t.Errorf("%s on a closed store: %v, want an error of kind %s", name, err, latchkey.EUNAVAILABLE)
		}
	}
}
