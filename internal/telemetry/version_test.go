package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// Every version change retires a tracer provider. A retired one must be shut down once it has
// exported what it held: each provider keeps a batch goroutine and an exporter (a connection),
// and chaos mode changes the version twice a run, without end.
func TestRetiredTracerProvidersAreShutDown(t *testing.T) {
	var exports atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		exports.Add(1)
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	tel, err := New(context.Background(), Config{Service: "backend", Version: "v1", Environment: "test",
		Trace: TraceConfig{Endpoint: srv.URL, Batch: BatchConfig{ScheduleDelay: time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tel.Shutdown(context.Background()) }()
	// Warm up one change so that lazily started runtime goroutines are in the baseline.
	if err := tel.SetVersion(context.Background(), "v-warm"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the warm-up provider to stop", func() bool { return len(tel.tracing.providers()) == 1 })
	before := runtime.NumGoroutine()

	const changes = 50
	for i := range changes {
		_, span := tel.Tracer.Start(context.Background(), "span of version "+strconv.Itoa(i))
		span.End()
		if err := tel.SetVersion(context.Background(), "v-"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "retired providers to be shut down", func() bool { return len(tel.tracing.providers()) == 1 })
	// The schedule delay is an hour: only a shutdown (which flushes) exports their spans.
	waitFor(t, "every retired provider to export its span", func() bool { return exports.Load() >= changes })
	// A provider left running keeps its batch goroutine: 50 of them before the fix. What may
	// remain is the OTLP exporters' shared connection pool (two idle connections per host,
	// each a read and a write goroutine, and the test server's side of them).
	waitFor(t, "the goroutine count to return to where it was", func() bool {
		return runtime.NumGoroutine() <= before+changes/5
	})
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (goroutines: %d)", what, runtime.NumGoroutine())
		}
		time.Sleep(5 * time.Millisecond) // a poll interval, not a synchronisation
	}
}
