// Package postgres is the PostgreSQL implementation of latchkey.Store, for running more than one
// Latchkey node against a shared database. It speaks hand-written SQL through pgx; the schema
// lives in embedded, numbered migrations that Open applies.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// Store is a latchkey.Store on a PostgreSQL connection pool. It is safe for concurrent use.
type Store struct {
	pool *dbPool
}

var _ latchkey.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or a libpq keyword/value string),
// brings its schema up to date and returns the store. Several nodes may open the same database
// at once: migrations run under an advisory lock.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		// Every time leaves the store in UTC, whatever the session's time zone.
		conn.TypeMap().RegisterType(&pgtype.Type{
			Name:  "timestamptz",
			OID:   pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	s := &Store{pool: &dbPool{Pool: pool}}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes every connection of the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return storeError(s.pool.Ping(ctx), "ping database")
}

// Heartbeat records that node wrote at time at: a real write, which fails when the database
// cannot be reached or written.
func (s *Store) Heartbeat(ctx context.Context, node string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO heartbeats (node, at) VALUES ($1, $2)
		ON CONFLICT (node) DO UPDATE SET at = excluded.at`, node, dbTime(at))
	return storeError(err, "write heartbeat")
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the advisory lock key that serializes migrations. Any constant will do, as
// long as nothing else in the database uses it.
const migrationLock int64 = 0x3b5f_7a1c_e2d4_9061

// migrate applies the migrations the database lacks, all in one transaction. The transaction
// first takes an advisory lock, so nodes starting together apply them one after another and the
// later ones find nothing left to do. A database that a newer program migrated past the newest
// embedded migration is refused, as the SQLite store does, and nothing is applied.
func (s *Store) migrate(ctx context.Context) error {
	list, err := sqlstore.Migrations(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("list applied migrations: %w", err)
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return fmt.Errorf("list applied migrations: %w", err)
		}
		if err := sqlstore.CheckNotNewer(applied, list); err != nil {
			return err
		}
		for _, m := range list {
			if slices.Contains(applied, m.Version) {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("record migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	return nil
}

// storeError turns a database error into what the latchkey.Store contract promises (see
// sqlstore.Driver.MapError): ErrNotFound for a missing row or a reference to a missing row,
// ErrConflict for a taken unique value, latchkey.Unavailable when the database cannot be reached
// or written right now (see unavailable), and otherwise the error wrapped with what was being
// done ("find user").
func storeError(err error, doing string) error { return driver.MapError(doing, err) }

// driver is what sqlstore needs to know of pgx's errors.
var driver = sqlstore.Driver{NoRows: pgx.ErrNoRows, Constraint: constraint, Unavailable: unavailable}

// constraint maps a broken constraint: unique to latchkey.ErrConflict, foreign key to
// latchkey.ErrNotFound; nil for any other error.
func constraint(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return latchkey.ErrConflict
		case "23503": // foreign_key_violation
			return latchkey.ErrNotFound
		}
	}
	return nil
}

// unavailable reports whether err says the database cannot be reached or written right now,
// rather than that a request or the program is wrong: no connection could be made (refused,
// timed out, the server starting up or shutting down), the connection broke mid-query, the pool
// is closed, or the server answered with a connection, shutdown or resource SQLSTATE. A request
// whose own context was cancelled is not an outage.
func unavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		c := pgErr.Code
		return strings.HasPrefix(c, "08") || // connection_exception
			strings.HasPrefix(c, "57P") || // admin_shutdown, crash_shutdown, cannot_connect_now, ...
			c == "53100" || c == "53300" || // disk_full, too_many_connections
			c == "25006" // read_only_sql_transaction: a standby, or a primary turned read-only
	}
	var netErr net.Error
	return pgconn.SafeToRetry(err) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &netErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		strings.Contains(err.Error(), "closed pool")
}

// dbTime returns t as the database keeps it: in UTC, to the microsecond.
func dbTime(t time.Time) time.Time { return sqlstore.Round(t) }

// dbTimePtr is dbTime for optional times.
func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}

// exists reports whether query, a SELECT EXISTS with one argument, finds a row. Methods use it
// after a conditional UPDATE changed nothing, to tell a missing row from a refused change.
func (s *Store) exists(ctx context.Context, query, arg string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, query, arg).Scan(&ok)
	return ok, storeError(err, "check existence")
}
