package frontend

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// BenchmarkGetUser measures GET /user/{id} through the whole instrumented handler: entry span,
// visitor tracking, the backend call over loopback with its CLIENT span, logs (to io.Discard)
// and metrics. Spans are exported to nowhere, so the cost is the service's, not a test buffer's.
func BenchmarkGetUser(b *testing.B) {
	fb := newFakeBackend(b, 0, 0)
	tel, err := telemetry.New(b.Context(), telemetry.Config{
		Service: "frontend",
		Trace:   telemetry.TraceConfig{Exporter: discardExporter{}},
		Stdout:  io.Discard,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	svc, err := New(b.Context(), Config{BackendURL: fb.URL}, tel)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = svc.Close() })
	h := svc.Handler()
	cookie := &http.Cookie{Name: visitorCookie, Value: "BENCHVISITOR"}

	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequestWithContext(b.Context(), http.MethodGet, "/user/123", nil)
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }
