package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// Client is the HTTP client a service uses to call the next one: each call is a CLIENT span
// named after the route template it calls, with W3C trace context and baggage injected, so a
// trace store can derive the service graph from client/server span pairs.
type Client struct {
	http       *http.Client
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

// NewClient returns a Client with a connection pool sized for a busy service-to-service hop.
// Deadlines come from the caller's context, so a request's remaining time carries through.
func (t *Telemetry) NewClient() *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 256
	tr.IdleConnTimeout = 90 * time.Second
	return &Client{
		http:       &http.Client{Transport: tr},
		tracer:     t.Tracer,
		propagator: t.Propagator,
	}
}

// Get calls rawURL; route is the callee's route template ("/api/user/{id}") and names the span.
// The caller must close the body of a non-nil response.
func (c *Client) Get(ctx context.Context, route, rawURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	ctx, span := c.tracer.Start(ctx, http.MethodGet+" "+route,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			semconv.HTTPRequestMethodGet,
			semconv.URLFull(req.URL.String()),
			semconv.URLTemplate(route),
		),
		trace.WithAttributes(serverAttrs(req.URL)...))
	defer span.End()
	req = req.WithContext(ctx)
	req.Header.Set("Accept", "application/json")
	c.propagator.Inject(ctx, propagation.HeaderCarrier(req.Header))

	resp, err := c.http.Do(req)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
		return nil, err
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
	// For client spans every 4xx/5xx is an error (HTTP semantic conventions).
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, resp.Status)
		span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
	}
	return resp, nil
}

func serverAttrs(u *url.URL) []attribute.KeyValue {
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return []attribute.KeyValue{semconv.ServerAddress(u.Host)}
	}
	p, _ := strconv.Atoi(port)
	return []attribute.KeyValue{semconv.ServerAddress(host), semconv.ServerPort(p)}
}

// errorType gives error.type a bounded value for transport failures.
func errorType(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "connection_error"
	}
}

// GetJSON calls rawURL and decodes a 2xx JSON answer into v. A non-2xx answer becomes a
// *HTTPError with the callee's status and error message, so each hop can map it in one place.
func (c *Client) GetJSON(ctx context.Context, route, rawURL string, v any) error {
	resp, err := c.Get(ctx, route, rawURL)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, 4<<20)
	if resp.StatusCode/100 != 2 {
		var e ErrorBody
		if err := json.NewDecoder(body).Decode(&e); err != nil || e.Error == "" {
			e.Error = resp.Status
		}
		return &HTTPError{Status: resp.StatusCode, Err: errors.New(e.Error)}
	}
	if err := json.NewDecoder(body).Decode(v); err != nil {
		return fmt.Errorf("decoding answer of %s: %w", route, err)
	}
	return nil
}
