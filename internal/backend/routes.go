package backend

import (
	"net/http"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Handler returns the backend's HTTP handler, built once: routes, probes and /metrics,
// instrumented.
func (s *Service) Handler() http.Handler { return s.handler() }

// routes builds the handler: every route of the backend is listed here.
func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/data", s.getData)
	mux.HandleFunc("GET /api/user/{id}", s.getUser)
	mux.HandleFunc("GET /api/product/{id}", s.getProduct)
	s.health.Register(mux)
	mux.Handle("GET /metrics", s.tel.MetricsHandler())
	return s.tel.Instrument(mux, telemetry.SpanNames{
		"GET /api/data":         "backend_get_data",
		"GET /api/user/{id}":    "backend_get_user",
		"GET /api/product/{id}": "backend_get_product",
	})
}
