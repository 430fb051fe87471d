package backend

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// BenchmarkGetUserCached measures the hot path, a cache hit, through the whole HTTP handler:
// entry span, validation span, cache lookup, metrics with exemplars, four log lines, JSON.
// Spans go to a discarding exporter and logs to io.Discard, so that what is measured is the
// service, not a growing in-memory recording.
func BenchmarkGetUserCached(b *testing.B) {
	db := newFakeDB(b)
	tel, err := telemetry.New(context.Background(), telemetry.Config{
		Service: "backend",
		Trace:   telemetry.TraceConfig{Exporter: tracetest.NewNoopExporter()},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	svc, err := New(context.Background(), Config{DatabaseURL: db.URL}, tel)
	if err != nil {
		b.Fatal(err)
	}
	h := svc.Handler()
	req := httptest.NewRequest(http.MethodGet, "/api/user/123", nil)
	warm := httptest.NewRecorder()
	h.ServeHTTP(warm, req)
	if warm.Code != http.StatusOK {
		b.Fatalf("warm-up: status %d, body %s", warm.Code, warm.Body)
	}

	b.ReportAllocs()
	for b.Loop() {
		w := &discardWriter{header: http.Header{}}
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// discardWriter is a ResponseWriter that keeps the status only.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return io.Discard.Write(b)
}
