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
// traces, every request starts a new trace, linked to the caller's.
func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	s.addRoutes(mux)
	var opts []telemetry.InstrumentOption
	if !s.cfg.ContinueIncomingTraces {
		opts = append(opts, telemetry.PublicEndpoint())
	}
	return s.tel.Instrument(mux, spanNames(), opts...)
}

// addRoutes lists every route of the frontend.
func (s *Service) addRoutes(mux *http.ServeMux) {
	page := func(route string, h http.HandlerFunc) http.Handler {
		return s.faults.Wrap(route, s.cfg.RequestFaults, s.trackVisitor(h))
	}
	mux.Handle("GET /{$}", page("/", s.serveHome))
	mux.Handle("GET /user/{id}", page("/user/{id}", s.serveUser))
	mux.Handle("GET /product/{id}", page("/product/{id}", s.serveProduct))
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
