// Package sqlite is Latchkey's store on a single SQLite file, through the pure-Go
// modernc.org/sqlite driver, with hand-written SQL and embedded migrations.
//
// The file is in WAL mode and is reached through two connection pools: one writer connection,
// whose transactions begin IMMEDIATE so they take the write lock up front and never fail to
// upgrade a read lock, and several reader connections, which WAL lets run alongside the writer.
// Writes therefore queue in Go rather than spin on SQLITE_BUSY, and reads never wait for them.
//
// Every connection runs with synchronous=FULL: a commit returns only after the WAL is synced to
// the disk, so what Latchkey acknowledges survives a power cut, an operating-system crash or a
// file system that fails and turns read-only. (NORMAL, which syncs only at checkpoints, lost
// acknowledged sign-ins that way.) Group commit (batch.go) shares one sync among the sign-ins
// that arrive together.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

var _ latchkey.Store = (*Store)(nil)

// busyTimeout is how long a connection waits for a lock held by another process (a second
// Latchkey on the same file, a backup) before giving up.
const busyTimeout = 10 * time.Second

// Store is a latchkey.Store on one SQLite file. It is safe for concurrent use.
type Store struct {
	w       *pool // a single connection; every write goes through it
	r       *pool // several read-only connections
	signIns *signInBatcher
}

// Open opens, creating if need be, the SQLite database at path (a file name, not a URI) and
// brings its schema up to date. Opening the same file again, or from two processes, is safe.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || strings.Contains(path, ":memory:") {
		return nil, fmt.Errorf("open sqlite: %q is not a plain file name", path)
	}
	// synchronous(FULL) on the readers too: the last connection to close checkpoints the WAL,
	// and that may be a reader.
	pragmas := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)", busyTimeout.Milliseconds())

	w, err := sql.Open("sqlite", path+"?_txlock=immediate&"+pragmas+"&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, fmt.Errorf("open sqlite writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: &pool{DB: w, writer: true}}

	// The writer connects first, so that it alone switches a new file to WAL.
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if mode != "wal" {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: journal mode is %q, want wal", path, mode)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}

	readers := max(4, runtime.GOMAXPROCS(0))
	r, err := sql.Open("sqlite", path+"?"+pragmas+"&_pragma=query_only(1)")
	s.r = &pool{DB: r}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	s.r.SetMaxOpenConns(readers)
	s.r.SetMaxIdleConns(readers)
	if err := s.r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	s.signIns = newSignInBatcher(s)
	return s, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	if s.signIns != nil {
		s.signIns.close() // later sign-ins are refused as unavailable
	}
	var errR error
	if s.r != nil {
		errR = s.r.Close()
	}
	return errors.Join(s.w.Close(), errR)
}

// Ping reports whether the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return wrap("ping sqlite", err)
	}
	return nil
}

// Heartbeat records that node wrote at time at: a real write through the writer connection,
// which fails as every other write does when the file cannot be written.
func (s *Store) Heartbeat(ctx context.Context, node string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO heartbeats (node, at) VALUES (?, ?)
		ON CONFLICT (node) DO UPDATE SET at = excluded.at`, node, micros(at))
	return wrap("write heartbeat", err)
}

//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies, in one IMMEDIATE transaction, the embedded migrations not yet recorded in
// schema_migrations, in the order of the number that starts their names.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	// Applied versions as a set, not just the highest: a migration numbered below one already
	// applied (0004 landed after 0005) must still run.
	applied := map[int]bool{}
	rows, err := tx.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate sqlite: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}

	list, err := sqlstore.Migrations(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	if err := sqlstore.CheckNotNewer(slices.Collect(maps.Keys(applied)), list); err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	for _, m := range list {
		if applied[m.Version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate sqlite %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, micros(time.Now())); err != nil {
			return fmt.Errorf("migrate sqlite %s: %w", m.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	return nil
}

// write runs fn in one IMMEDIATE transaction on the writer connection and commits it when fn
// returns nil, with the audit events and outbox changes the context carries
// (latchkey.WithAuditEvent, latchkey.QueueMail, latchkey.CancelMail). fn's error
// is returned as it is.
func (s *Store) write(ctx context.Context, verb string, fn func(tx *txn) error) error {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap(verb, err)
	}
	tx := &txn{Tx: sqlTx, p: s.w}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := insertRecords(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return wrap(verb, err)
	}
	tx.prepare(ctx)
	return nil
}

// wrap maps a driver error to the store errors (see sqlstore.Driver.MapError): a broken unique
// or primary key constraint to latchkey.ErrConflict; no row, or a reference to a missing row, to
// latchkey.ErrNotFound; a file that cannot be read or written now to latchkey.Unavailable (see
// unavailable). Any other error is wrapped with verb.
func wrap(verb string, err error) error { return driver.MapError(verb, err) }

// driver is what sqlstore needs to know of the SQLite driver's errors.
var driver = sqlstore.Driver{NoRows: sql.ErrNoRows, Constraint: constraint, Unavailable: unavailable}

// constraint maps a broken constraint: unique or primary key to latchkey.ErrConflict, foreign
// key to latchkey.ErrNotFound; nil for any other error.
func constraint(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return latchkey.ErrConflict
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return latchkey.ErrNotFound
		}
	}
	return nil
}

// unavailable reports whether err says the database cannot be reached or written right now,
// rather than that a request or the program is wrong: an I/O error, a full disk, a read-only or
// vanished file, a lock another process held past busyTimeout, or a store being closed.
func unavailable(err error) bool {
	if errors.Is(err, errStoreClosed) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	// database/sql does not export these two.
	if msg := err.Error(); strings.Contains(msg, "sql: database is closed") || strings.Contains(msg, "sql: statement is closed") {
		return true
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_BUSY, sqlite3.SQLITE_PERM:
		return true
	}
	return false
}

// affected returns latchkey.ErrNotFound when res changed no row.
func affected(verb string, res sql.Result, err error) error {
	if err != nil {
		return wrap(verb, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(verb, err)
	}
	if n == 0 {
		return latchkey.ErrNotFound
	}
	return nil
}

// rowsAffected returns how many rows res changed.
func rowsAffected(verb string, res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, wrap(verb, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(verb, err)
	}
	return int(n), nil
}

// conflictIfExists explains why a conditional update changed no row: latchkey.ErrConflict when
// the row with id is in table, so the condition failed, and latchkey.ErrNotFound when it is not.
func conflictIfExists(ctx context.Context, tx *txn, table, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM "+table+" WHERE id = ?", id).Scan(&one)
	if err == nil {
		return latchkey.ErrConflict
	}
	return wrap("find "+table, err)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// list runs query on the readers and scans every row with scan.
func list[T any](ctx context.Context, db *pool, verb string, scan func(scanner) (*T, error), query string, args ...any) ([]*T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(verb, err)
	}
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, wrap(verb, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(verb, err)
	}
	return out, nil
}

// micros is how times are stored: unix microseconds, UTC.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is the inverse of micros.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros stores an optional time as NULL or microseconds.
func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(*t), Valid: true}
}

// fromNullMicros is the inverse of nullMicros.
func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}
