package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// maxAnswerBytes bounds how much of a callee's answer is read: the largest legitimate answer
// (a product with its inventory, the overview) is a few kilobytes.
const maxAnswerBytes = 4 << 20

// Client is the HTTP client a service uses to call the next one: each call is a CLIENT span,
// otelhttp's, named after the route template it calls, with the trace context and baggage
// injected, so a trace store can derive the service graph from client/server span pairs. The
// span ends when the answer has been read, so its duration covers the whole exchange; its
// error.type is the call's outcome (timeout, unavailable, ...) or the callee's status.
type Client struct {
	http *http.Client
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
		rt = o.wrap(tr) // inside the span: a broken call shows on it
	}
	rt = otelhttp.NewTransport(outcomes{rt},
		otelhttp.WithTracerProvider(liveProvider{tracer: t.Tracer}),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()),
		otelhttp.WithPropagators(t.Propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if route, ok := r.Context().Value(routeKey{}).(string); ok {
				return r.Method + " " + route
			}
			return r.Method
		}))
	return &Client{
		http: &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

// routeKey holds the callee's route template in a call's context, for the span name.
type routeKey struct{}

// outcomes runs inside otelhttp's span: it adds url.template, and gives a failed call's
// error the bounded error.type of its outcome (otelhttp would name the error's Go type).
type outcomes struct{ next http.RoundTripper }

func (o outcomes) RoundTrip(r *http.Request) (*http.Response, error) {
	if route, ok := r.Context().Value(routeKey{}).(string); ok {
		trace.SpanFromContext(r.Context()).SetAttributes(semconv.URLTemplate(route))
	}
	resp, err := o.next.RoundTrip(r)
	if err != nil {
		return nil, callError{err}
	}
	return resp, nil
}

// callError is a failed call whose ErrorType is its outcome's label.
type callError struct{ err error }

func (e callError) Error() string     { return e.err.Error() }
func (e callError) Unwrap() error     { return e.err }
func (e callError) ErrorType() string { return Classify(e.err).Label }

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
	req, err := http.NewRequestWithContext(context.WithValue(ctx, routeKey{}, route), http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err // otelhttp has ended the span, as an error
	}
	// The span ends when the body is closed or read to its end: an answer that cannot be used
	// (a redirect, JSON that does not decode) is marked on it while it is still open. One that
	// decodes but is incomplete shows on the caller's span, in the 502 it answers. (otelhttp
	// marks a 4xx or 5xx itself.)
	span := trace.SpanFromContext(resp.Request.Context())
	defer resp.Body.Close()
	defer func() {
		if err != nil && resp.StatusCode < 400 {
			span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
			span.SetStatus(codes.Error, cut(err.Error(), 256))
		}
	}()
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

// errorType gives error.type a bounded value: the status code for HTTP answers, otherwise
// the call's outcome.
func errorType(err error) string {
	if he, ok := errors.AsType[*HTTPError](err); ok {
		return strconv.Itoa(he.Status)
	}
	return Classify(err).Label
}
