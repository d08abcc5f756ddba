package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// storeFlags are the flags every command takes to find its store.
type storeFlags struct {
	data     string
	database string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "./latchkey-data", "data folder (SQLite database and local state)")
	fs.StringVar(&f.database, "database", "", "database URL: empty for SQLite in the data folder, or postgres://...")
}

// open opens the store the flags name, creating the data folder for SQLite.
func (f *storeFlags) open(ctx context.Context) (latchkey.Store, error) {
	db := f.database
	switch {
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return postgres.Open(ctx, db)
	case db == "" || strings.HasPrefix(db, "sqlite:"):
		path := strings.TrimPrefix(db, "sqlite:")
		if path == "" {
			if err := os.MkdirAll(f.data, 0o700); err != nil {
				return nil, fmt.Errorf("create data folder: %w", err)
			}
			path = filepath.Join(f.data, "latchkey.db")
		}
		return sqlite.Open(ctx, path)
	}
	return nil, usageError("--database (%s) must be empty, sqlite:PATH or postgres://..., not %q", envName("database"), db)
}

// backend names the kind of store the flags open: sqlite or postgres (the metrics' store label).
func (f *storeFlags) backend() string {
	if strings.HasPrefix(f.database, "postgres://") || strings.HasPrefix(f.database, "postgresql://") {
		return "postgres"
	}
	return "sqlite"
}

// describeError prints a refusal the way a person at a terminal needs it.
func describeError(err error) string {
	var e *latchkey.Error
	if errors.As(err, &e) && e.Kind != latchkey.EINTERNAL {
		s := e.Message
		if e.Detail != "" {
			s += " (" + e.Code + ": " + e.Detail + ")"
		}
		return s
	}
	return err.Error()
}
