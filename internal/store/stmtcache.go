package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements per pool, keyed by query text. On SQLite, preparing (parsing and
// planning) costs more than running most of webnet's statements, so reusing them halves the
// cost of a typical transaction. PostgreSQL's pgx driver already caches prepared statements per
// connection, so the cache is used for SQLite only.
//
// The write pool has a single connection, held by the transaction while it runs: a statement
// cannot be prepared on the pool then. A statement first met inside a transaction therefore
// runs unprepared once and is prepared before the next transaction begins, while the
// connection is free; database/sql then reuses it inside transactions on that connection.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	wanted map[string]bool
	max    int
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, wanted: map[string]bool{}, max: 512}
}

// get returns the prepared statement of query, or nil to run it unprepared: inside a
// transaction when it is not prepared yet, or when the cache is full (queries built with
// variable IN lists could otherwise grow it without bound).
func (c *stmtCache) get(ctx context.Context, query string, inTx bool) (*sql.Stmt, error) {
	c.mu.Lock()
	if st, ok := c.m[query]; ok {
		c.mu.Unlock()
		return st, nil
	}
	if len(c.m)+len(c.wanted) >= c.max {
		c.mu.Unlock()
		return nil, nil
	}
	if inTx {
		c.wanted[query] = true
		c.mu.Unlock()
		return nil, nil
	}
	c.mu.Unlock()
	// Read pool: preparing takes any free connection; no lock held meanwhile.
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, dup := c.m[query]; dup {
		st.Close()
		return old, nil
	}
	c.m[query] = st
	return st, nil
}

// prepareWanted prepares the statements transactions met unprepared; InTx calls it before
// beginning, while the write connection is free.
// The lock is not held while preparing: preparing waits for the write connection, which a
// transaction calling get may hold.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	c.mu.Lock()
	if len(c.wanted) == 0 {
		c.mu.Unlock()
		return
	}
	queries := make([]string, 0, len(c.wanted))
	for q := range c.wanted {
		queries = append(queries, q)
	}
	clear(c.wanted)
	c.mu.Unlock()
	for _, q := range queries {
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue // it runs unprepared and reports its own error
		}
		c.mu.Lock()
		if _, dup := c.m[q]; dup {
			st.Close()
		} else {
			c.m[q] = st
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	clear(c.m)
}

// prepared returns the cached statement for query bound to the Q's pool or transaction, or
// nil to run it unprepared.
func (q Q) prepared(ctx context.Context, query string) *sql.Stmt {
	if q.cache == nil {
		return nil
	}
	st, err := q.cache.get(ctx, query, q.tx != nil)
	if err != nil || st == nil {
		return nil // a statement that does not prepare runs unprepared and reports its own error
	}
	if q.tx != nil {
		return q.tx.StmtContext(ctx, st)
	}
	return st
}
