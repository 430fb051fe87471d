package telemetry

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The hand-written parts of this package measured against the well-kept libraries they stand
// in for, on the same work: the Loki push encoder against Loki's own generated protobuf
// (github.com/grafana/loki/pkg/push), the server middleware (now built on otelhttp) against
// the hand-written one it replaced and against otelhttp alone, and the client against
// otelhttp. `make bench` runs them and writes the results next to the deployed benchmark's
// (bench/RESULTS.md).

func lokiBatch() []lokiEntry {
	batch := make([]lokiEntry, 1000)
	for i := range batch {
		batch[i] = lokiEntry{
			ts: time.Unix(1764590000, int64(i)), level: slog.LevelInfo,
			traceID: "9d93a6ef432dbec9e52068483fef7dae", spanID: "c0774a361f3046d7",
			line: `{"time":"2026-12-01T10:00:00Z","level":"INFO","msg":"Fetching user ` + strconv.Itoa(i) +
				`","service":"frontend","user_id":` + strconv.Itoa(i) + `,"trace_id":"9d93a6ef432dbec9e52068483fef7dae","span_id":"c0774a361f3046d7"}`,
		}
	}
	return batch
}

// Both encoders make the same bytes' worth of request; checked here so that the benchmark
// compares like with like.
func TestLokiEncodersAgree(t *testing.T) {
	batch := lokiBatch()
	s := &lokiShipper{labels: map[string]string{"service": "frontend", "environment": "bench"}}
	ours := appendPushRequest(nil, s.streams(batch))
	theirs, err := pushRequestOf(s, batch).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var decoded push.PushRequest
	if err := decoded.Unmarshal(ours); err != nil {
		t.Fatalf("Loki's own decoder refuses our encoding: %v", err)
	}
	if len(decoded.Streams) != 1 || len(decoded.Streams[0].Entries) != 1000 || decoded.Streams[0].Entries[7].Line != batch[7].line ||
		decoded.Streams[0].Entries[7].StructuredMetadata[0].Value != batch[7].traceID {
		t.Errorf("decoded %d streams, entry 7: %+v", len(decoded.Streams), decoded.Streams[0].Entries[7])
	}
	if len(ours) != len(theirs) {
		t.Errorf("our request is %d bytes, Loki's encoder makes %d", len(ours), len(theirs))
	}
}

func pushRequestOf(s *lokiShipper, batch []lokiEntry) *push.PushRequest {
	entries := make([]push.Entry, len(batch))
	for i, e := range batch {
		entries[i] = push.Entry{Timestamp: e.ts, Line: e.line, StructuredMetadata: push.LabelsAdapter{
			{Name: "trace_id", Value: e.traceID}, {Name: "span_id", Value: e.spanID}}}
	}
	return &push.PushRequest{Streams: []push.Stream{{Labels: s.labelString("info"), Entries: entries}}}
}

func BenchmarkAlternativeLokiEncoding(b *testing.B) {
	batch := lokiBatch()
	s := &lokiShipper{labels: map[string]string{"service": "frontend", "environment": "bench"}}
	b.Run("impl=pillars", func(b *testing.B) {
		var raw, body []byte
		b.ReportAllocs()
		for b.Loop() {
			raw = appendPushRequest(raw[:0], s.streams(batch))
			body = snappy.Encode(body[:cap(body)], raw)
		}
	})
	b.Run("impl=loki-push", func(b *testing.B) {
		var body []byte
		b.ReportAllocs()
		for b.Loop() {
			raw, err := pushRequestOf(s, batch).Marshal()
			if err != nil {
				b.Fatal(err)
			}
			body = snappy.Encode(body[:cap(body)], raw)
		}
	})
}

// discardSpans accepts spans and keeps none: span bookkeeping without an export's cost.
type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }

func benchTelemetry(b *testing.B) *Telemetry {
	tel, err := New(context.Background(), Config{Service: "frontend", Version: "bench", Environment: "bench",
		Trace: TraceConfig{Exporter: discardSpans{}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

func BenchmarkAlternativeServerMiddleware(b *testing.B) {
	answer := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }
	serve := func(b *testing.B, h http.Handler) {
		req := httptest.NewRequest(http.MethodGet, "/user/123", nil)
		req.RemoteAddr = "127.0.0.1:40000"
		w := httptest.NewRecorder()
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, req)
		}
	}
	route := func() *http.ServeMux {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /user/{id}", answer)
		return mux
	}
	names := SpanNames{"GET /user/{id}": "frontend_get_user"}
	// The middleware the services use: otelhttp's span, and around it the seed's counter and
	// histogram with exemplars, the standard duration and body-size histograms, panic recovery.
	b.Run("impl=pillars", func(b *testing.B) {
		tel := benchTelemetry(b)
		serve(b, tel.Instrument(route(), names))
	})
	// The hand-written middleware it replaced (span, the seed's counter and histogram).
	b.Run("impl=pillars-handwritten", func(b *testing.B) {
		tel := benchTelemetry(b)
		serve(b, legacyInstrument(tel, route(), names))
	})
	// otelhttp alone: its span and its own metrics, to the no-op meter.
	b.Run("impl=otelhttp", func(b *testing.B) {
		tel := benchTelemetry(b)
		serve(b, otelhttp.NewHandler(route(), "frontend", otelhttp.WithTracerProvider(tel.tracing.provider),
			otelhttp.WithPropagators(tel.Propagator)))
	})
}

func BenchmarkAlternativeClient(b *testing.B) {
	body := []byte(`{"user":{"id":123,"name":"Ada Lovelace","email":"ada@example.com","tier":"gold"},"cache":"hit"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	type user struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	b.Run("impl=pillars", func(b *testing.B) {
		c := benchTelemetry(b).NewClient()
		b.ReportAllocs()
		for b.Loop() {
			var v user
			if err := c.GetJSON(context.Background(), "/api/user/{id}", srv.URL+"/api/user/123", &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=pillars-handwritten", func(b *testing.B) {
		c := newLegacyClient(benchTelemetry(b))
		b.ReportAllocs()
		for b.Loop() {
			var v user
			if err := c.GetJSON(context.Background(), "/api/user/{id}", srv.URL+"/api/user/123", &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=otelhttp", func(b *testing.B) {
		tel := benchTelemetry(b)
		tr := http.DefaultTransport.(*http.Transport).Clone()
		c := &http.Client{Transport: otelhttp.NewTransport(tr, otelhttp.WithTracerProvider(tel.tracing.provider),
			otelhttp.WithPropagators(tel.Propagator))}
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/api/user/123", nil)
			resp, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var v user
			err = json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&v)
			resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
