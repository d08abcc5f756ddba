package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policyadmin"
	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/signin"
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
	return nil, usageError("--database (%s) must be empty, sqlite:PATH or postgres://..., not %q", envName("database"), redactedURL(db))
}

// redactedURL returns db with any password replaced by "xxxxx", so that a refused database URL
// can be shown without its secret; a value that is not a URL is shown only up to its scheme.
func redactedURL(db string) string {
	if u, err := url.Parse(db); err == nil {
		return u.Redacted()
	}
	scheme, _, _ := strings.Cut(db, ":")
	return scheme + ":..."
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

// withStore runs fn with the opened store and an auth service on it.
func (c *command) withStore(ctx context.Context, fn func(latchkey.Store, *signin.Service) error) error {
	st, err := c.store.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st, signin.New(st, nil, slog.New(slog.NewTextHandler(io.Discard, nil))))
}

// withDirectory is withStore for commands that change users and groups.
func (c *command) withDirectory(ctx context.Context, fn func(latchkey.Store, *directory.Service) error) error {
	return c.withStore(ctx, func(st latchkey.Store, svc *signin.Service) error {
		return fn(st, directory.New(svc))
	})
}

// withPolicyAdmin is withStore for commands that change policies.
func (c *command) withPolicyAdmin(ctx context.Context, fn func(latchkey.Store, *policyadmin.Service) error) error {
	return c.withStore(ctx, func(st latchkey.Store, svc *signin.Service) error {
		return fn(st, policyadmin.New(svc))
	})
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
