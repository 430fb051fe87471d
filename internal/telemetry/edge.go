package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// edgePropagator reads only the caller's span context at a public endpoint, for the link to
// the caller's trace; baggage from outside is dropped, since at the edge anyone may send it.
type edgePropagator struct{ propagation.TextMapPropagator }

func (p edgePropagator) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	remote := trace.SpanContextFromContext(p.TextMapPropagator.Extract(ctx, carrier))
	if !remote.IsValid() {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, remote)
}

// liveProvider hands otelhttp the service's live tracer, which follows a version change, and
// keeps the service's own instrumentation scope on its spans.
type liveProvider struct {
	embedded.TracerProvider
	tracer trace.Tracer
}

func (p liveProvider) Tracer(string, ...trace.TracerOption) trace.Tracer { return p.tracer }
