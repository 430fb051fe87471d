package database

import (
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

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

// openDB opens the SQLite file at path with a pool of at most maxConns connections. Nothing
// touches the file until the first statement.
func openDB(path string, maxConns int) (*sql.DB, error) {
	// The driver reads its parameters after the first '?': a path holding one would be cut.
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("database: path %q must not contain '?'", path)
	}
	q := url.Values{"_pragma": connPragmas}
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("database: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(maxConns)
	// Idle connections are kept: reopening one costs a file open, the pragmas and re-preparing
	// every statement on it.
	db.SetMaxIdleConns(maxConns)
	return db, nil
}
