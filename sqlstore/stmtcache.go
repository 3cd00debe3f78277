package sqlstore

import (
	"context"
	"database/sql"
)

// MaxCachedStmts bounds a statement cache. Queries are a fixed set of texts,
// but those with IN lists come in one text per list length (claims and
// completions take up to 256), so a few hundred texts are normal.
const MaxCachedStmts = 2048

// ConnStmts is a Querier over one *sql.Conn that prepares each query text
// once and keeps it for the connection's life. Parsing and planning a
// statement costs SQLite (through modernc.org/sqlite, which has no cache of
// its own) more than running the small statements agenthooks uses, so a
// connection that runs the same statements all day should prepare them once.
// It is not safe for concurrent use: it belongs to the goroutine that owns
// the connection (the SQLite writer).
type ConnStmts struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

var _ Querier = (*ConnStmts)(nil)

// NewConnStmts returns a statement cache over conn.
func NewConnStmts(conn *sql.Conn) *ConnStmts {
	return &ConnStmts{conn: conn, stmts: make(map[string]*sql.Stmt)}
}

// stmt returns the prepared statement for query, preparing it the first
// time; nil (and no error) when the cache is full.
func (c *ConnStmts) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	if len(c.stmts) >= MaxCachedStmts {
		return nil, nil
	}
	st, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// ExecContext runs query's prepared statement.
func (c *ConnStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.conn.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

// QueryContext runs query's prepared statement.
func (c *ConnStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.conn.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs query's prepared statement.
func (c *ConnStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, query)
	if err != nil || st == nil {
		// The connection reports the same error through a Row.
		return c.conn.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// Close closes the prepared statements (not the connection).
func (c *ConnStmts) Close() error {
	var first error
	for q, st := range c.stmts {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.stmts, q)
	}
	return first
}
