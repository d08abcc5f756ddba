package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestURL(t *testing.T) {
	ctx := context.Background()
	var first string
	var open *pgx.Conn // left open: the database is dropped regardless
	t.Run("create", func(t *testing.T) {
		first = pgtest.URL(t)
		second := pgtest.URL(t)
		if first == second {
			t.Fatalf("URL returned %q twice", first)
		}
		conn, err := pgx.Connect(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		open = conn
		var tables int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("new database has %d tables, want 0", tables)
		}
	})
	if open != nil {
		open.Close(ctx)
	}

	// The database is dropped when the test that asked for it ends.
	conn, err := pgx.Connect(ctx, first)
	if err == nil {
		conn.Close(ctx)
		t.Errorf("database %s still exists after its test ended", first)
	}
}
