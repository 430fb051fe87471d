package telemetry_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

func newTestTelemetry(t *testing.T, lokiURL string, retries int) *telemetry.Telemetry {
	t.Helper()
	tel, err := telemetry.New(context.Background(), telemetry.Config{
		Service: "backend", Version: "test", Environment: "test",
		Trace: telemetry.TraceConfig{Disabled: true},
		Loki: telemetry.LokiConfig{URL: lokiURL, BatchWait: 20 * time.Millisecond, Retries: retries,
			MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Buffer: 100, BatchSize: 10},
		LogLevel: slog.LevelInfo,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tel
}

// dropped reads pillars_log_entries_dropped_total{reason} from the service's registry.
func dropped(t *testing.T, tel *telemetry.Telemetry, reason string) float64 {
	t.Helper()
	n, err := testutil.GatherAndCount(tel.Registry, "pillars_log_entries_dropped_total")
	if err != nil || n == 0 {
		t.Fatalf("pillars_log_entries_dropped_total not registered: %v", err)
	}
	families, _ := tel.Registry.Gather()
	for _, f := range families {
		if f.GetName() != "pillars_log_entries_dropped_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetLabel()[0].GetValue() == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	telemetrytest.Eventually(t, 10*time.Second, what, cond)
}

func TestLokiShipsLinesWithLabelsAndTraceMetadata(t *testing.T) {
	loki := telemetrytest.NewLokiReceiver(t)
	tel, err := telemetry.New(context.Background(), telemetry.Config{
		Service: "backend", Version: "test", Environment: "staging",
		Trace:    telemetry.TraceConfig{Exporter: discardExporter{}},
		Loki:     telemetry.LokiConfig{URL: loki.URL, BatchWait: 20 * time.Millisecond},
		LogLevel: slog.LevelInfo,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := tel.Tracer.Start(context.Background(), "op")
	tel.Logger.InfoContext(ctx, "Processing user request for ID: 123", "user_id", 123)
	tel.Logger.WarnContext(context.Background(), "outside any request")
	span.End()
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	got := loki.Entries()
	if len(got) != 2 {
		t.Fatalf("Loki received %d entries, want 2: %+v", len(got), got)
	}
	byLine := map[string]telemetrytest.LokiEntry{}
	for _, e := range got {
		byLine[e.Labels] = e
	}
	info, ok := byLine[`{environment="staging", level="info", service="backend"}`]
	if !ok {
		t.Fatalf("no info stream with service/level/environment labels: %+v", got)
	}
	if want := span.SpanContext().TraceID().String(); info.Metadata["trace_id"] != want {
		t.Errorf("trace_id metadata = %q, want %q", info.Metadata["trace_id"], want)
	}
	if want := span.SpanContext().SpanID().String(); info.Metadata["span_id"] != want {
		t.Errorf("span_id metadata = %q, want %q", info.Metadata["span_id"], want)
	}
	if !containsAll(info.Line, `"msg":"Processing user request for ID: 123"`, `"user_id":123`, `"trace_id":"`) {
		t.Errorf("line is not the JSON record: %s", info.Line)
	}
	if time.Since(info.Time) > time.Minute || info.Time.After(time.Now()) {
		t.Errorf("timestamp %v is not the record's time", info.Time)
	}
	warn := byLine[`{environment="staging", level="warn", service="backend"}`]
	if len(warn.Metadata) != 0 {
		t.Errorf("a line outside a span must carry no trace metadata, got %v", warn.Metadata)
	}
}

func TestLokiDownDropsAndCountsButNeverBlocks(t *testing.T) {
	loki := telemetrytest.NewLokiReceiver(t)
	loki.Fail.Store(http.StatusServiceUnavailable)
	loki.Hold() // the first push hangs: the sender is stuck, as with a Loki that does not answer
	tel := newTestTelemetry(t, loki.URL, 2)

	start := time.Now()
	for i := range 1000 { // the sender holds at most a batch (10), the buffer 100
		tel.Logger.Info("line", "i", i)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("logging 1000 lines with Loki hanging took %v: the request path is blocked", d)
	}
	if n := dropped(t, tel, "buffer_full"); n < 1000-10-100 {
		t.Errorf("buffer_full drops = %v, want at least 890: memory is not bounded", n)
	}

	// Loki answers again, with errors: the held batches fail after their retries.
	loki.Release()
	waitFor(t, "failed batches to be counted", func() bool { return dropped(t, tel, "send_failed") > 0 })

	// Loki recovers: new lines flow again.
	loki.Fail.Store(0)
	tel.Logger.Info("after recovery")
	waitFor(t, "lines to flow after Loki recovered", func() bool {
		for _, e := range loki.Entries() {
			if containsAll(e.Line, "after recovery") {
				return true
			}
		}
		return false
	})
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestLokiRejectedBatchIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "entry too old", http.StatusBadRequest)
	}))
	defer srv.Close()
	tel := newTestTelemetry(t, srv.URL, 5)
	tel.Logger.Info("rejected")
	waitFor(t, "rejected count", func() bool {
		return dropped(t, tel, "rejected") == 1
	})
	_ = tel.Shutdown(context.Background())
	if n := calls.Load(); n != 1 {
		t.Errorf("a 400 was tried %d times, want 1 (4xx other than 429 is final)", n)
	}
}

func TestShutdownWithLokiUnreachableIsBounded(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	tel := newTestTelemetry(t, url, 100)
	tel.Logger.Info("last words")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_ = tel.Shutdown(ctx)
	if time.Since(start) > 4*time.Second {
		t.Errorf("shutdown with a dead Loki took %v", time.Since(start))
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// discardExporter accepts spans and keeps none: tracing on, exporting nowhere.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

func TestFlushPushesBufferedLinesNow(t *testing.T) {
	loki := telemetrytest.NewLokiReceiver(t)
	tel, err := telemetry.New(context.Background(), telemetry.Config{
		Service: "frontend", Trace: telemetry.TraceConfig{Disabled: true},
		Loki: telemetry.LokiConfig{URL: loki.URL, BatchWait: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	tel.Logger.Info("flush me")
	if err := tel.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// No waiting: Flush returns once the push was answered.
	if got := loki.Entries(); len(got) != 1 || !strings.Contains(got[0].Line, "flush me") {
		t.Errorf("after Flush Loki holds %v", got)
	}
}

// Loki answering before it has read a push (as a proxy refusing early does) must not let the
// next batch overwrite the body the transport is still sending: run with -race.
func TestLokiBodyIsNotReusedWhileStillBeingSent(t *testing.T) {
	var pushes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pushes.Add(1)
		w.WriteHeader(http.StatusNoContent) // answered without reading the body
	}))
	defer srv.Close()
	tel, err := telemetry.New(context.Background(), telemetry.Config{
		Service: "backend", Trace: telemetry.TraceConfig{Disabled: true},
		Loki: telemetry.LokiConfig{URL: srv.URL, BatchWait: time.Millisecond, BatchSize: 200, Buffer: 100000},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Lines that do not compress away, so that each body is far larger than a socket buffer.
	for i := range 4000 {
		tel.Logger.Info("line", "i", i, "payload", strings.Repeat(strconv.Itoa(i*7919), 40))
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if pushes.Load() < 2 {
		t.Fatalf("%d pushes, want several batches", pushes.Load())
	}
}

// Shutdown that runs out of time aborts the push in flight instead of waiting for Loki.
func TestLokiCloseAbortsAHangingPush(t *testing.T) {
	aborted := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // (the server notices a closed connection only once the body is read)
		<-r.Context().Done()               // Loki that never answers
		close(aborted)
	}))
	defer srv.Close()
	tel, err := telemetry.New(context.Background(), telemetry.Config{
		Service: "backend", Trace: telemetry.TraceConfig{Disabled: true},
		Loki: telemetry.LokiConfig{URL: srv.URL, BatchWait: time.Hour, Timeout: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	tel.Logger.Info("last words")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := tel.Shutdown(ctx); err == nil {
		t.Error("a flush that ran out of time reported success")
	}
	select {
	case <-aborted:
	case <-time.After(10 * time.Second):
		t.Fatal("the push in flight was not aborted by the shutdown's deadline")
	}
	if n := dropped(t, tel, "send_failed"); n != 1 {
		t.Errorf("send_failed = %v, want the one line counted", n)
	}
}

// 429 with Retry-After holds the batch back as long as Loki asks, then sends it.
func TestLokiHonoursRetryAfter(t *testing.T) {
	var first atomic.Int64
	var gap atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().UnixNano()
		if first.CompareAndSwap(0, now) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		gap.CompareAndSwap(0, now-first.Load())
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	tel := newTestTelemetry(t, srv.URL, 3) // backoff of 1–5 ms: only Retry-After explains a long wait
	tel.Logger.Info("slow down")
	waitFor(t, "the retried push", func() bool { return gap.Load() > 0 })
	if g := time.Duration(gap.Load()); g < 900*time.Millisecond {
		t.Errorf("retried after %v, want the 1s Retry-After asked for", g)
	}
	_ = tel.Shutdown(context.Background())
}
