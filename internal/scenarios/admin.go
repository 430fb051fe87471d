package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// maxStartBody bounds a start request: a name and two flags.
const maxStartBody = 1 << 10

// Routes adds the runner's admin API to mux, behind guard:
//
//	GET    /admin/scenarios        the library: every scenario with its story, steps and signature
//	GET    /admin/scenario         the running scenario (step, time left), or the last one
//	PUT    /admin/scenario         start one: {"name": "slow-database"}, or {"blind": true}
//	DELETE /admin/scenario         stop it: each service's own faults back, the traffic as it
//	                               was; with none running, it still ends the scenario faults
//	                               a runner that is gone left on any service
//	GET    /admin/scenario/reveal  the blind scenario's name, running or the last one
//
// Mistakes are answered in the caller's terms: 404 for an unknown scenario (with the known
// ones), 409 while another runs, 400 for a malformed request.
func (r *Runner) Routes(mux *http.ServeMux, tel *telemetry.Telemetry, guard *telemetry.AdminGuard) {
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, guard.Wrap(h)) }
	handle("GET /admin/scenarios", func(w http.ResponseWriter, _ *http.Request) {
		telemetry.WriteJSON(w, http.StatusOK, r.cfg.Library.List())
	})
	handle("GET /admin/scenario", func(w http.ResponseWriter, _ *http.Request) {
		telemetry.WriteJSON(w, http.StatusOK, r.Status())
	})
	handle("PUT /admin/scenario", func(w http.ResponseWriter, req *http.Request) {
		sr, err := decodeStart(req.Body)
		if err != nil {
			tel.WriteError(w, req, http.StatusBadRequest, err)
			return
		}
		st, err := r.Start(sr)
		if err != nil {
			tel.WriteError(w, req, startStatus(err), err)
			return
		}
		telemetry.WriteJSON(w, http.StatusOK, st)
	})
	handle("DELETE /admin/scenario", func(w http.ResponseWriter, _ *http.Request) {
		telemetry.WriteJSON(w, http.StatusOK, r.Stop())
	})
	handle("GET /admin/scenario/reveal", func(w http.ResponseWriter, req *http.Request) {
		rv, err := r.Reveal()
		if err != nil {
			tel.WriteError(w, req, http.StatusNotFound, err)
			return
		}
		telemetry.WriteJSON(w, http.StatusOK, rv)
	})
}

func decodeStart(body io.Reader) (StartRequest, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxStartBody+1))
	if err != nil {
		return StartRequest{}, err
	}
	if len(data) > maxStartBody {
		return StartRequest{}, errors.New("start request larger than 1 KiB")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var sr StartRequest
	if err := dec.Decode(&sr); err != nil {
		return StartRequest{}, errors.New(`want {"name": "<scenario>"} or {"blind": true}, optionally with "timescale"`)
	}
	return sr, nil
}

func startStatus(err error) int {
	if _, ok := errors.AsType[*UnknownError](err); ok {
		return http.StatusNotFound
	}
	if _, ok := errors.AsType[*RequestError](err); ok {
		return http.StatusBadRequest
	}
	if errors.Is(err, ErrBusy) || errors.Is(err, ErrClosed) {
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}
