package faults

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// maxAdminBody bounds a PUT or PATCH of knobs: a document of a few short fields.
const maxAdminBody = 4 << 10

// Routes adds the admin API of the switch to mux, behind guard:
//
//	GET    /admin/faults        the faults in effect (every knob, zero when off)
//	PUT    /admin/faults        replace them: knobs left out are off ({} clears everything)
//	PATCH  /admin/faults        change the knobs given, keep the others
//	GET    /admin/faults/knobs  what each knob is, its bounds, whether a request may set it
//	GET    /admin/faults/lease  whether leased faults are in effect, until when, and the base
//	PUT    /admin/faults/lease  renew the lease for the X-Pillars-Fault-Lease time (409: none held)
//	DELETE /admin/faults/lease  end the lease now: the base faults come back
//
// A PUT or PATCH with the X-Pillars-Fault-Lease header ("15s") is leased: it lasts while its
// owner renews the lease, and the base (the faults from before the first leased change) comes
// back when it ends. One without is a person's change, kept for good, base included.
//
// A mistake is a 400 that names the knob; every change is logged with the request's trace id.
func (s *Switch[T]) Routes(mux *http.ServeMux, tel *telemetry.Telemetry, guard *telemetry.AdminGuard) {
	// The admin API logs the changes it makes; an expired lease is one it made, later.
	s.log.Store(tel.Logger)
	mux.Handle("GET /admin/faults", guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		telemetry.WriteJSON(w, http.StatusOK, s.Current())
	})))
	mux.Handle("GET /admin/faults/knobs", guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		telemetry.WriteJSON(w, http.StatusOK, s.Knobs())
	})))
	change := func(apply func(*Switch[T], *http.Request, time.Duration) (T, error)) http.Handler {
		return guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ttl, err := ParseLease(r.Header.Get(LeaseHeader))
			if err != nil {
				tel.WriteError(w, r, http.StatusBadRequest, err)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxAdminBody)
			v, err := apply(s, r, ttl)
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
				attrs := []slog.Attr{slog.String("faults", desc), slog.String("method", r.Method)}
				if ttl > 0 {
					attrs = append(attrs, slog.String("lease", ttl.String()))
				}
				tel.Logger.LogAttrs(r.Context(), slog.LevelInfo, "Fault injection updated", attrs...)
			}
			telemetry.WriteJSON(w, http.StatusOK, v)
		}))
	}
	s.labelRoutes(mux, tel, guard)
	mux.Handle("PUT /admin/faults", change(func(s *Switch[T], r *http.Request, ttl time.Duration) (T, error) { return s.Replace(r.Body, ttl) }))
	mux.Handle("PATCH /admin/faults", change(func(s *Switch[T], r *http.Request, ttl time.Duration) (T, error) { return s.Patch(r.Body, ttl) }))
	s.leaseRoutes(mux, tel, guard)
}

// Released is what DELETE /admin/faults/lease answers: whether a lease was held, and the
// faults in effect now.
type Released[T any] struct {
	Released bool `json:"released"`
	Faults   T    `json:"faults"`
}

func (s *Switch[T]) leaseRoutes(mux *http.ServeMux, tel *telemetry.Telemetry, guard *telemetry.AdminGuard) {
	mux.Handle("GET /admin/faults/lease", guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		telemetry.WriteJSON(w, http.StatusOK, s.Lease())
	})))
	mux.Handle("PUT /admin/faults/lease", guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ttl, err := ParseLease(r.Header.Get(LeaseHeader))
		if err == nil && ttl == 0 {
			err = errors.New("a renewal needs its time to live: send " + LeaseHeader + ": 15s")
		}
		if err != nil {
			tel.WriteError(w, r, http.StatusBadRequest, err)
			return
		}
		if err := s.Renew(ttl); err != nil {
			tel.WriteError(w, r, http.StatusConflict, err)
			return
		}
		telemetry.WriteJSON(w, http.StatusOK, s.Lease())
	})))
	mux.Handle("DELETE /admin/faults/lease", guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		released, v := s.Release()
		if released && s.Labelled() { // a drill's change leaves no line that names it
			desc := s.Describe(&v)
			if desc == "" {
				desc = "none"
			}
			tel.Logger.LogAttrs(r.Context(), slog.LevelInfo, "Fault lease released: the base faults are back", slog.String("faults", desc))
		}
		telemetry.WriteJSON(w, http.StatusOK, Released[T]{Released: released, Faults: v})
	})))
}
