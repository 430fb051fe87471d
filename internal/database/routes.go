package database

import (
	"net/http"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Handler serves every route of the service, instrumented: each /db route's SERVER span
// carries the seed's entry span name. It is built once (the request metrics it registers
// can exist only once per registry), so every call returns the same handler.
func (s *Service) Handler() http.Handler {
	s.handlerOnce.Do(func() {
		mux := http.NewServeMux()
		s.addRoutes(mux)
		s.handler = s.tel.Instrument(mux, telemetry.SpanNames{
			"GET /db/user/{id}":    "database_get_user",
			"GET /db/product/{id}": "database_get_product",
			"GET /db/query":        "database_query",
		})
	})
	return s.handler
}

// addRoutes lists every route of the database service.
func (s *Service) addRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /db/user/{id}", s.getUser)
	mux.HandleFunc("GET /db/product/{id}", s.getProduct)
	mux.HandleFunc("GET /db/query", s.runQuery)
	mux.HandleFunc("GET /admin/faults", s.getFaults)
	mux.HandleFunc("PUT /admin/faults", s.putFaults)
	s.health.Register(mux)
	mux.Handle("GET /metrics", s.tel.MetricsHandler())
}
