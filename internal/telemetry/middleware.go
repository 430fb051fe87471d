package telemetry

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// SpanNames maps a ServeMux pattern ("GET /user/{id}") to the name the seed gives its entry
// span ("frontend_get_user"). Routes without a name get the semantic-convention name
// "METHOD /route".
type SpanNames map[string]string

// unmatched is the endpoint label of requests no route matched: one bounded value instead of
// a raw path per scanner probe.
const unmatched = "unmatched"

// Instrument wraps a service's mux so that every request is one SERVER span (continuing the
// caller's trace), is counted and timed under its route template with the trace as exemplar,
// answers with a traceresponse header, and turns a panic into a 500 with an error span and an
// error log. Unknown routes and wrong methods answer JSON errors.
//
// Probes and scrapes (/metrics, /health, /healthz, /ready) bypass all of it: a trace every few
// seconds per scraper would bury the traces people look for.
func (t *Telemetry) Instrument(mux *http.ServeMux, names SpanNames) http.Handler {
	m := newHTTPMetrics(t.Registry, t.Service)
	mux.Handle("/", t.fallback(mux))
	return &instrumented{t: t, mux: mux, names: names, metrics: m}
}

type instrumented struct {
	t       *Telemetry
	mux     *http.ServeMux
	names   SpanNames
	metrics *HTTPMetrics
}

func (h *instrumented) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/metrics", "/health", "/healthz", "/ready":
		h.mux.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	// Match the route before the span starts, so that the span is born with its final name
	// and http.route (the sampler sees them, and a rename plus a second attribute write per
	// request are spared). The mux matches again when it serves: a few hundred nanoseconds.
	_, pattern := h.mux.Handler(r)
	if pattern == "/" {
		pattern = "" // the JSON 404/405 fallback is not a route
	}
	route := routeOf(pattern)
	name := h.names[pattern]
	if name == "" {
		name = r.Method
		if route != unmatched {
			name += " " + route
		}
	}
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(r.Method),
		semconv.URLPath(r.URL.Path),
		semconv.URLScheme("http"),
		semconv.ServerAddress(r.Host),
		semconv.UserAgentOriginal(r.UserAgent()),
		semconv.ClientAddress(r.RemoteAddr),
	}
	if route != unmatched {
		attrs = append(attrs, semconv.HTTPRoute(route))
	}
	ctx := h.t.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := h.t.Tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	sc := span.SpanContext()
	if sc.IsValid() {
		w.Header().Set("traceresponse", "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-"+sc.TraceFlags().String())
	}
	sw := &statusWriter{ResponseWriter: w}
	ctx = withRequestIDs(ctx)
	r = r.WithContext(ctx)

	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as the stdlib does
				panic(v)
			}
			err := fmt.Errorf("panic: %v", v)
			h.t.Logger.ErrorContext(ctx, "panic while serving request",
				"method", r.Method, "path", r.URL.Path, "error", err.Error(), "stack", string(debug.Stack()))
			span.RecordError(err)
			if !sw.wrote {
				h.t.WriteError(sw, r, http.StatusInternalServerError, errors.New("internal error"))
			}
			sw.status = http.StatusInternalServerError
			span.SetStatus(codes.Error, err.Error())
		}
		span.SetAttributes(semconv.HTTPResponseStatusCode(sw.status))
		if sw.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
		span.End()

		Inc(ctx, h.metrics.requests.WithLabelValues(methodLabel(r.Method), route, strconv.Itoa(sw.status)))
		Observe(ctx, h.metrics.duration.WithLabelValues(route), time.Since(start).Seconds())
	}()
	h.mux.ServeHTTP(sw, r)
}

// fallback answers what no route matched: 405 with Allow when the path exists for other
// methods, otherwise 404, both as JSON errors.
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
			t.WriteError(w, r, http.StatusMethodNotAllowed,
				fmt.Errorf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", ")))
			return
		}
		t.WriteError(w, r, http.StatusNotFound, fmt.Errorf("no route for %s %s", r.Method, r.URL.Path))
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
