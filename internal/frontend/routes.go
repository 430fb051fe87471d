package frontend

import (
	"net/http"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// spanNames are the seed's entry spans, one per route.
func spanNames() telemetry.SpanNames {
	return telemetry.SpanNames{
		"GET /{$}":          "frontend_home_request", // the root alone; labelled endpoint="/"
		"GET /user/{id}":    "frontend_get_user",
		"GET /product/{id}": "frontend_get_product",
	}
}

// routeTemplates are the page routes as their endpoint label names them: what the route knob
// of the faults may name.
func routeTemplates() []string { return []string{"/", "/user/{id}", "/product/{id}"} }

// Handler returns the frontend's HTTP handler: its routes, probes and /metrics, instrumented.
// It is built once (the request metrics it registers can exist only once per registry), so
// every call returns the same handler.
func (s *Service) Handler() http.Handler { return s.handler() }

// routes builds the handler. The frontend is the edge: unless told to continue its callers'
// traces, every request starts a new trace, linked to the caller's. Its operations (the admin
// API, the console, probes, /metrics) are served beside the instrumented pages, outside the
// traces and the request metrics.
func (s *Service) routes() http.Handler {
	pages := http.NewServeMux()
	s.addRoutes(pages)
	var opts []telemetry.InstrumentOption
	if !s.cfg.ContinueIncomingTraces {
		opts = append(opts, telemetry.PublicEndpoint())
	}
	ops := http.NewServeMux()
	s.addOperations(ops)
	return s.tel.WithOperations(ops, admitSynthetic(s.tel.Instrument(pages, spanNames(), opts...)))
}

// addRoutes lists every page of the frontend: what visitors (and the traffic generator) ask.
func (s *Service) addRoutes(mux *http.ServeMux) {
	page := func(route string, h http.HandlerFunc) http.Handler {
		return s.faults.Wrap(route, s.cfg.RequestFaults, s.trackVisitor(h))
	}
	mux.Handle("GET /{$}", page("/", s.serveHome))
	mux.Handle("GET /user/{id}", page("/user/{id}", s.serveUser))
	mux.Handle("GET /product/{id}", page("/product/{id}", s.serveProduct))
}

// addOperations lists the routes that run the frontend rather than serve visitors: the admin
// APIs, the console and its assets, probes, profiles and /metrics.
func (s *Service) addOperations(mux *http.ServeMux) {
	s.faults.Routes(mux, s.tel, s.guard)
	s.traffic.Routes(mux, s.tel, s.guard)
	if s.runner != nil {
		s.runner.Routes(mux, s.tel, s.guard)
	}
	s.consoleRoutes(mux)
	s.health.Register(mux)
	s.guard.Profiles(mux)
	mux.Handle("GET /metrics", s.tel.MetricsHandler())
}

// admitSynthetic lets the synthetic marker of built-in traffic (synthetic_request=true in the
// baggage header, see telemetry.MarkSynthetic) through the edge, which drops every other
// member of a caller's baggage: the generator reaches the frontend over HTTP like any
// visitor. The marker is admitted from anyone; it only labels the caller's own request, and
// carries no power over it (unlike a fault, or a sampling decision).
func admitSynthetic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if telemetry.IsSynthetic(r.Header) {
			r = r.WithContext(telemetry.WithSynthetic(r.Context()))
		}
		h.ServeHTTP(w, r)
	})
}
