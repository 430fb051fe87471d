package frontend

import (
	"net/http"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// homePattern is the home route as labelled and named; the mux itself needs "GET /{$}" to
// serve "/" only, so exactRoot relabels it.
const homePattern = "GET /"

// spanNames are the seed's entry spans, one per route.
func spanNames() telemetry.SpanNames {
	return telemetry.SpanNames{
		homePattern:         "frontend_home_request",
		"GET /user/{id}":    "frontend_get_user",
		"GET /product/{id}": "frontend_get_product",
	}
}

// Handler returns the frontend's HTTP handler: its routes, probes and /metrics, instrumented.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	s.addRoutes(mux)
	return s.tel.Instrument(mux, spanNames())
}

// addRoutes lists every route of the frontend.
func (s *Service) addRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", exactRoot(s.trackVisitor(s.serveHome)))
	mux.HandleFunc("GET /user/{id}", s.trackVisitor(s.serveUser))
	mux.HandleFunc("GET /product/{id}", s.trackVisitor(s.serveProduct))
	s.health.Register(mux)
	mux.Handle("GET /metrics", telemetry.MetricsHandler(s.tel.Registry))
}

// exactRoot labels the home request "/" rather than "/{$}": Instrument names the span and the
// endpoint label after r.Pattern, which the mux has just set on this very request, and the
// contract's endpoint label (dashboards, alert rules) is "/".
func exactRoot(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Pattern = homePattern
		h(w, r)
	}
}
