package database

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// The probes: ready once New returns (the file is open and seeded), not ready when told or
// once closed; /health reports the SQLite file as a dependency.
func TestHealth(t *testing.T) {
	h := start(t, Config{})
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
	if doc.Status != "healthy" || doc.Service != "database" || doc.Dependencies["sqlite"] != "ok" {
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
	if !strings.HasPrefix(doc.Dependencies["sqlite"], "error") {
		t.Errorf("/health after Close: sqlite %q", doc.Dependencies["sqlite"])
	}
	if err := h.svc.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// The pool gauge is the pool's real state: a request holding a connection shows as 1.
func TestConnectionPoolGauge(t *testing.T) {
	h := start(t, Config{Faults: Faults{Latency: Duration(300 * time.Millisecond)}})
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
		{"error rate", Config{Path: filepath.Join(t.TempDir(), "x.db"), Faults: Faults{ErrorRate: 2}}, "error_rate"},
		{"latency", Config{Path: filepath.Join(t.TempDir(), "x.db"), Faults: Faults{Latency: -1}}, "latency"},
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
