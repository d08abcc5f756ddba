package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/audit"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// TestServeSealsAtShutdown: events written while the server runs and not yet sealed (the
// sealer's interval is an hour here, after its first round) are sealed by a clean shutdown.
func TestServeSealsAtShutdown(t *testing.T) {
	data := t.TempDir()
	s := &Serve{Stdout: io.Discard, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), sealEvery: time.Hour}
	if err := s.ParseFlags([]string{"--data", data, "--listen", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Finance", "Sales", "Support"} {
		if err := s.Directory.CreateGroup(ctx, latchkey.CLIActor, &latchkey.Group{DisplayName: name}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(data, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := audit.Verify(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Bootstrap's two events (the admin and their pass) and the three groups, all sealed.
	if !rep.OK || rep.Pending != 0 || rep.Events != 5 {
		t.Errorf("after shutdown: %+v, want 5 sealed events and none pending", rep)
	}
}
