package telemetry

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// SpanNames maps a ServeMux pattern ("GET /user/{id}") to the name the seed gives its entry
// span ("frontend_get_user"). Routes without a name get the semantic-convention name
// "METHOD /route".
type SpanNames map[string]string

// unmatched is the endpoint label of requests no route matched: one bounded value instead of
// a raw path per scanner probe.
const unmatched = "unmatched"

// maxURLBytes bounds the request target (path and query). Past it the request is answered
// 414 before any route runs, so that an oversized URL never reaches a handler or a log line,
// and a span only cut to its first bytes. Go's server itself answers 431 when the request line and headers pass MaxHeaderBytes.
const maxURLBytes = 8 << 10

// InstrumentOption changes how Instrument treats incoming requests.
type InstrumentOption func(*instrumented)

// PublicEndpoint makes every request the root of a new trace, linked to the caller's trace
// context when it sent one, instead of continuing it, as otelhttp's WithPublicEndpoint does.
// At the edge a traceparent comes from anyone: continuing it would let any client choose
// trace ids, sampling and baggage for the whole system. Baggage from outside is dropped too.
func PublicEndpoint() InstrumentOption {
	return func(h *instrumented) { h.public = true }
}

// Instrument wraps a service's mux so that every request is one SERVER span (continuing the
// caller's trace, or starting a new one at a public endpoint), is counted and timed under its
// route template with the trace as exemplar, answers with a traceresponse header, and turns a
// panic into a 500 with an error span and an error log. Unknown routes and wrong methods
// answer JSON errors; an oversized URL answers 414.
//
// The span is otelhttp's (its attributes, body sizes and status are the conventions' own),
// named as the seed names its entry spans. Around it sits what the seed needs and otelhttp
// does not do: the seed's metrics with exemplars, the standard duration histogram in
// Prometheus, and recovery from panics, which otelhttp leaves to the server.
//
// Probes, scrapes and profiles (/metrics, /health, /healthz, /ready, /debug/pprof/) bypass
// all of it: a trace every few seconds per scraper would bury the traces people look for.
func (t *Telemetry) Instrument(mux *http.ServeMux, names SpanNames, opts ...InstrumentOption) http.Handler {
	mux.Handle("/", t.fallback(mux))
	h := &instrumented{t: t, mux: mux, names: names, metrics: newHTTPMetrics(t.Registry, t.Service)}
	for _, o := range opts {
		o(h)
	}
	propagator := t.Propagator
	if h.public {
		propagator = edgePropagator{t.Propagator}
	}
	h.traced = otelhttp.NewHandler(http.HandlerFunc(h.serveTraced), "",
		otelhttp.WithTracerProvider(liveProvider{tracer: t.Tracer}),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()), // the metrics are the seed's, below
		otelhttp.WithPropagators(propagator),
		otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return h.public }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return exchangeFrom(r.Context()).spanName }))
	return h
}

type instrumented struct {
	t       *Telemetry
	mux     *http.ServeMux
	names   SpanNames
	metrics *HTTPMetrics
	public  bool
	traced  http.Handler // otelhttp's handler around serveTraced
}

func (h *instrumented) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/metrics", "/health", "/healthz", "/ready":
		h.mux.ServeHTTP(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/debug/pprof/") {
		h.mux.ServeHTTP(w, r) // a profile being read is not a request to trace
		return
	}
	start := time.Now()
	ex := h.match(r)
	r = r.WithContext(withExchange(r.Context(), ex))
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = countBody{ReadCloser: r.Body, n: &ex.read}
	}
	// Deferred, so that a request whose handler aborts (http.ErrAbortHandler, which is
	// re-panicked to the server to cut the connection) is counted all the same.
	defer func() {
		v := recover()
		h.measure(r, ex, time.Since(start))
		if v != nil {
			panic(v)
		}
	}()
	h.traced.ServeHTTP(ex.record(w), r)
}

// match finds the request's route before the span starts, so that the span is born with its
// final name (the sampler sees it). The mux matches again when it serves: a few hundred
// nanoseconds.
func (h *instrumented) match(r *http.Request) *exchange {
	pattern := ""
	if len(r.RequestURI) <= maxURLBytes {
		_, pattern = h.mux.Handler(r)
		if pattern == "/" {
			pattern = "" // the JSON 404/405 fallback is not a route
		}
	}
	ex := &exchange{route: routeOf(pattern), spanName: h.names[pattern]}
	if ex.spanName == "" {
		ex.spanName = methodLabel(r.Method)
		if ex.route != unmatched {
			ex.spanName += " " + ex.route
		}
	}
	return ex
}

// serveTraced runs inside otelhttp's span: it answers the traceresponse header, puts the
// route on the span, and turns a panic into a 500 (when nothing was sent yet) and an error
// span.
func (h *instrumented) serveTraced(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	span := trace.SpanFromContext(ctx)
	ex := exchangeFrom(ctx)
	ex.span = span.SpanContext()
	if sc := ex.span; sc.IsValid() {
		w.Header().Set("traceresponse", "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-"+sc.TraceFlags().String())
	}
	if ex.route != unmatched {
		span.SetAttributes(semconv.HTTPRoute(ex.route))
	}
	// otelhttp records the path and the user agent whole; they are input, and bounded here as
	// in the logs (a later write of a key replaces the value).
	if len(r.URL.Path) > MaxEcho {
		span.SetAttributes(semconv.URLPath(Excerpt(r.URL.Path)))
	}
	if ua := r.UserAgent(); len(ua) > MaxEcho {
		span.SetAttributes(semconv.UserAgentOriginal(Excerpt(ua)))
	}
	r = r.WithContext(withRequestIDs(ctx, h.t.unmeasured))
	ex.ctx = r.Context()
	defer h.recoverPanic(w, r, span, ex)
	if len(r.RequestURI) > maxURLBytes {
		h.t.WriteError(w, r, http.StatusRequestURITooLong,
			fmt.Errorf("request URL is %d bytes long; at most %d are accepted", len(r.RequestURI), maxURLBytes))
		return
	}
	h.mux.ServeHTTP(w, r)
}

