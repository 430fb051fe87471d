package telemetry

import (
	"context"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/processors/baggagecopy"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Built-in traffic is marked as synthetic, as the OpenTelemetry demo marks its load
// generator's: the W3C baggage member synthetic_request=true travels with each request it
// makes, and every span started under it carries the span attribute synthetic_request="true",
// so that a person's requests can be told apart from the generator's in any trace query.

// SyntheticKey is the baggage member, and the span attribute, that marks built-in traffic.
const SyntheticKey = "synthetic_request"

// MarkSynthetic marks an outgoing request as built-in traffic.
func MarkSynthetic(h http.Header) { h.Set("baggage", SyntheticKey+"=true") }

// IsSynthetic reports whether an incoming request carries the synthetic marker in its
// baggage header (whatever else the header holds).
func IsSynthetic(h http.Header) bool {
	values := h.Values("baggage")
	if len(values) == 0 {
		return false
	}
	b, err := baggage.Parse(strings.Join(values, ","))
	return err == nil && b.Member(SyntheticKey).Value() == "true"
}

// WithSynthetic returns ctx with the synthetic marker in its baggage: what the edge admits of
// a caller's baggage when it drops the rest.
func WithSynthetic(ctx context.Context) context.Context {
	m, err := baggage.NewMember(SyntheticKey, "true")
	if err != nil {
		return ctx // a constant member: cannot fail
	}
	b, err := baggage.FromContext(ctx).SetMember(m)
	if err != nil {
		return ctx
	}
	return baggage.ContextWithBaggage(ctx, b)
}

// syntheticMarker copies the synthetic marker from a span's context onto the span, and no
// other baggage member: baggage is the caller's to fill, a span's attributes are not.
func syntheticMarker() sdktrace.SpanProcessor {
	return baggagecopy.NewSpanProcessor(func(m baggage.Member) bool { return m.Key() == SyntheticKey })
}
