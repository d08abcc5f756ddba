package sqlite

import (
	"context"
	"database/sql"
	"sync"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// pool is a *sql.DB that prepares each distinct query once and reuses the statement: parsing
// SQL was a sixth of a passkey sign-in's CPU before (see docs/performance.md).
type pool struct {
	*sql.DB
	stmts sync.Map // query → *sql.Stmt
	// writer marks the writer pool, whose single-statement writes carry the context's audit
	// events (latchkey.WithAuditEvent) and outbox changes (latchkey.QueueMail) in their
	// transaction.
	writer bool
}

func (p *pool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := p.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := p.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := p.stmts.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// ExecContext runs query through its prepared statement.
func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if p.writer && latchkey.CarriesRecords(ctx) {
		return p.execAudited(ctx, query, args...)
	}
	s, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// QueryContext runs query through its prepared statement.
func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// QueryRowContext runs query through its prepared statement.
func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := p.stmt(ctx, query)
	if err != nil {
		// Let the plain path report the error through Row.Scan.
		return p.DB.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// Close closes the cached statements and the pool.
func (p *pool) Close() error {
	p.stmts.Range(func(_, s any) bool { s.(*sql.Stmt).Close(); return true })
	return p.DB.Close()
}

// txn is a write transaction that uses the writer's prepared statements. The writer has one
// connection, which the transaction holds, so a statement not yet prepared cannot be prepared
// now: it runs unprepared and is prepared after the transaction ends (see Store.write).
type txn struct {
	*sql.Tx
	p       *pool
	pending []string
}

func (t *txn) cached(query string) *sql.Stmt {
	if s, ok := t.p.stmts.Load(query); ok {
		return s.(*sql.Stmt)
	}
	t.pending = append(t.pending, query)
	return nil
}

// ExecContext runs query in the transaction, through its prepared statement when there is one.
func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.cached(query); s != nil {
		return t.Tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs query in the transaction, through its prepared statement when there is one.
func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.cached(query); s != nil {
		return t.Tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query in the transaction, through its prepared statement when there is one.
func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.cached(query); s != nil {
		return t.Tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// prepare prepares the statements a finished transaction ran unprepared.
func (t *txn) prepare(ctx context.Context) {
	for _, q := range t.pending {
		_, _ = t.p.stmt(ctx, q) // a failure here only means the next use is unprepared again
	}
}
