package database

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// fingerprint summarises a whole database file: row counts and checksums over every table.
func fingerprint(t *testing.T, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		"SELECT count(*), max(id), sum(length(name) * id), sum(created_at % 100003), group_concat(DISTINCT tier) FROM users",
		"SELECT count(*), max(id), sum(price_cents * id), sum(length(name || category || sku)) FROM products",
		"SELECT count(*), group_concat(name) FROM warehouses",
		"SELECT count(*), sum(quantity * product_id * warehouse_id) FROM inventory",
		"SELECT count(*), max(id), sum(user_id * product_id), sum(total_cents), sum(created_at % 100003) FROM orders",
	} {
		var cols [5]any
		ptrs := []any{&cols[0], &cols[1], &cols[2], &cols[3], &cols[4]}
		n := strings.Count(q, ",") + 1
		if err := db.QueryRow(q).Scan(ptrs[:n]...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		fmt.Fprintln(&b, cols[:n]...)
	}
	return b.String()
}

// The first start on a new file seeds it, and two fresh files are identical: user 123 is the
// same person everywhere.
func TestSeedIsDeterministic(t *testing.T) {
	fresh := start(t, Config{Path: filepath.Join(t.TempDir(), "fresh.db")})
	if l := fresh.logsWithMsg(t, "Database created and seeded"); len(l) != 1 {
		t.Errorf("a new file was not seeded: %v", l)
	}
	template := start(t, Config{}) // the test binary's seed, made by another seeding run

	var a, b User
	fresh.get(t, "/db/user/123").decode(t, 200, &a)
	template.get(t, "/db/user/123").decode(t, 200, &b)
	if a != b {
		t.Errorf("user 123 differs between two seeded files:\n%+v\n%+v", a, b)
	}
	if fa, fb := fingerprint(t, fresh.svc.db), fingerprint(t, template.svc.db); fa != fb {
		t.Errorf("seeded files differ:\n%s\n---\n%s", fa, fb)
	}

	counts := map[string]int{"users": MaxUserID, "products": MaxProductID, "warehouses": 4, "inventory": 4 * MaxProductID, "orders": seedOrders}
	for table, want := range counts {
		var n int
		if err := fresh.svc.db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%s has %d rows, want %d", table, n, want)
		}
	}
	var maxUser, maxProduct int
	if err := fresh.svc.db.QueryRow("SELECT (SELECT max(id) FROM users), (SELECT max(id) FROM products)").Scan(&maxUser, &maxProduct); err != nil {
		t.Fatal(err)
	}
	if maxUser != MaxUserID || maxProduct != MaxProductID {
		t.Errorf("ids go up to user %d and product %d, want %d and %d", maxUser, maxProduct, MaxUserID, MaxProductID)
	}
}

// Opening a file that is already seeded uses it as it is.
func TestReopenDoesNotReseed(t *testing.T) {
	path := seededCopy(t)
	first := start(t, Config{Path: path})
	if _, err := first.svc.db.Exec("UPDATE users SET name = 'Changed Since Seeding' WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if err := first.svc.Close(); err != nil {
		t.Fatal(err)
	}

	again := start(t, Config{Path: path})
	var u User
	again.get(t, "/db/user/1").decode(t, 200, &u)
	if u.Name != "Changed Since Seeding" {
		t.Errorf("user 1 is %q after reopening: the file was reseeded", u.Name)
	}
	if l := again.logsWithMsg(t, "Database opened"); len(l) != 1 {
		t.Errorf("want a %q log line, have %v", "Database opened", l)
	}
	if l := again.logsWithMsg(t, "Database created and seeded"); len(l) != 0 {
		t.Errorf("reopening logged a seed: %v", l)
	}
}

// A file seeded with another schema version is refused, not misread.
func TestRefusesOtherSchemaVersion(t *testing.T) {
	path := seededCopy(t)
	db, err := openDB(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE pillars_seed SET version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	tel := telemetrytest.New(t, "database")
	if _, err := New(context.Background(), Config{Path: path}, tel.Telemetry); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Errorf("New on a version 99 file: %v, want a schema version error", err)
	}
}
