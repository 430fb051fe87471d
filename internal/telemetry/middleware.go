package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
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
// 414 before any route runs, so that an oversized URL never reaches a handler, a log line or a
// span. Go's server itself answers 431 when the request line and headers pass MaxHeaderBytes.
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
// Probes, scrapes and profiles (/metrics, /health, /healthz, /ready, /debug/pprof/) bypass
// all of it: a trace every few seconds per scraper would bury the traces people look for.
func (t *Telemetry) Instrument(mux *http.ServeMux, names SpanNames, opts ...InstrumentOption) http.Handler {
	m := newHTTPMetrics(t.Registry, t.Service)
	mux.Handle("/", t.fallback(mux))
	h := &instrumented{t: t, mux: mux, names: names, metrics: m}
	for _, o := range opts {
		o(h)
	}
	return h
}

type instrumented struct {
	t       *Telemetry
	mux     *http.ServeMux
	names   SpanNames
	metrics *HTTPMetrics
	public  bool
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
	// Match the route before the span starts, so that the span is born with its final name
	// and http.route (the sampler sees them, and a rename plus a second attribute write per
	// request are spared). The mux matches again when it serves: a few hundred nanoseconds.
	tooLong := len(r.RequestURI) > maxURLBytes
	pattern := ""
	if !tooLong {
		_, pattern = h.mux.Handler(r)
		if pattern == "/" {
			pattern = "" // the JSON 404/405 fallback is not a route
		}
	}
	route := routeOf(pattern)
	name := h.names[pattern]
	if name == "" {
		name = methodLabel(r.Method)
		if route != unmatched {
			name += " " + route
		}
	}
	ctx, span := h.startSpan(r, name, route)
	sc := span.SpanContext()
	if sc.IsValid() {
		w.Header().Set("traceresponse", "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-"+sc.TraceFlags().String())
	}
	sw := &statusWriter{ResponseWriter: w}
	ctx = withRequestIDs(ctx, h.t.unmeasured)
	r = r.WithContext(ctx)

	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as the stdlib does
				panic(v)
			}
			err := fmt.Errorf("panic: %v", v)
			h.t.Logger.ErrorContext(ctx, "panic while serving request",
				"method", r.Method, "path", Excerpt(r.URL.Path), "error", err.Error(), "stack", string(debug.Stack()))
			span.RecordError(err)
			if !sw.wrote {
				h.t.WriteError(sw, r, http.StatusInternalServerError, errors.New("internal error"))
			}
			sw.status = http.StatusInternalServerError
			span.SetStatus(codes.Error, err.Error())
		}
		span.SetAttributes(semconv.HTTPResponseStatusCode(sw.status))
		if sw.status >= 500 {
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(sw.status)))
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
		span.End()

		if !h.t.unmeasured {
			Inc(ctx, h.metrics.requests.WithLabelValues(methodLabel(r.Method), route, strconv.Itoa(sw.status)))
			Observe(ctx, h.metrics.duration.WithLabelValues(route), time.Since(start).Seconds())
		}
	}()
	if tooLong {
		h.t.WriteError(sw, r, http.StatusRequestURITooLong,
			fmt.Errorf("request URL is %d bytes long; at most %d are accepted", len(r.RequestURI), maxURLBytes))
		return
	}
	h.mux.ServeHTTP(sw, r)
}

// startSpan starts the request's SERVER span: a child of the caller's span, or at a public
// endpoint the root of a new trace with a link to the caller's.
func (h *instrumented) startSpan(r *http.Request, name, route string) (context.Context, trace.Span) {
	attrs := serverAttributes(r, route)
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...)}
	remote := h.t.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	if !h.public {
		return h.t.Tracer.Start(remote, name, opts...)
	}
	opts = append(opts, trace.WithNewRoot())
	if sc := trace.SpanContextFromContext(remote); sc.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
	}
	return h.t.Tracer.Start(r.Context(), name, opts...)
}

// serverAttributes are the HTTP server span attributes of the semantic conventions, as
// otelhttp sets them: the host and port the client addressed apart, the peer's address and
// port apart, the path bounded.
func serverAttributes(r *http.Request, route string) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 12)
	attrs = append(attrs,
		semconv.HTTPRequestMethodKey.String(methodLabel(r.Method)),
		semconv.URLPath(Excerpt(r.URL.Path)),
		semconv.URLScheme(scheme(r)),
		semconv.NetworkProtocolVersion(protocolVersion(r)),
	)
	if host, port := splitHostPort(r.Host); host != "" {
		attrs = append(attrs, semconv.ServerAddress(host))
		if port > 0 {
			attrs = append(attrs, semconv.ServerPort(port))
		}
	}
	// client.port is opt-in in the conventions, and a fresh number per connection: left out.
	if host, port := splitHostPort(r.RemoteAddr); host != "" {
		attrs = append(attrs, semconv.ClientAddress(host), semconv.NetworkPeerAddress(host))
		if port > 0 {
			attrs = append(attrs, semconv.NetworkPeerPort(port))
		}
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(ua))
	}
	if route != unmatched {
		attrs = append(attrs, semconv.HTTPRoute(route))
	}
	return attrs
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func protocolVersion(r *http.Request) string {
	switch {
	case r.ProtoMajor == 1 && r.ProtoMinor == 1:
		return "1.1"
	case r.ProtoMajor == 2:
		return "2"
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		return "1.0"
	}
	return strconv.Itoa(r.ProtoMajor) + "." + strconv.Itoa(r.ProtoMinor)
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

// statusWriter remembers the status code for the span and the metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flush, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
