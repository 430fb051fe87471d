package telemetry

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
)

// requestIDs are the hex forms of a request's server span ids and its exemplar labels,
// made once when the span starts. A request writes several log lines and records several
// samples, each of which would otherwise format the same ids again.
type requestIDs struct {
	trace    trace.TraceID
	span     trace.SpanID
	traceID  string
	spanID   string
	exemplar prometheus.Labels // nil when the span is not sampled
	// unmeasured: the service records no metrics (--metrics=false), so Inc and Observe do
	// nothing for this request.
	unmeasured bool
}

type requestIDsKey struct{}

// withRequestIDs stores the ids of ctx's span in ctx.
func withRequestIDs(ctx context.Context, unmeasured bool) context.Context {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ctx
	}
	ids := &requestIDs{trace: sc.TraceID(), span: sc.SpanID(), traceID: sc.TraceID().String(), spanID: sc.SpanID().String(),
		unmeasured: unmeasured}
	if sc.IsSampled() && !unmeasured {
		ids.exemplar = prometheus.Labels{"trace_id": ids.traceID}
	}
	return context.WithValue(ctx, requestIDsKey{}, ids)
}

// requestIDsFrom returns the stored ids when sc is the span they were made for (a child
// span has its own span id, so it formats its own).
func requestIDsFrom(ctx context.Context, sc trace.SpanContext) *requestIDs {
	if ids, ok := ctx.Value(requestIDsKey{}).(*requestIDs); ok && ids.span == sc.SpanID() {
		return ids
	}
	return nil
}

// exemplarFrom returns the stored exemplar labels when sc belongs to the same trace: an
// exemplar names only the trace, so child spans share the request's.
func exemplarFrom(ctx context.Context, sc trace.SpanContext) prometheus.Labels {
	if ids, ok := ctx.Value(requestIDsKey{}).(*requestIDs); ok && ids.trace == sc.TraceID() {
		return ids.exemplar
	}
	return nil
}

// unmeasured reports a request of a service that records no metrics.
func unmeasured(ctx context.Context) bool {
	ids, ok := ctx.Value(requestIDsKey{}).(*requestIDs)
	return ok && ids.unmeasured
}
