package telemetry

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// ErrorBody is the one error shape every pillars service answers with.
type ErrorBody struct {
	Error   string `json:"error"`
	Status  int    `json:"status"`
	TraceID string `json:"trace_id,omitempty"`
}

// WriteJSON answers v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError answers a JSON error, logs it with the request's trace id (warn for 4xx, error
// for 5xx) and, for 5xx, marks the current span as failed. A 4xx is the caller's mistake, so
// the server span stays unset as the HTTP semantic conventions ask.
func (t *Telemetry) WriteError(w http.ResponseWriter, r *http.Request, status int, err error) {
	ctx := r.Context()
	span := trace.SpanFromContext(ctx)
	level := slog.LevelWarn
	msg := err.Error()
	if status >= 500 {
		level = slog.LevelError
		span.RecordError(err)
		span.SetStatus(codes.Error, cut(msg, 256))
	}
	t.Logger.Log(ctx, level, "request failed",
		"method", methodLabel(r.Method), "path", Excerpt(r.URL.Path), "status", status, "error", msg)
	WriteJSON(w, status, ErrorBody{
		Error:   msg,
		Status:  status,
		TraceID: span.SpanContext().TraceID().String(),
	})
}

// HTTPError is an error that knows its HTTP status; handlers return it and one place maps
// errors to responses.
type HTTPError struct {
	Status int
	Err    error
}

func (e *HTTPError) Error() string { return e.Err.Error() }
func (e *HTTPError) Unwrap() error { return e.Err }

// StatusOf returns the HTTP status an error should be answered with (500 when unknown).
func StatusOf(err error) int {
	if he, ok := errors.AsType[*HTTPError](err); ok {
		return he.Status
	}
	return http.StatusInternalServerError
}
