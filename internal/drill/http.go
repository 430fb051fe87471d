package drill

import (
	"errors"
	"net/http"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// maxAnswerBody bounds a POST of a diagnosis.
const maxAnswerBody = 16 << 10

// Handler serves the desk over HTTP, for a console form or any client, behind guard (the
// admin guard of the service hosting it):
//
//	GET  /drill/status   the episode's public state
//	POST /drill/answer   grade a diagnosis: 400 naming the field when it is bad
//	GET  /drill/reveal   what the last episode was, once over (409 before)
//	GET  /drill/score    the scoreboard
//
// Starting an episode is not served: it runs as long as the episode, in the drill's process.
func (d *Desk) Handler(guard func(http.Handler) http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /drill/status", guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := d.Status(r.Context())
		answer(w, st, err)
	})))
	mux.Handle("POST /drill/answer", guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := d.Answer(r.Context(), http.MaxBytesReader(w, r.Body, maxAnswerBody))
		answer(w, res, err)
	})))
	mux.Handle("GET /drill/reveal", guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rev, err := d.Reveal(r.Context())
		answer(w, rev, err)
	})))
	mux.Handle("GET /drill/score", guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sb, err := d.Score(r.Context())
		answer(w, sb, err)
	})))
	return mux
}

// FieldErrorBody is the 400 of a bad diagnosis: the one error shape, and the field.
type FieldErrorBody struct {
	telemetry.ErrorBody
	Field string `json:"field"`
}

func answer(w http.ResponseWriter, v any, err error) {
	var fe *FieldError
	switch {
	case err == nil:
		telemetry.WriteJSON(w, http.StatusOK, v)
	case errors.As(err, &fe):
		telemetry.WriteJSON(w, http.StatusBadRequest, FieldErrorBody{telemetry.ErrorBody{Error: fe.Error(), Status: http.StatusBadRequest}, fe.Field})
	case errors.Is(err, ErrNoEpisode):
		telemetry.WriteJSON(w, http.StatusNotFound, telemetry.ErrorBody{Error: err.Error(), Status: http.StatusNotFound})
	default: // not ready, void, over, still running: the episode's state, not the server's fault
		telemetry.WriteJSON(w, http.StatusConflict, telemetry.ErrorBody{Error: err.Error(), Status: http.StatusConflict})
	}
}
