package database

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// BenchmarkGetUser is the cost of GET /db/user/{id} through the instrumented handler (span
// tree, transaction, statement, metrics, logs at the default info level, spans batched to an
// exporter that drops them), without the network.
func BenchmarkGetUser(b *testing.B) {
	ctx := context.Background()
	tel, err := telemetry.New(ctx, telemetry.Config{
		Service:  "database",
		Trace:    telemetry.TraceConfig{Exporter: tracetest.NewNoopExporter()},
		LogLevel: slog.LevelInfo,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tel.Shutdown(ctx) })
	svc, err := New(ctx, Config{Path: seededCopy(b)}, tel)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = svc.Close() })
	handler := svc.Handler()
	req := httptest.NewRequest(http.MethodGet, "/db/user/123", nil)

	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
