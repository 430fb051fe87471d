package database

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver

	"github.com/pillars-o11y/pillars/internal/faults"
)

// sqliteStore keeps the data in one SQLite file: one process writes it at a time.
type sqliteStore struct {
	path string
}

func newSQLiteStore(path string) (*sqliteStore, error) {
	switch {
	case path == "":
		return nil, fmt.Errorf("database: Config.Path is required")
	case strings.ContainsRune(path, '?'):
		// The driver reads its parameters after the first '?': a path holding one would be cut.
		return nil, fmt.Errorf("database: path %q must not contain '?'", path)
	}
	return &sqliteStore{path: path}, nil
}

func (s *sqliteStore) name() string               { return "sqlite" }
func (s *sqliteStore) system() attribute.KeyValue { return semconv.DBSystemNameSQLite }
func (s *sqliteStore) location() []any            { return []any{"path", s.path} }

// connPragmas are applied by the driver to every connection it opens:
//   - WAL lets readers run while a writer writes, so the pool's connections read concurrently;
//   - busy_timeout makes a connection wait for a lock instead of failing at once, for up to a
//     second: a request that waits longer for a lock is better failed (SQLITE_BUSY) than left
//     to its caller's timeout;
//   - foreign_keys is off by default in SQLite, and the schema declares them;
//   - synchronous=NORMAL is the durable-enough setting WAL is designed for;
//   - temp_store=MEMORY keeps statement journals off disk (seeding was three times slower
//     writing them to temporary files).
var connPragmas = []string{
	"journal_mode(WAL)",
	"busy_timeout(1000)",
	"foreign_keys(1)",
	"synchronous(NORMAL)",
	"temp_store(MEMORY)",
}

// open opens the file with a pool of at most maxConns connections. Nothing touches the file
// until the first statement.
func (s *sqliteStore) open(maxConns int) (*sql.DB, error) {
	q := url.Values{"_pragma": connPragmas}
	db, err := sql.Open("sqlite", s.path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("database: open %s: %w", s.path, err)
	}
	db.SetMaxOpenConns(maxConns)
	// Idle connections are kept: reopening one costs a file open, the pragmas and re-preparing
	// every statement on it.
	db.SetMaxIdleConns(maxConns)
	return db, nil
}

// beginSeeding: BEGIN IMMEDIATE takes the write lock before looking, so two processes starting
// on one new file cannot both seed it.
func (s *sqliteStore) beginSeeding(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	return err
}

func (s *sqliteStore) seedTableExists(ctx context.Context, conn *sql.Conn) (bool, error) {
	var n int
	err := conn.QueryRowContext(ctx,
		"SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'pillars_seed'").Scan(&n)
	return n > 0, err
}

func (s *sqliteStore) schema() string                        { return sqliteSchema }
func (s *sqliteStore) indexes() string                       { return indexes }
func (s *sqliteStore) rebind(sql string) string              { return sql }
func (s *sqliteStore) statement(_, sqliteText string) string { return sqliteText }

// explain returns SQLite's plan for text, one step per line, children indented under their
// parent. The parameters are bound to NULL, which does not change the plan's shape (the
// driver insists on a value for each; none of the statements has a literal '?').
func (s *sqliteStore) explain(ctx context.Context, db *sql.DB, text string) (string, error) {
	rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+text, make([]any, strings.Count(text, "?"))...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	depth := map[int64]int{0: -1}
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int64
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return "", err
		}
		d := depth[parent] + 1
		depth[id] = d
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.Repeat("  ", d))
		b.WriteString(detail)
	}
	return b.String(), rows.Err()
}

// tableSizes sums, per table, the bytes of every page of the table's b-tree and of its
// indexes' b-trees, from SQLite's dbstat virtual table (its own page accounting, so free
// pages and the WAL are not counted). It reads every page, which is why it runs in the
// background and not per scrape.
func (s *sqliteStore) tableSizes() string {
	return `
SELECT s.tbl_name, sum(d.pgsize)
FROM dbstat AS d
JOIN sqlite_schema AS s ON s.name = d.name
GROUP BY s.tbl_name`
}

// holdLock takes the write lock with BEGIN IMMEDIATE and a real write, keeps it for d (or
// until stopped), and rolls back: the data stays as it was. In WAL mode SQLite's readers never
// wait for a writer, so while the fault is on the requests claim the write lock too
// (claimLock): the incident is a service whose every request writes (a last-seen stamp, a view
// counter) meeting a batch job that holds the lock.
func (s *sqliteStore) holdLock(ctx context.Context, db *sql.DB, d time.Duration) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck // nothing to keep
	if _, err := conn.ExecContext(ctx, "UPDATE pillars_seed SET seed = seed"); err != nil {
		return err
	}
	_ = faults.Sleep(ctx, d)
	return nil
}

// claimLock is a write statement that changes nothing, which waits for SQLite's write lock
// like any write.
func (s *sqliteStore) claimLock() string { return "UPDATE pillars_seed SET seed = seed WHERE 0" }
