package database

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/database/pgtest"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// A URL that is wrong, or names a server that cannot be reached, stops New with a message
// that says what is wrong, and never the password.
func TestPostgresURLRejected(t *testing.T) {
	const password = "s3cr3t-pw"
	dead := freeLoopbackAddr(t)
	for _, c := range []struct {
		name, url, want string
	}{
		{"other scheme", "mysql://u:" + password + "@127.0.0.1/db", `must start with postgres:// or postgresql://, not "mysql://"`},
		{"not a URL", "postgres://u:" + password + "@127.0.0.1:port/db", "not a valid URL"},
		{"slash in password", "postgres://u:pa/" + password + "@127.0.0.1/db", "not a valid URL"},
		{"bad setting", "postgres://u:" + password + "@127.0.0.1/db?sslmode=sometimes", "sslmode"},
		{"unreachable", "postgres://u:" + password + "@" + dead + "/db?sslmode=disable", "failed to connect"},
		{"no such database", strings.Replace(pg.URL("no_such_db"), "postgres@", "postgres:"+password+"@", 1), `database "no_such_db" does not exist`},
	} {
		t.Run(c.name, func(t *testing.T) {
			tel := telemetrytest.New(t, "database")
			s, err := New(context.Background(), Config{URL: c.url}, tel.Telemetry)
			if err == nil {
				s.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), password) {
				t.Errorf("error %q: want it to mention %q, and not the password", err, c.want)
			}
			for _, l := range tel.LogLines(t) {
				if strings.Contains(fmt.Sprint(l), password) {
					t.Errorf("the password reached a log line: %v", l)
				}
			}
		})
	}
}

// freeLoopbackAddr is an address nothing listens on.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Every pooled PostgreSQL connection waits at most a second for a lock, runs the generic plans
// query_planning records, names itself, and enforces the schema's foreign keys.
func TestPostgresSessionSettings(t *testing.T) {
	h := postgresTest.start(t, Config{})
	for setting, want := range map[string]string{
		"lock_timeout":     "1s",
		"plan_cache_mode":  "force_generic_plan",
		"application_name": "pillars-database",
	} {
		var got string
		if err := h.svc.db.QueryRow("SHOW " + setting).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("SHOW %s = %s, want %s", setting, got, want)
		}
	}
	if _, err := h.svc.db.Exec("INSERT INTO inventory (product_id, warehouse_id, quantity) VALUES (999999, 1, 1)"); err == nil {
		t.Error("an inventory row for a product that does not exist was accepted")
	}
	// A URL's own lock_timeout is kept.
	own := postgresTest.start(t, Config{URL: postgresTest.seeded(t).URL + "&lock_timeout=250ms"})
	var got string
	if err := own.svc.db.QueryRow("SHOW lock_timeout").Scan(&got); err != nil || got != "250ms" {
		t.Errorf("lock_timeout from the URL: %q, %v", got, err)
	}
}

// Both stores answer every request alike: the same seed, the same statements in two
// dialects, the same rows.
func TestStoresAnswerAlike(t *testing.T) {
	lite, pgs := sqliteTest.start(t, Config{}), postgresTest.start(t, Config{})
	for _, path := range []string{
		"/db/user/1", "/db/user/123", "/db/user/5000", "/db/product/1", "/db/product/42", "/db/product/1000",
		"/db/query?name=top_products&limit=50",
		"/db/query?name=category_summary",
		"/db/query?name=user_orders&user_id=7&limit=100",
		"/db/query?name=low_stock&threshold=5&limit=200",
	} {
		a, b := lite.get(t, path), pgs.get(t, path)
		if a.status != 200 || b.status != 200 || string(a.body) != string(b.body) {
			t.Errorf("%s:\nsqlite     %d %.300s\npostgresql %d %.300s", path, a.status, a.body, b.status, b.body)
		}
	}
}

// A PostgreSQL server that goes away while the service runs: requests answer 503 saying the
// database is unavailable, /health reports it degraded, and when the server is back so are
// the answers, without a restart of the service.
func TestPostgresGoesAwayAndComesBack(t *testing.T) {
	server, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	db, err := server.CreateDatabase(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, Config{URL: server.URL(db)})
	if r := h.get(t, "/db/user/7"); r.status != 200 {
		t.Fatalf("healthy: %d %s", r.status, r.body)
	}

	if err := server.Stop(); err != nil {
		t.Fatal(err)
	}
	for range 3 { // whatever state the pooled connections are in, each request fails alike
		r := h.get(t, "/db/user/7")
		var e errorBody
		r.decode(t, http.StatusServiceUnavailable, &e)
		if e.Error != "the database server is unavailable" || e.TraceID != r.traceID {
			t.Errorf("error body %+v", e)
		}
	}
	var doc struct {
		Status       string            `json:"status"`
		Dependencies map[string]string `json:"dependencies"`
	}
	h.get(t, "/health").decode(t, 200, &doc)
	if doc.Status != "degraded" || !strings.HasPrefix(doc.Dependencies["postgresql"], "error") {
		t.Errorf("/health with the server down: %+v", doc)
	}
	if r := h.get(t, "/ready"); r.status != 200 {
		t.Errorf("/ready with the server down: %d, want 200 (the service itself still answers)", r.status)
	}
	if l := h.logsWithMsg(t, "Request failed in the database"); len(l) == 0 {
		t.Error("the failures were not logged")
	}

	if err := server.Restart(); err != nil {
		t.Fatal(err)
	}
	telemetrytest.Eventually(t, 10*time.Second, "answers after the server came back", func() bool {
		return h.get(t, "/db/user/7").status == 200
	})
	h.get(t, "/health").decode(t, 200, &doc)
	if doc.Status != "healthy" {
		t.Errorf("/health after the server came back: %+v", doc)
	}
}