// recoverPanic answers a handler's panic: a 500 when nothing was sent yet (otherwise the
// client keeps the status it got), an error span and an error log. http.ErrAbortHandler is
// the handler asking for the connection to be cut: it goes on to the server, after the span
// says so.
func (h *instrumented) recoverPanic(w http.ResponseWriter, r *http.Request, span trace.Span, ex *exchange) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as the stdlib does
		ex.aborted = true
		span.SetAttributes(semconv.ErrorTypeKey.String(ex.errorType()))
		span.SetStatus(codes.Error, "handler aborted the response")
		panic(v)
	}
	ex.panicked = true
	err := fmt.Errorf("panic: %v", v)
	h.t.Logger.ErrorContext(r.Context(), "panic while serving request",
		"method", r.Method, "path", Excerpt(r.URL.Path), "error", err.Error(), "stack", string(debug.Stack()))
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
	if ex.status == 0 {
		h.t.WriteError(w, r, http.StatusInternalServerError, errors.New("internal error"))
		return
	}
	span.SetAttributes(semconv.ErrorTypeKey.String(ex.errorType()))
}

// measure records the request in the seed's metrics and the standard ones, with the
// request's trace as exemplar.
func (h *instrumented) measure(r *http.Request, ex *exchange, took time.Duration) {
	if h.t.unmeasured {
		return
	}
	ctx := r.Context()
	if ex.ctx != nil {
		ctx = ex.ctx // the span's, with its exemplar labels made once
	}
	method, status := methodLabel(r.Method), ex.statusCode()
	code := strconv.Itoa(status)
	Inc(ctx, h.metrics.requests.WithLabelValues(method, ex.route, code))
	Observe(ctx, h.metrics.duration.WithLabelValues(ex.route), took.Seconds())
	route := ex.route
	if route == unmatched {
		route = "" // http.route is absent when no route matched
	}
	Observe(ctx, h.metrics.standardDuration.WithLabelValues(method, route, code, ex.errorType()), took.Seconds())
	h.metrics.requestSize.WithLabelValues(method, route, code).Observe(float64(ex.read))
	h.metrics.responseSize.WithLabelValues(method, route, code).Observe(float64(ex.written))
}

// statusCode is the status the client got: the one sent, or for an aborted handler that sent
// nothing a 500 (the connection was cut: the server failed the request).
func (ex *exchange) statusCode() int {
	if ex.status == 0 {
		return http.StatusInternalServerError
	}
	return ex.status
}

// errorType is error.type: empty for a success, "aborted" or "panic" for a handler that
// failed after (or instead of) answering, else the status code of a 5xx.
func (ex *exchange) errorType() string {
	switch {
	case ex.aborted:
		return "aborted"
	case ex.panicked && ex.status < 500:
		return "panic"
	case ex.statusCode() >= 500:
		return strconv.Itoa(ex.statusCode())
	}
	return ""
}

// splitHostPort splits "host:port" (or a bare host, or "[v6]:port"); the port is 0 when absent
// or malformed. The host is bounded: a Host header is input.
func splitHostPort(hp string) (string, int) {
	host, portText, err := net.SplitHostPort(hp)
	if err != nil {
		return Excerpt(hp), 0
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		port = 0
	}
	return Excerpt(host), port
}

// fallback answers what no route matched: 405 with Allow when the path exists for other
// methods, otherwise 404, both as JSON errors whose codes (method_not_allowed, no_route) tell
// a caller with a wrong URL from one asking for something that does not exist.
func (t *Telemetry) fallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, p := mux.Handler(probe); p != "/" && p != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			t.WriteError(w, r, http.StatusMethodNotAllowed, &HTTPError{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
				Err: fmt.Errorf("method %s not allowed on %s (allowed: %s)", methodLabel(r.Method), Excerpt(r.URL.Path), strings.Join(allow, ", "))})
			return
		}
		t.WriteError(w, r, http.StatusNotFound, &HTTPError{Status: http.StatusNotFound, Code: CodeNoRoute,
			Err: fmt.Errorf("no route for %s %s", methodLabel(r.Method), Excerpt(r.URL.Path))})
	})
}

// routeOf turns a ServeMux pattern into the endpoint label: "GET /user/{id}" → "/user/{id}",
// and "GET /{$}" (the root alone) → "/".
func routeOf(pattern string) string {
	if pattern == "" {
		return unmatched
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		pattern = path
	}
	// Host-qualified patterns are not used here; the path is what stays bounded.
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:]
	}
	if trimmed, ok := strings.CutSuffix(pattern, "{$}"); ok {
		pattern = trimmed
	}
	return pattern
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}
