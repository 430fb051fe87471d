package database

import (
	"github.com/pillars-o11y/pillars/internal/faults"

	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// The probes: ready once New returns (the database is open and seeded), not ready when told or
// once closed; /health reports the store (sqlite or postgresql) as a dependency.
func TestHealth(t *testing.T) { eachStore(t, testHealth) }

func testHealth(t *testing.T, ts testStore) {
	h := ts.start(t, Config{})
	for _, path := range []string{"/healthz", "/ready", "/health"} {
		if r := h.get(t, path); r.status != 200 {
			t.Errorf("%s: status %d, body %s", path, r.status, r.body)
		}
	}
	var doc struct {
		Status       string            `json:"status"`
		Service      string            `json:"service"`
		Dependencies map[string]string `json:"dependencies"`
	}
	h.get(t, "/health").decode(t, 200, &doc)
	if doc.Status != "healthy" || doc.Service != "database" || doc.Dependencies[ts.name] != "ok" || len(doc.Dependencies) != 1 {
		t.Errorf("/health = %+v", doc)
	}

	h.svc.SetReady(false)
	if r := h.get(t, "/ready"); r.status != 503 {
		t.Errorf("/ready while not ready: %d", r.status)
	}
	h.svc.SetReady(true)
	if err := h.svc.Close(); err != nil {
		t.Fatal(err)
	}
	if r := h.get(t, "/ready"); r.status != 503 {
		t.Errorf("/ready after Close: %d", r.status)
	}
	h.get(t, "/health").decode(t, 503, &doc)
	if !strings.HasPrefix(doc.Dependencies[ts.name], "error") {
		t.Errorf("/health after Close: %s %q", ts.name, doc.Dependencies[ts.name])
	}
	if err := h.svc.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// The pool gauge is the pool's real state: a request holding a connection shows as 1.
func TestConnectionPoolGauge(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) {
		testConnectionPoolGauge(t, ts.start(t, Config{Faults: faults.Database{Latency: faults.Duration(300 * time.Millisecond)}}))
	})
}

func testConnectionPoolGauge(t *testing.T, h *harness) {
	done := make(chan response, 1)
	go func() { done <- h.get(t, "/db/user/1") }()

	seen := false
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
wait:
	for {
		select {
		case r := <-done:
			if r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			break wait
		case <-deadline:
			t.Fatal("request did not finish")
		case <-tick.C:
			if h.value(t, "database_connection_pool_active") == 1 {
				seen = true
			}
		}
	}
	if !seen {
		t.Error("database_connection_pool_active never showed the request's connection")
	}
	if got := h.value(t, "database_connection_pool_active"); got != 0 {
		t.Errorf("database_connection_pool_active = %v after the request, want 0", got)
	}
}

// New refuses a configuration it cannot serve.
func TestNewRejectsBadConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no path", Config{}, "Path is required"},
		{"question mark", Config{Path: filepath.Join(t.TempDir(), "a?b.db")}, "must not contain"},
		{"error rate", Config{Path: filepath.Join(t.TempDir(), "x.db"), Faults: faults.Database{ErrorRate: 2}}, "error_rate"},
		{"latency", Config{Path: filepath.Join(t.TempDir(), "x.db"), Faults: faults.Database{Latency: -1}}, "latency"},
		{"unwritable", Config{Path: filepath.Join(t.TempDir(), "missing", "dir", "x.db")}, "database"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tel := telemetrytest.New(t, "database")
			s, err := New(context.Background(), c.cfg, tel.Telemetry)
			if err == nil {
				s.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to mention %q", err, c.want)
			}
		})
	}
}

// The handler is built once: asking again returns it rather than registering its metrics twice.
func TestHandlerIsStable(t *testing.T) {
	h := start(t, Config{})
	if h.svc.Handler() != h.svc.Handler() {
		t.Error("Handler returned two different handlers")
	}
}

// Every pooled SQLite connection runs in WAL mode, waits for locks, and enforces foreign keys
// (PostgreSQL's: TestPostgresSessionSettings).
func TestConnectionSettings(t *testing.T) {
	h := start(t, Config{})
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"busy_timeout": "1000",
		"foreign_keys": "1",
		"synchronous":  "1", // NORMAL
		"temp_store":   "2", // MEMORY
	} {
		var got string
		if err := h.svc.db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	if _, err := h.svc.db.Exec("INSERT INTO inventory (product_id, warehouse_id, quantity) VALUES (999999, 1, 1)"); err == nil {
		t.Error("an inventory row for a product that does not exist was accepted")
	}
}

// /metrics serves every metric of the seed; in OpenMetrics the duration histogram carries the
// request's trace as exemplar.
func TestMetricsEndpoint(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) { testMetricsEndpoint(t, ts.start(t, Config{})) })
}

func testMetricsEndpoint(t *testing.T, h *harness) {
	r := h.get(t, "/db/user/5")
	text := telemetrytest.Scrape(t, h.srv.URL+"/metrics")
	for _, want := range []string{
		"database_queries_total{operation=\"SELECT\",status=\"success\",table=\"users\"} 1.0\n", // the histogram links successes
		`database_queries_total{operation="SELECT",status="error",table="inventory"} 0.0`,
		`database_query_duration_seconds_bucket{operation="SELECT",table="users",le="0.1"} 1`,
		`database_connection_pool_active 0.0`,
		`database_slow_queries_total{table="orders"} 0.0`,
		`database_table_size_bytes{table="warehouses"} `,
		"database_transactions_total{status=\"committed\"} 1.0\n", // exemplars only on failures here
		`database_transactions_total{status="rolled_back"} 0.0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	bucketWithExemplar := regexp.MustCompile(`(?m)^database_query_duration_seconds_bucket\{operation="SELECT",table="users",le="[^"]+"\} 1 # \{trace_id="` + r.traceID + `"\}`)
	if !bucketWithExemplar.MatchString(text) {
		t.Errorf("no bucket of database_query_duration_seconds{table=\"users\"} has the exemplar trace_id=%s", r.traceID)
	}
}
