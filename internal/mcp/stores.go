package mcp

import (
	"context"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// Metrics is what the server reads from Prometheus (*readback.Prometheus).
type Metrics interface {
	Query(ctx context.Context, query string, at time.Time) ([]readback.Sample, error)
	QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]readback.Series, error)
	LabelNames(ctx context.Context, match []string, start, end time.Time) ([]string, error)
	LabelValues(ctx context.Context, label string, match []string, start, end time.Time) ([]string, error)
	Alerts(ctx context.Context) ([]readback.Alert, error)
}

// Traces is what the server reads from the trace store (*readback.Jaeger, *readback.Tempo).
type Traces interface {
	Trace(ctx context.Context, traceID string) (readback.Trace, error)
	Search(ctx context.Context, q readback.TraceSearch) ([]readback.TraceSummary, error)
	Services(ctx context.Context) ([]string, error)
	Operations(ctx context.Context, service string) ([]string, error)
}

// Logs is what the server reads from the log store (*readback.VictoriaLogs, *readback.Loki).
type Logs interface {
	Kind() readback.LogsKind
	Query(ctx context.Context, query string, start, end time.Time, limit int) ([]readback.LogLine, error)
}
