package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// maxAnswerBytes bounds how much of a callee's answer is read: the largest legitimate answer
// (a product with its inventory, the overview) is a few kilobytes.
const maxAnswerBytes = 4 << 20

// Client is the HTTP client a service uses to call the next one: each call is a CLIENT span
// named after the route template it calls, with W3C trace context and baggage injected, so a
// trace store can derive the service graph from client/server span pairs. The span ends when
// the answer has been read, as otelhttp's does, so its duration covers the whole exchange.
type Client struct {
	http       *http.Client
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

// ClientOption changes a Client.
type ClientOption func(*clientOptions)

type clientOptions struct {
	wrap func(http.RoundTripper) http.RoundTripper
}

// WithTransport wraps the client's transport, e.g. to break calls on purpose (faults.Transport).
func WithTransport(wrap func(http.RoundTripper) http.RoundTripper) ClientOption {
	return func(o *clientOptions) { o.wrap = wrap }
}

// NewClient returns a Client with a connection pool sized for a busy service-to-service hop.
// Deadlines come from the caller's context, so a request's remaining time carries through.
// Redirects are never followed: between services one means a misconfigured URL, and it is
// answered as the callee's unexpected answer instead of silently calling somewhere else.
func (t *Telemetry) NewClient(opts ...ClientOption) *Client {
	var o clientOptions
	for _, opt := range opts {
		opt(&o)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 256
	tr.IdleConnTimeout = 90 * time.Second
	var rt http.RoundTripper = tr
	if o.wrap != nil {
		rt = o.wrap(tr)
	}
	return &Client{
		http: &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		tracer:     t.Tracer,
		propagator: t.Propagator,
	}
}

// Answer is implemented by wire types that can tell a complete answer from an incomplete one
// (an empty object decodes without error into zero values).
type Answer interface {
	Validate() error
}

// GetJSON calls rawURL (route is the callee's route template, "/api/user/{id}", and names the
// span) and decodes a 2xx JSON answer into v, then checks it with v's Validate when v is an
// Answer. A non-2xx answer becomes an *HTTPError with the callee's status and message; an
// answer that cannot be read or is incomplete wraps ErrBadAnswer. Classify tells them apart.
func (c *Client) GetJSON(ctx context.Context, route, rawURL string, v any) (err error) {
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
		trace.WithAttributes(clientServerAttrs(req.URL)...))
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
		return &HTTPError{Status: resp.StatusCode, Code: cut(e.Code, 64), Err: errors.New(cut(e.Error, 512))}
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
func clientServerAttrs(u *url.URL) []attribute.KeyValue {
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

// errorType gives error.type a bounded value: the status code for HTTP answers, otherwise
// the call's outcome.
func errorType(err error) string {
	if he, ok := errors.AsType[*HTTPError](err); ok {
		return strconv.Itoa(he.Status)
	}
	return Classify(err).Label
}
