package backend

import (
	"net/http"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Handler returns the backend's HTTP handler, built once: routes, probes and /metrics,
// instrumented.
func (s *Service) Handler() http.Handler { return s.handler() }

// routes builds the handler: every route of the backend is listed here. Its operations (the
// admin API, probes, profiles, /metrics) are served beside the instrumented API, outside the
// traces and the request metrics.
func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	api := func(route string, h http.HandlerFunc) http.Handler {
		return s.faults.Wrap(route, s.cfg.RequestFaults, s.leaking(h))
	}
	mux.Handle("GET /api/data", api("/api/data", s.getData))
	mux.Handle("GET /api/user/{id}", api("/api/user/{id}", s.getUser))
	mux.Handle("GET /api/product/{id}", api("/api/product/{id}", s.getProduct))
	ops := http.NewServeMux()
	s.faults.Routes(ops, s.tel, s.guard)
	s.health.Register(ops)
	s.guard.Profiles(ops)
	ops.Handle("GET /metrics", s.tel.MetricsHandler())
	return s.tel.WithOperations(ops, s.tel.Instrument(mux, telemetry.SpanNames{
		"GET /api/data":         "backend_get_data",
		"GET /api/user/{id}":    "backend_get_user",
		"GET /api/product/{id}": "backend_get_product",
	}))
}

// routeTemplates are the API's routes, as the route knob of the faults names them.
func routeTemplates() []string { return []string{"/api/data", "/api/user/{id}", "/api/product/{id}"} }
