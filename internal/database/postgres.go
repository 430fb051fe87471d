package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/pillars-o11y/pillars/internal/faults"
)

// postgresStore keeps the data in a PostgreSQL database, which any number of replicas of the
// service share. The driver is pgx, used through database/sql (pgx's stdlib package): the pool
// is database/sql's, the one the SQLite store has too, so the pool gauge, the pool_size fault
// (a live resize, which pgxpool cannot do) and the transactions are one code for both stores.
// pgx opens one server connection per pooled connection and keeps none of its own.
type postgresStore struct {
	config *pgx.ConnConfig
}

// The connection settings the service relies on, sent when each connection starts:
//   - lock_timeout: a statement waits at most this long for a lock another session holds, then
//     fails with lock_not_available (55P03), as SQLite's busy_timeout does; a URL may set
//     another (?lock_timeout=5s);
//   - plan_cache_mode: the prepared statements run the generic plan, the one built without the
//     parameters' values, which is also the plan EXPLAIN records on query_planning: the plan a
//     span shows is the plan that ran;
//   - application_name: the connections are the service's in pg_stat_activity.
var (
	postgresDefaults = map[string]string{"lock_timeout": "1s", "application_name": "pillars-database"}
	postgresForced   = map[string]string{"plan_cache_mode": "force_generic_plan"}
)

// postgresConnectTimeout bounds a connection attempt when the URL sets no connect_timeout: a
// server that drops packets otherwise holds a request for the kernel's TCP timeout, minutes.
const postgresConnectTimeout = 10 * time.Second

// newPostgresStore reads the URL. Its password appears in no error: url.Parse's errors quote
// the whole URL, so they are not passed on, and pgx's own errors redact it.
func newPostgresStore(raw string) (*postgresStore, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("database: the PostgreSQL URL is not a valid URL: write it as postgres://user:password@host:5432/database, with special characters of the password percent-encoded")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("database: the PostgreSQL URL must start with postgres:// or postgresql://, not %q", u.Scheme+"://")
	}
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("database: PostgreSQL URL: %w", err)
	}
	for k, v := range postgresDefaults {
		if _, set := cfg.RuntimeParams[k]; !set {
			cfg.RuntimeParams[k] = v
		}
	}
	for k, v := range postgresForced {
		cfg.RuntimeParams[k] = v
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = postgresConnectTimeout
		cfg.DialFunc = (&net.Dialer{Timeout: postgresConnectTimeout}).DialContext
	}
	return &postgresStore{config: cfg}, nil
}

func (p *postgresStore) name() string               { return "postgresql" }
func (p *postgresStore) system() attribute.KeyValue { return semconv.DBSystemNamePostgreSQL }

// serverAttributes name the server a call goes to: its address and port, and the database
// as db.namespace (the conventions' schema qualifier would need a query per connection).
func (p *postgresStore) serverAttributes() []attribute.KeyValue {
	return []attribute.KeyValue{semconv.ServerAddress(p.config.Host), semconv.ServerPort(int(p.config.Port)),
		semconv.DBNamespace(p.config.Database)}
}

// location names the server and database, never the password.
func (p *postgresStore) location() []any {
	return []any{"server", net.JoinHostPort(p.config.Host, strconv.Itoa(int(p.config.Port))),
		"database_name", p.config.Database, "user", p.config.User}
}

func (p *postgresStore) open(maxConns int) (*sql.DB, error) {
	db := stdlib.OpenDB(*p.config)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	// A replica that goes quiet hands its connections back: the server's max_connections is
	// shared by every replica.
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// seedLockKey is the advisory lock seeding takes: any number, the same in every replica.
const seedLockKey = 0x70696c6c // "pill"

// beginSeeding opens the transaction and takes the seeding lock in it. A replica that starts
// while another seeds waits for that seed to commit (however long it takes: no lock_timeout),
// then finds the data there. The lock goes with the transaction, also when its process dies.
func (p *postgresStore) beginSeeding(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return err
	}
	_, err := conn.ExecContext(ctx, "SET LOCAL lock_timeout = 0; SELECT pg_advisory_xact_lock("+strconv.Itoa(seedLockKey)+")")
	if err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	}
	return err
}

