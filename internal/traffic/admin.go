package traffic

import (
	"errors"
	"net/http"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Routes adds the generator's admin API to mux, behind guard:
//
//	GET   /admin/traffic   the settings in effect, the rate asked for now, a temporary change's end
//	PUT   /admin/traffic   replace them: fields left out take their defaults
//	PATCH /admin/traffic   change the fields given, keep the others
//
// A PUT or PATCH with "duration" holds for that long, then the settings in effect before come
// back. A mistake is a 400 that names the field; every change is logged.
func (g *Generator) Routes(mux *http.ServeMux, tel *telemetry.Telemetry, guard *telemetry.AdminGuard) {
	mux.Handle("GET /admin/traffic", guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		telemetry.WriteJSON(w, http.StatusOK, g.Status())
	})))
	change := func(patch bool) http.Handler {
		return guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var onto *Settings
			if patch {
				s := g.Status().Settings
				onto = &s
			}
			c, err := DecodeChange(r.Body, onto)
			var st Status
			if err == nil {
				st, err = g.Apply(c)
			}
			if err != nil {
				status := http.StatusBadRequest
				if _, ok := errors.AsType[*SettingsError](err); !ok {
					status = http.StatusInternalServerError
				}
				tel.WriteError(w, r, status, errors.New("invalid traffic: "+err.Error()))
				return
			}
			telemetry.WriteJSON(w, http.StatusOK, st)
		}))
	}
	mux.Handle("PUT /admin/traffic", change(false))
	mux.Handle("PATCH /admin/traffic", change(true))
}
