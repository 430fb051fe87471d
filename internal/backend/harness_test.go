package backend

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// harness is a backend on a real loopback server, in front of a fake database.
type harness struct {
	rec *telemetrytest.Recorder
	svc *Service
	url string
	db  *fakeDB
}

func startBackend(t *testing.T, db *fakeDB, cfg Config) *harness {
	t.Helper()
	h := startBackendAt(t, db.URL, cfg)
	h.db = db
	return h
}

// startBackendAt starts a backend in front of the database service at dbURL.
func startBackendAt(t *testing.T, dbURL string, cfg Config) *harness {
	t.Helper()
	rec := telemetrytest.New(t, "backend")
	cfg.DatabaseURL = dbURL
	svc, err := New(context.Background(), cfg, rec.Telemetry)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := svc.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &harness{rec: rec, svc: svc, url: srv.URL}
}

// answer is one HTTP answer of the backend.
type answer struct {
	status  int
	traceID string // from the traceresponse header
	body    []byte
}

func (h *harness) get(t *testing.T, path string) answer {
	t.Helper()
	resp, err := http.Get(h.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return answer{status: resp.StatusCode, traceID: traceIDOf(t, resp.Header.Get("traceresponse")), body: body}
}

// traceIDOf reads the trace id out of a traceresponse header: 00-<trace id>-<span id>-<flags>.
// Probes answer without one ("").
func traceIDOf(t *testing.T, header string) string {
	t.Helper()
	if header == "" {
		return ""
	}
	parts := strings.Split(header, "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		t.Fatalf("traceresponse header %q is not 00-<trace id>-<span id>-<flags>", header)
	}
	return parts[1]
}

func decode[T any](t *testing.T, a answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("answer %s is not the JSON expected: %v", a.body, err)
	}
	return v
}

// spansOf returns the ended spans of one trace.
func (h *harness) spansOf(t *testing.T, traceID string) []telemetrytest.SpanStub {
	t.Helper()
	var out []telemetrytest.SpanStub
	for _, s := range h.rec.Ended(t) {
		if s.SpanContext.TraceID().String() == traceID {
			out = append(out, s)
		}
	}
	return out
}

// spanIn returns the span of that name in spans, failing the test if there is not exactly one.
func spanIn(t *testing.T, spans []telemetrytest.SpanStub, name string) telemetrytest.SpanStub {
	t.Helper()
	var found []telemetrytest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one span %q, found %d among %v", name, len(found), telemetrytest.Names(spans))
	}
	return found[0]
}

// logsWithMsg returns the log lines whose msg is exactly msg.
func (h *harness) logsWithMsg(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range h.rec.LogLines(t) {
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// dbCalls returns the value of backend_database_calls_total{operation, status}.
func (h *harness) dbCalls(t *testing.T, operation, status string) float64 {
	t.Helper()
	return h.rec.CounterValue(t, "backend_database_calls_total", map[string]string{"operation": operation, "status": status})
}

func (h *harness) cacheOps(t *testing.T, operation string) float64 {
	t.Helper()
	return h.rec.CounterValue(t, "backend_cache_operations_total", map[string]string{"operation": operation})
}

// eventually polls cond until it holds, failing the test after a generous deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