func (p *postgresStore) seedTableExists(ctx context.Context, conn *sql.Conn) (bool, error) {
	var exists bool
	err := conn.QueryRowContext(ctx, "SELECT to_regclass('pillars_seed') IS NOT NULL").Scan(&exists)
	return exists, err
}

func (p *postgresStore) schema() string { return postgresSchema }

// indexes: the planner's statistics come from ANALYZE, which autovacuum would run only some
// time later; the first plans should already know the tables.
func (p *postgresStore) indexes() string { return indexes + "\nANALYZE;" }

func (p *postgresStore) rebind(sql string) string { return dollarPlaceholders(sql) }

// postgresStatements are the statements whose SQLite text PostgreSQL refuses.
var postgresStatements = map[string]string{
	// PostgreSQL selects only what is grouped or depends on a grouped primary key: grouped by
	// p.id (equal to o.product_id), the product's name and category may be selected.
	"top_products": `
SELECT p.id AS product_id, p.name, p.category,
       sum(o.quantity) AS units_sold, sum(o.total_cents) AS revenue_cents
FROM orders AS o
JOIN products AS p ON p.id = o.product_id
GROUP BY p.id
ORDER BY units_sold DESC, p.id
LIMIT $1`,
}

func (p *postgresStore) statement(name, sqliteText string) string {
	if text, ok := postgresStatements[name]; ok {
		return oneLine(text)
	}
	return dollarPlaceholders(sqliteText)
}

// explain returns PostgreSQL's plan for text as EXPLAIN prints it, without the cost estimates:
// the plan's shape is what tells a scan from an index lookup, and without them the longest plan
// stays within a span attribute's default limit of 1024 characters. EXPLAIN cannot take a
// statement with parameters, so the statement is prepared under a name and its generic plan
// explained with NULL for each parameter: with plan_cache_mode=force_generic_plan that plan is
// built without the values (a NULL does not fold a condition away), and it is the plan the
// service's prepared statements run.
func (p *postgresStore) explain(ctx context.Context, db *sql.DB, text string) (string, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PREPARE pillars_explain AS "+text); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DEALLOCATE pillars_explain") //nolint:errcheck // the connection is reused either way
	q := "EXPLAIN (COSTS OFF) EXECUTE pillars_explain"
	if n := strings.Count(text, "$"); n > 0 {
		q += "(" + strings.TrimSuffix(strings.Repeat("NULL, ", n), ", ") + ")"
	}
	// The simple protocol: a one-off statement, not worth a place in pgx's statement cache.
	rows, err := conn.QueryContext(ctx, q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"), rows.Err()
}

// tableSizes is PostgreSQL's own accounting: pg_total_relation_size counts the table's pages,
// its indexes' and its TOAST data's.
func (p *postgresStore) tableSizes() string {
	return `
SELECT c.relname, pg_total_relation_size(c.oid)
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname = current_schema()`
}

// lockedTables are the tables the lock holder locks: every one a request reads.
const lockedTables = "users, products, warehouses, inventory, orders"

// holdLock locks every table a request reads in ACCESS EXCLUSIVE mode, as a migration's
// ALTER TABLE or a batch job's LOCK TABLE does, for d. A request's statement waits behind it
// up to lock_timeout and then fails with PostgreSQL's own lock_not_available. The holder
// itself waits for the requests already reading to finish (no lock_timeout of its own).
func (p *postgresStore) holdLock(ctx context.Context, db *sql.DB, d time.Duration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // nothing to keep
	if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = 0; LOCK TABLE "+lockedTables+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		return err
	}
	_ = faults.Sleep(ctx, d)
	return nil
}

// claimLock: PostgreSQL's readers wait for an exclusive lock themselves.
func (p *postgresStore) claimLock() string { return "" }
