package telemetry

// The hand-written server middleware this package used before its spans came from otelhttp,
// kept as a test file only so that the benchmark can measure both in the same run
// (BenchmarkAlternativeServerMiddleware). It has the gaps the new one closes: an aborted
// handler's span is never ended, a panic after a 200 counts as a 500, Flusher and Hijacker
// are hidden, body sizes are not recorded.

import (
	"context"
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
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

func legacyInstrument(t *Telemetry, mux *http.ServeMux, names SpanNames) http.Handler {
	m := newHTTPMetrics(t.Registry, t.Service)
	mux.Handle("/", t.fallback(mux))
	return &legacyInstrumented{t: t, mux: mux, names: names, metrics: m}
}

type legacyInstrumented struct {
	t       *Telemetry
	mux     *http.ServeMux
	names   SpanNames
	metrics *HTTPMetrics
	public  bool
}

func (h *legacyInstrumented) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	sw := &legacyStatusWriter{ResponseWriter: w}
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
func (h *legacyInstrumented) startSpan(r *http.Request, name, route string) (context.Context, trace.Span) {
	attrs := legacyServerAttributes(r, route)
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
func legacyServerAttributes(r *http.Request, route string) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 12)
	attrs = append(attrs,
		semconv.HTTPRequestMethodKey.String(methodLabel(r.Method)),
		semconv.URLPath(Excerpt(r.URL.Path)),
		semconv.URLScheme(legacyScheme(r)),
		semconv.NetworkProtocolVersion(legacyProtocolVersion(r)),
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

func legacyScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func legacyProtocolVersion(r *http.Request) string {
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

// statusWriter remembers the status code for the span and the metrics.
type legacyStatusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *legacyStatusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *legacyStatusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flush, deadlines).
func (w *legacyStatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
