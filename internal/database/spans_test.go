package database

import (
	"database/sql"
	"net/url"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

// PostgreSQL is a server across the network: transaction_begin, query_execution and
// transaction_commit are CLIENT spans naming it (server.address, server.port, db.namespace,
// db.system.name=postgresql), which service graphs draw as a database node. SQLite runs in the
// process: the same spans are INTERNAL and name no server.
func TestStoreCallSpans(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) {
		loc := ts.seeded(t)
		h := ts.start(t, loc)
		r := h.get(t, "/db/user/7")
		if r.status != 200 {
			t.Fatalf("status %d %s", r.status, r.body)
		}
		want := map[string]string{"db.system.name": ts.name}
		kind := trace.SpanKindInternal
		if ts.name == "postgresql" {
			u, err := url.Parse(loc.URL)
			if err != nil {
				t.Fatal(err)
			}
			kind = trace.SpanKindClient
			want["server.address"], want["server.port"] = u.Hostname(), u.Port()
			want["db.namespace"] = strings.TrimPrefix(u.Path, "/")
		}
		spans := h.traceSpans(t, r.traceID)
		for _, name := range []string{"transaction_begin", "query_execution", "transaction_commit"} {
			s := one(t, spans, name)
			if s.SpanKind != kind {
				t.Errorf("%s is %v, want %v", name, s.SpanKind, kind)
			}
			for _, key := range []string{"db.system.name", "server.address", "server.port", "db.namespace"} {
				if got := attr(s, key); got != want[key] {
					t.Errorf("%s: %s = %q, want %q", name, key, got, want[key])
				}
			}
		}
		if s := one(t, spans, "query_planning"); s.SpanKind != trace.SpanKindInternal {
			t.Errorf("query_planning is %v: it calls nothing", s.SpanKind)
		}

		// A fault injected in the service is no store's answer: error.type says which.
		h.patchFaults(t, `{"error_rate":1}`)
		r = h.get(t, "/db/user/7")
		exec := one(t, h.traceSpans(t, r.traceID), "query_execution")
		if got := attr(exec, "error.type"); r.status != 500 || got != "injected_fault" || attr(exec, "db.response.status_code") != "" {
			t.Errorf("injected failure: status %d, error.type %q, db.response.status_code %q", r.status, got, attr(exec, "db.response.status_code"))
		}
	})
}

// A statement PostgreSQL refuses puts its SQLSTATE on the span: here lock_not_available
// (55P03), because another session holds the table locked past the service's lock_timeout.
func TestPostgresFailureCarriesSQLState(t *testing.T) {
	loc := postgresTest.seeded(t)
	h := postgresTest.start(t, Config{URL: loc.URL + "&lock_timeout=100ms"})
	other, err := sql.Open("pgx", loc.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // the lock goes with it
	if _, err := tx.Exec("SET LOCAL lock_timeout = 0; LOCK TABLE users IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	r := h.get(t, "/db/user/7")
	if r.status != 500 {
		t.Fatalf("status %d %s, want 500 (locked)", r.status, r.body)
	}
	exec := one(t, h.traceSpans(t, r.traceID), "query_execution")
	if exec.SpanKind != trace.SpanKindClient || attr(exec, "db.response.status_code") != "55P03" || attr(exec, "error.type") != "55P03" {
		t.Errorf("query_execution %v: db.response.status_code %q, error.type %q; want CLIENT, 55P03, 55P03",
			exec.SpanKind, attr(exec, "db.response.status_code"), attr(exec, "error.type"))
	}
}
