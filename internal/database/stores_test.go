package database

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// testStore is one of the stores the service runs on, with what its tests need to know about
// it: where a fresh database comes from, and what the store's own words for the same thing are
// (its placeholders, its plans, its lock error).
type testStore struct {
	name string // the subtest's name, the /health dependency and db.system.name
	// seeded is a new copy of the seeded template; empty a database with nothing in it yet.
	seeded, empty func(t testing.TB) Config
	// placeholder is how the first parameter reads in db.query.text.
	placeholder string
	// The plan of user_by_id: the user found by primary key, the user's orders by orders_user,
	// or, without that index, by reading all of orders.
	primaryKeyPlan, indexPlan, fullScanPlan string
	// busyCause is in the logged error of a request that gave up waiting for a lock.
	busyCause string
	// claimsLock: requests claim the lock themselves while lock_hold is on (SQLite's readers
	// never wait for a writer).
	claimsLock bool
	// indexExists counts the indexes of that name, from the store's catalogue.
	indexExists func(t testing.TB, db *sql.DB, name string) bool
	// storage is the size of a page (every table size is a number of them) and of the whole
	// database, from the store's own accounting.
	storage func(t testing.TB, db *sql.DB) (pageSize, total float64)
}

var sqliteTest = testStore{
	name:   "sqlite",
	seeded: func(t testing.TB) Config { return Config{Path: seededCopy(t)} },
	empty: func(t testing.TB) Config {
		return Config{Path: filepath.Join(t.TempDir(), "fresh.db")}
	},
	placeholder:    "?",
	primaryKeyPlan: "SEARCH u USING INTEGER PRIMARY KEY",
	indexPlan:      "USING INDEX orders_user",
	fullScanPlan:   "SCAN o",
	busyCause:      "SQLITE_BUSY",
	claimsLock:     true,
	indexExists: func(t testing.TB, db *sql.DB, name string) bool {
		return scanInt(t, db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = '"+name+"'") > 0
	},
	storage: func(t testing.TB, db *sql.DB) (float64, float64) {
		var pages, pageSize float64
		if err := db.QueryRow("SELECT page_count, page_size FROM pragma_page_count(), pragma_page_size()").Scan(&pages, &pageSize); err != nil {
			t.Fatal(err)
		}
		return pageSize, pages * pageSize
	},
}

var postgresTest = testStore{
	name:   "postgresql",
	seeded: func(t testing.TB) Config { return Config{URL: pg.Database(t, pgTemplate)} },
	empty:  func(t testing.TB) Config { return Config{URL: pg.Database(t, "")} },

	placeholder:    "$1",
	primaryKeyPlan: "Index Scan using users_pkey on users u",
	indexPlan:      "Bitmap Index Scan on orders_user",
	fullScanPlan:   "Seq Scan on orders o",
	busyCause:      "lock timeout (SQLSTATE 55P03)",
	indexExists: func(t testing.TB, db *sql.DB, name string) bool {
		return scanInt(t, db, "SELECT count(*) FROM pg_indexes WHERE indexname = '"+name+"'") > 0
	},
	storage: func(t testing.TB, db *sql.DB) (float64, float64) {
		var pageSize, total float64
		if err := db.QueryRow("SELECT current_setting('block_size')::int, pg_database_size(current_database())").Scan(&pageSize, &total); err != nil {
			t.Fatal(err)
		}
		return pageSize, total
	},
}

// eachStore runs a test once on each store, as subtests named after them.
func eachStore(t *testing.T, test func(t *testing.T, ts testStore)) {
	for _, ts := range []testStore{sqliteTest, postgresTest} {
		t.Run(ts.name, func(t *testing.T) { test(t, ts) })
	}
}

// start starts a service on a copy of the store's seeded template, unless cfg names a database.
func (ts testStore) start(t testing.TB, cfg Config) *harness {
	t.Helper()
	if cfg.Path == "" && cfg.URL == "" {
		loc := ts.seeded(t)
		cfg.Path, cfg.URL = loc.Path, loc.URL
	}
	return start(t, cfg)
}

func scanInt(t testing.TB, db *sql.DB, query string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
