package database

import (
	"net/http"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Handler serves every route of the service: each /db route instrumented, its SERVER span
// carrying the seed's entry span name, and its operations (the admin API, probes, profiles,
// /metrics) beside them, outside the traces and the request metrics. It is built once (the
// request metrics it registers can exist only once per registry), so every call returns the
// same handler.
func (s *Service) Handler() http.Handler {
	s.handlerOnce.Do(func() {
		mux := http.NewServeMux()
		s.addRoutes(mux)
		ops := http.NewServeMux()
		s.addOperations(ops)
		s.handler = s.tel.WithOperations(ops, s.tel.Instrument(mux, telemetry.SpanNames{
			"GET /db/user/{id}":    "database_get_user",
			"GET /db/product/{id}": "database_get_product",
			"GET /db/query":        "database_query",
		}))
	})
	return s.handler
}

// addRoutes lists every route of the database service.
func (s *Service) addRoutes(mux *http.ServeMux) {
	route := func(template string, h http.HandlerFunc) http.Handler {
		return s.faults.Wrap(template, s.cfg.RequestFaults, h)
	}
	mux.Handle("GET /db/user/{id}", route("/db/user/{id}", s.getUser))
	mux.Handle("GET /db/product/{id}", route("/db/product/{id}", s.getProduct))
	mux.Handle("GET /db/query", route("/db/query", s.runQuery))
}

// addOperations lists the routes that run the service rather than serve its callers.
func (s *Service) addOperations(mux *http.ServeMux) {
	s.faults.Routes(mux, s.tel, s.guard)
	s.health.Register(mux)
	s.guard.Profiles(mux)
	mux.Handle("GET /metrics", s.tel.MetricsHandler())
}
