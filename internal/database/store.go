package database

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// store is what differs between the two databases the service can keep its data in: SQLite
// (a file, the default) and PostgreSQL (a server, shared by any number of replicas). The rest
// of the package (statements, transactions, spans, metrics, faults) is the same for both and
// goes through database/sql; a store opens the pool and says how its SQL dialect, its plans,
// its size accounting and its locks work.
type store interface {
	// name is the store's name in /health and logs: "sqlite" or "postgresql".
	name() string
	// system is the db.system.name attribute of every span.
	system() attribute.KeyValue
	// location says where the data is, as log attributes (never a password).
	location() []any
	// open returns the pool, at most maxConns connections. It need not connect yet.
	open(maxConns int) (*sql.DB, error)

	// beginSeeding starts the seeding transaction on conn, holding the lock that keeps every
	// other process from seeding at the same time.
	beginSeeding(ctx context.Context, conn *sql.Conn) error
	// seedTableExists reports whether pillars_seed exists (the data was seeded, or is being).
	seedTableExists(ctx context.Context, conn *sql.Conn) (bool, error)
	// schema creates the tables; indexes builds the indexes once the rows are in.
	schema() string
	indexes() string
	// rebind turns the '?' placeholders the package writes into the store's own.
	rebind(sql string) string
	// statement is the store's text of one of the service's statements, given SQLite's.
	statement(name, sqliteText string) string
	// explain returns the store's real plan for a statement, one step per line.
	explain(ctx context.Context, db *sql.DB, text string) (string, error)
	// tableSizes is the query of (table, bytes of the table with its indexes) rows.
	tableSizes() string

	// holdLock is one hold of the lock_hold fault: a real writer holds the lock readers
	// need for d (or until ctx ends), then lets go and leaves the data as it was.
	holdLock(ctx context.Context, db *sql.DB, d time.Duration) error
	// claimLock is the statement a request's transaction runs while the lock is held so that
	// it waits for it ("" when readers wait for the holder anyway).
	claimLock() string
}

// newStore picks the store cfg names: PostgreSQL when it has a URL, SQLite otherwise.
func newStore(cfg Config) (store, error) {
	if cfg.URL != "" {
		return newPostgresStore(cfg.URL)
	}
	return newSQLiteStore(cfg.Path)
}

// dollarPlaceholders rewrites '?' placeholders as $1, $2, ...: PostgreSQL's. None of the
// package's statements has a '?' inside a literal.
func dollarPlaceholders(sql string) string {
	if !strings.Contains(sql, "?") {
		return sql
	}
	var b strings.Builder
	b.Grow(len(sql) + strings.Count(sql, "?")*3)
	n := 0
	for _, r := range sql {
		if r != '?' {
			b.WriteRune(r)
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}
