package database

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"database/sql"

	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// fingerprint summarises a whole database: row counts and checksums over every table, in SQL
// both stores run alike (every sum cast to one integer type).
func fingerprint(t *testing.T, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		"SELECT count(*), max(id), CAST(sum(length(name) * id) AS BIGINT), CAST(sum(created_at % 100003) AS BIGINT), count(DISTINCT tier) FROM users",
		"SELECT count(*), max(id), CAST(sum(price_cents * id) AS BIGINT), CAST(sum(length(name || category || sku)) AS BIGINT) FROM products",
		"SELECT count(*), CAST(sum(length(name) * id) AS BIGINT) FROM warehouses",
		"SELECT count(*), CAST(sum(quantity * product_id * warehouse_id) AS BIGINT) FROM inventory",
		"SELECT count(*), max(id), CAST(sum(user_id * product_id) AS BIGINT), CAST(sum(total_cents) AS BIGINT), CAST(sum(created_at % 100003) AS BIGINT) FROM orders",
	} {
		var cols [5]int64
		ptrs := []any{&cols[0], &cols[1], &cols[2], &cols[3], &cols[4]}
		n := strings.Count(q, ", ") + 1
		if err := db.QueryRow(q).Scan(ptrs[:n]...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		fmt.Fprintln(&b, cols[:n])
	}
	return b.String()
}

// The first start on a new database seeds it, and two fresh databases are identical, on
// either store and across them: user 123 is the same person everywhere.
func TestSeedIsDeterministic(t *testing.T) {
	prints := map[string]string{}
	eachStore(t, func(t *testing.T, ts testStore) {
		fresh := ts.start(t, ts.empty(t))
		if l := fresh.logsWithMsg(t, "Database created and seeded"); len(l) != 1 || l[0]["store"] != ts.name {
			t.Errorf("a new database was not seeded: %v", l)
		}
		template := ts.start(t, Config{}) // the test binary's seed, made by another seeding run

		var a, b User
		fresh.get(t, "/db/user/123").decode(t, 200, &a)
		template.get(t, "/db/user/123").decode(t, 200, &b)
		if a != b {
			t.Errorf("user 123 differs between two seeded databases:\n%+v\n%+v", a, b)
		}
		fa, fb := fingerprint(t, fresh.svc.db), fingerprint(t, template.svc.db)
		if fa != fb {
			t.Errorf("seeded databases differ:\n%s\n---\n%s", fa, fb)
		}
		prints[ts.name] = fa

		counts := map[string]int64{"users": MaxUserID, "products": MaxProductID, "warehouses": 4, "inventory": 4 * MaxProductID, "orders": seedOrders}
		for table, want := range counts {
			if n := scanInt(t, fresh.svc.db, "SELECT count(*) FROM "+table); n != want {
				t.Errorf("%s has %d rows, want %d", table, n, want)
			}
		}
		if maxUser, maxProduct := scanInt(t, fresh.svc.db, "SELECT max(id) FROM users"), scanInt(t, fresh.svc.db, "SELECT max(id) FROM products"); maxUser != MaxUserID || maxProduct != MaxProductID {
			t.Errorf("ids go up to user %d and product %d, want %d and %d", maxUser, maxProduct, MaxUserID, MaxProductID)
		}
	})
	if prints["sqlite"] != prints["postgresql"] {
		t.Errorf("SQLite and PostgreSQL were seeded differently:\n%s\n---\n%s", prints["sqlite"], prints["postgresql"])
	}
}

// Opening a database that is already seeded uses it as it is.
func TestReopenDoesNotReseed(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) {
		loc := ts.seeded(t)
		first := start(t, loc)
		if _, err := first.svc.db.Exec("UPDATE users SET name = 'Changed Since Seeding' WHERE id = 1"); err != nil {
			t.Fatal(err)
		}
		if err := first.svc.Close(); err != nil {
			t.Fatal(err)
		}

		again := start(t, loc)
		var u User
		again.get(t, "/db/user/1").decode(t, 200, &u)
		if u.Name != "Changed Since Seeding" {
			t.Errorf("user 1 is %q after reopening: the database was reseeded", u.Name)
		}
		if l := again.logsWithMsg(t, "Database opened"); len(l) != 1 || l[0]["store"] != ts.name {
			t.Errorf("want a %q log line of store %s, have %v", "Database opened", ts.name, l)
		}
		if l := again.logsWithMsg(t, "Database created and seeded"); len(l) != 0 {
			t.Errorf("reopening logged a seed: %v", l)
		}
	})
}

// A database seeded with another schema version is refused, not misread.
func TestRefusesOtherSchemaVersion(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) {
		loc := ts.seeded(t)
		h := start(t, loc)
		if _, err := h.svc.db.Exec("UPDATE pillars_seed SET version = 99"); err != nil {
			t.Fatal(err)
		}
		if err := h.svc.Close(); err != nil {
			t.Fatal(err)
		}
		tel := telemetrytest.New(t, "database")
		if _, err := New(context.Background(), loc, tel.Telemetry); err == nil || !strings.Contains(err.Error(), "schema version 99") {
			t.Errorf("New on a version 99 database: %v, want a schema version error", err)
		}
	})
}

// Replicas that start at once on one new PostgreSQL database seed it once: one takes the
// seeding lock and seeds, the others wait for it and find the data there.
func TestReplicasStartingTogetherSeedOnce(t *testing.T) {
	loc := postgresTest.empty(t)
	const replicas = 3
	tels := make([]*telemetrytest.Recorder, replicas)
	svcs := make([]*Service, replicas)
	errs := make([]error, replicas)
	for i := range tels {
		tels[i] = telemetrytest.New(t, "database")
	}
	var wg sync.WaitGroup
	for i := range svcs {
		wg.Go(func() { svcs[i], errs[i] = New(context.Background(), loc, tels[i].Telemetry) })
	}
	wg.Wait()
	hs := make([]*harness, replicas)
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d did not start: %v", i, err)
			continue
		}
		hs[i] = serve(t, svcs[i], tels[i])
	}
	if t.Failed() {
		t.FailNow()
	}
	seeded := 0
	for i, h := range hs {
		seeded += len(h.logsWithMsg(t, "Database created and seeded"))
		opened := len(h.logsWithMsg(t, "Database opened"))
		var u User
		h.get(t, "/db/user/123").decode(t, 200, &u)
		if u.ID != 123 || opened+len(h.logsWithMsg(t, "Database created and seeded")) != 1 {
			t.Errorf("replica %d: user %+v, logs %v", i, u, h.tel.LogLines(t))
		}
	}
	if seeded != 1 {
		t.Errorf("%d replicas seeded, want exactly 1", seeded)
	}
	if n := scanInt(t, hs[0].svc.db, "SELECT count(*) FROM pillars_seed"); n != 1 {
		t.Errorf("%d seed markers, want 1", n)
	}
	if n := scanInt(t, hs[0].svc.db, "SELECT count(*) FROM users"); n != MaxUserID {
		t.Errorf("%d users, want %d: seeded more than once?", n, MaxUserID)
	}
}
