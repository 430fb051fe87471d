package telemetry

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// ErrorBody is the one error shape every pillars service answers with. Error is for people;
// Code is for programs: a caller tells "no such user" (user_not_found) from "no such route"
// (no_route) by it, never by the status alone, since both are a 404.
type ErrorBody struct {
	Error   string `json:"error"`
	Code    string `json:"code"`
	Status  int    `json:"status"`
	TraceID string `json:"trace_id,omitempty"`
}

// The codes every service shares. A service's own codes (user_not_found) live beside its wire
// types; an error without a code of its own is answered with the code of its status
// (CodeOf).
const (
	CodeNoRoute          = "no_route"           // the server's mux: no route for this path
	CodeMethodNotAllowed = "method_not_allowed" // the path exists, for other methods
)

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
	code := CodeOf(err, status)
	t.Logger.Log(ctx, level, "request failed",
		"method", methodLabel(r.Method), "path", Excerpt(r.URL.Path), "status", status, "code", code, "error", msg)
	WriteJSON(w, status, ErrorBody{
		Error:   msg,
		Code:    code,
		Status:  status,
		TraceID: span.SpanContext().TraceID().String(),
	})
}

// HTTPError is an error that knows its HTTP status and, optionally, its code; handlers
// return it and one place maps errors to responses. A client's call that got an error answer
// returns one too, with the callee's status, code and message.
type HTTPError struct {
	Status int
	Code   string // "" for the status's own code (CodeOf)
	Err    error
}

func (e *HTTPError) Error() string { return e.Err.Error() }
func (e *HTTPError) Unwrap() error { return e.Err }

// CodeOf is the code err is answered with under status: the code of its HTTPError when it has
// one, otherwise the status's name in snake case ("not_found", "bad_gateway"), so that every
// error answer has a code and an unnamed one never claims a meaning it was not given.
func CodeOf(err error, status int) string {
	if he, ok := errors.AsType[*HTTPError](err); ok && he.Code != "" {
		return he.Code
	}
	if status == StatusClientClosedRequest {
		return "client_closed_request"
	}
	text := http.StatusText(status)
	if text == "" {
		return "error"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return r
		case r == ' ' || r == '-':
			return '_'
		}
		return -1
	}, text)
}

// NotFoundError is a callee's answer that what was asked for does not exist: a 404 whose code
// the caller's typed client knows to mean exactly that (user_not_found). Any other 404 (a
// wrong URL answers no_route) stays a plain *HTTPError, which Classify counts as the
// caller's failure.
type NotFoundError struct{ Callee *HTTPError }

func (e *NotFoundError) Error() string { return e.Callee.Error() }
func (e *NotFoundError) Unwrap() error { return e.Callee }

// KnownNotFound is how a typed client maps its callee's answers: a 404 with one of codes,
// the ones the callee's API documents for "no such thing", becomes a *NotFoundError. Every
// other error is returned as it is.
func KnownNotFound(err error, codes ...string) error {
	he, ok := errors.AsType[*HTTPError](err)
	if !ok || he.Status != http.StatusNotFound || !slices.Contains(codes, he.Code) {
		return err
	}
	return &NotFoundError{Callee: he}
}

// StatusOf returns the HTTP status an error should be answered with (500 when unknown).
func StatusOf(err error) int {
	if he, ok := errors.AsType[*HTTPError](err); ok {
		return he.Status
	}
	return http.StatusInternalServerError
}
