package telemetry

// The hand-written client this package used before its CLIENT spans came from otelhttp's
// transport, kept as a test file only so that the benchmark measures both in the same run
// (BenchmarkAlternativeClient).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

type legacyClient struct {
	http       *http.Client
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

func newLegacyClient(t *Telemetry) *legacyClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 512, 256
	return &legacyClient{http: &http.Client{Transport: tr}, tracer: t.Tracer, propagator: t.Propagator}
}

func (c *legacyClient) GetJSON(ctx context.Context, route, rawURL string, v any) (err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	ctx, span := c.tracer.Start(ctx, http.MethodGet+" "+route,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			semconv.HTTPRequestMethodGet,
			semconv.URLFull(req.URL.String()),
			semconv.URLTemplate(route),
		),
		trace.WithAttributes(legacyClientServerAttrs(req.URL)...))
	defer func() {
		if err != nil {
			span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
			span.SetStatus(codes.Error, cut(err.Error(), 256))
			if _, isHTTP := errors.AsType[*HTTPError](err); !isHTTP {
				span.RecordError(err)
			}
		}
		span.End()
	}()
	req = req.WithContext(ctx)
	req.Header.Set("Accept", "application/json")
	c.propagator.Inject(ctx, propagation.HeaderCarrier(req.Header))

	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
	body := io.LimitReader(resp.Body, maxAnswerBytes)
	if resp.StatusCode/100 != 2 {
		// For client spans every 4xx/5xx is an error (HTTP semantic conventions); a 3xx is
		// an answer this API never gives.
		var e ErrorBody
		if err := json.NewDecoder(body).Decode(&e); err != nil || e.Error == "" {
			e.Error = resp.Status
		}
		return &HTTPError{Status: resp.StatusCode, Err: errors.New(cut(e.Error, 512))}
	}
	if err := json.NewDecoder(body).Decode(v); err != nil {
		return fmt.Errorf("%w: %s answered JSON that does not decode: %v", ErrBadAnswer, route, err)
	}
	if a, ok := v.(Answer); ok {
		if err := a.Validate(); err != nil {
			return fmt.Errorf("%w: %s answered an incomplete document: %v", ErrBadAnswer, route, err)
		}
	}
	return nil
}

// clientServerAttrs are server.address and server.port of the callee.
func legacyClientServerAttrs(u *url.URL) []attribute.KeyValue {
	host, port := splitHostPort(u.Host)
	if port == 0 {
		switch u.Scheme {
		case "http":
			port = 80
		case "https":
			port = 443
		}
	}
	return []attribute.KeyValue{semconv.ServerAddress(host), semconv.ServerPort(port)}
}
