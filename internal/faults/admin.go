package faults

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// maxAdminBody bounds a PUT or PATCH of knobs: a document of a few short fields.
const maxAdminBody = 4 << 10

// Routes adds the admin API of the switch to mux, behind guard:
//
//	GET   /admin/faults        the faults in effect (every knob, zero when off)
//	PUT   /admin/faults        replace them: knobs left out are off ({} clears everything)
//	PATCH /admin/faults        change the knobs given, keep the others
//	GET   /admin/faults/knobs  what each knob is, its bounds, whether a request may set it
//
// A mistake is a 400 that names the knob; every change is logged with the request's trace id.
func (s *Switch[T]) Routes(mux *http.ServeMux, tel *telemetry.Telemetry, guard *telemetry.AdminGuard) {
	mux.Handle("GET /admin/faults", guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		telemetry.WriteJSON(w, http.StatusOK, s.Current())
	})))
	mux.Handle("GET /admin/faults/knobs", guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		telemetry.WriteJSON(w, http.StatusOK, s.Knobs())
	})))
	change := func(apply func(*Switch[T], *http.Request) (T, error)) http.Handler {
		return guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, maxAdminBody)
			v, err := apply(s, r)
			if err != nil {
				status := http.StatusBadRequest
				if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
					status, err = http.StatusRequestEntityTooLarge, errors.New("faults document larger than 4 KiB")
				}
				tel.WriteError(w, r, status, errors.New("invalid faults: "+err.Error()))
				return
			}
			if s.Labelled() { // a drill's change leaves no line that names it
				desc := s.Describe(&v)
				if desc == "" {
					desc = "none"
				}
				tel.Logger.LogAttrs(r.Context(), slog.LevelInfo, "Fault injection updated",
					slog.String("faults", desc), slog.String("method", r.Method))
			}
			telemetry.WriteJSON(w, http.StatusOK, v)
		}))
	}
	s.labelRoutes(mux, tel, guard)
	mux.Handle("PUT /admin/faults", change(func(s *Switch[T], r *http.Request) (T, error) { return s.Replace(r.Body) }))
	mux.Handle("PATCH /admin/faults", change(func(s *Switch[T], r *http.Request) (T, error) { return s.Patch(r.Body) }))
}
