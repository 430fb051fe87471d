package telemetry

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus/testutil"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/protobuf/encoding/protowire"
)

// pushedEntry is one entry as a Loki server would decode it.
type pushedEntry struct {
	labels   string
	ts       time.Time
	line     string
	metadata map[string]string
}

// fakeLoki decodes real push requests (snappy + protobuf) the way Loki does, and can be told
// to fail.
type fakeLoki struct {
	mu      sync.Mutex
	entries []pushedEntry
	fail    atomic.Int32 // answer this status while non-zero
}

func (f *fakeLoki) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if code := f.fail.Load(); code != 0 {
		http.Error(w, "down", int(code))
		return
	}
	if r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want protobuf", http.StatusUnsupportedMediaType)
		return
	}
	compressed, _ := io.ReadAll(r.Body)
	raw, err := snappy.Decode(nil, compressed)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	entries, err := decodePush(raw)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.entries = append(f.entries, entries...)
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeLoki) received() []pushedEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]pushedEntry(nil), f.entries...)
}

// decodePush is an independent decoder of logproto.PushRequest, so the encoder is checked
// against the schema rather than against itself.
func decodePush(b []byte) ([]pushedEntry, error) {
	var out []pushedEntry
	err := eachField(b, func(num protowire.Number, v []byte, _ uint64) error {
		if num != 1 {
			return nil
		}
		var labels string
		var entries []pushedEntry
		err := eachField(v, func(num protowire.Number, v []byte, _ uint64) error {
			switch num {
			case 1:
				labels = string(v)
			case 2:
				e := pushedEntry{metadata: map[string]string{}}
				err := eachField(v, func(num protowire.Number, v []byte, _ uint64) error {
					switch num {
					case 1:
						var sec, nanos uint64
						_ = eachField(v, func(num protowire.Number, _ []byte, n uint64) error {
							if num == 1 {
								sec = n
							} else {
								nanos = n
							}
							return nil
						})
						e.ts = time.Unix(int64(sec), int64(nanos))
					case 2:
						e.line = string(v)
					case 3:
						var name, value string
						_ = eachField(v, func(num protowire.Number, v []byte, _ uint64) error {
							if num == 1 {
								name = string(v)
							} else {
								value = string(v)
							}
							return nil
						})
						e.metadata[name] = value
					}
					return nil
				})
				entries = append(entries, e)
				return err
			}
			return nil
		})
		for i := range entries {
			entries[i].labels = labels
		}
		out = append(out, entries...)
		return err
	})
	return out, err
}

func eachField(b []byte, fn func(protowire.Number, []byte, uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch typ {
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			if err := fn(num, v, 0); err != nil {
				return err
			}
			b = b[n:]
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			if err := fn(num, nil, v); err != nil {
				return err
			}
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	return nil
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func newTestTelemetry(t *testing.T, lokiURL string, retries int) *Telemetry {
	t.Helper()
	tel, err := New(context.Background(), Config{
		Service: "backend", Version: "test", Environment: "test",
		Trace: TraceConfig{Disabled: true},
		Loki: LokiConfig{URL: lokiURL, BatchWait: 20 * time.Millisecond, Retries: retries,
			MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Buffer: 100},
		LogLevel: slog.LevelInfo,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tel
}

func TestLokiShipsLinesWithLabelsAndTraceMetadata(t *testing.T) {
	loki := &fakeLoki{}
	srv := httptest.NewServer(loki)
	defer srv.Close()
	tel, err := New(context.Background(), Config{
		Service: "backend", Version: "test", Environment: "staging",
		Trace:    TraceConfig{Exporter: discardExporter{}},
		Loki:     LokiConfig{URL: srv.URL, BatchWait: 20 * time.Millisecond},
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

	got := loki.received()
	if len(got) != 2 {
		t.Fatalf("Loki received %d entries, want 2: %+v", len(got), got)
	}
	byLine := map[string]pushedEntry{}
	for _, e := range got {
		byLine[e.labels] = e
	}
	info, ok := byLine[`{environment="staging", level="info", service="backend"}`]
	if !ok {
		t.Fatalf("no info stream with service/level/environment labels: %+v", got)
	}
	if want := span.SpanContext().TraceID().String(); info.metadata["trace_id"] != want {
		t.Errorf("trace_id metadata = %q, want %q", info.metadata["trace_id"], want)
	}
	if want := span.SpanContext().SpanID().String(); info.metadata["span_id"] != want {
		t.Errorf("span_id metadata = %q, want %q", info.metadata["span_id"], want)
	}
	if !containsAll(info.line, `"msg":"Processing user request for ID: 123"`, `"user_id":123`, `"trace_id":"`) {
		t.Errorf("line is not the JSON record: %s", info.line)
	}
	if time.Since(info.ts) > time.Minute || info.ts.After(time.Now()) {
		t.Errorf("timestamp %v is not the record's time", info.ts)
	}
	warn := byLine[`{environment="staging", level="warn", service="backend"}`]
	if len(warn.metadata) != 0 {
		t.Errorf("a line outside a span must carry no trace metadata, got %v", warn.metadata)
	}
}

func TestLokiDownDropsAndCountsButNeverBlocks(t *testing.T) {
	loki := &fakeLoki{}
	loki.fail.Store(http.StatusServiceUnavailable)
	srv := httptest.NewServer(loki)
	defer srv.Close()
	tel := newTestTelemetry(t, srv.URL, 2)

	start := time.Now()
	for i := range 1000 { // 10× the buffer
		tel.Logger.Info("line", "i", i)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("logging 1000 lines with Loki down took %v: the request path is blocked", d)
	}
	dropped := func(reason string) float64 {
		return testutil.ToFloat64(tel.shipper.dropped.WithLabelValues(reason))
	}
	waitFor(t, "failed batches to be counted", func() bool { return dropped("send_failed") > 0 })
	if dropped("buffer_full") == 0 {
		t.Error("buffer_full drops not counted although 10× the buffer was logged")
	}

	// Loki comes back: new lines flow again.
	loki.fail.Store(0)
	tel.Logger.Info("after recovery")
	waitFor(t, "lines to flow after Loki recovered", func() bool {
		for _, e := range loki.received() {
			if containsAll(e.line, "after recovery") {
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
		return testutil.ToFloat64(tel.shipper.dropped.WithLabelValues("rejected")) == 1
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
