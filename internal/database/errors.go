package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"modernc.org/sqlite"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

func badRequest(format string, args ...any) error {
	return &telemetry.HTTPError{Status: http.StatusBadRequest, Err: fmt.Errorf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &telemetry.HTTPError{Status: http.StatusNotFound, Err: fmt.Errorf(format, args...)}
}

// statusOf is the one place that maps this service's errors to HTTP statuses.
func statusOf(err error) int {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		// The caller's deadline (the backend's timeout) ran out while we worked.
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		// The caller gave up (the backend's timeout cancels its request). Nobody reads this
		// answer; the status is for our own metrics and logs, which should not count the
		// caller's departure as a server fault.
		return telemetry.StatusClientClosedRequest
	}
	return telemetry.StatusOf(err) // HTTPError's status, 500 for everything else
}

// publicMessage is what the caller reads about err: an HTTPError's own message (written for
// the caller), otherwise what kind of failure it was, without the driver's text, statement
// names or file paths, which stay in the log line and the span.
func publicMessage(err error) string {
	if he, ok := errors.AsType[*telemetry.HTTPError](err); ok {
		return he.Err.Error()
	}
	switch {
	case errors.Is(err, errInjected):
		return "the query failed on purpose (fault injection)"
	case errors.Is(err, context.DeadlineExceeded):
		return "the query did not finish before the caller's deadline"
	case errors.Is(err, context.Canceled):
		return "the caller cancelled the request"
	case isBusy(err):
		return "the database is locked by another connection and the query gave up waiting"
	}
	return "the query failed"
}

// sqliteBusy and sqliteLocked are SQLite's primary result codes for a lock another
// connection holds (the extended codes keep them in their low byte).
const (
	sqliteBusy   = 5
	sqliteLocked = 6
)

// isBusy reports SQLite's SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock.
func isBusy(err error) bool {
	se, ok := errors.AsType[*sqlite.Error](err)
	if !ok {
		return false
	}
	code := se.Code() & 0xff
	return code == sqliteBusy || code == sqliteLocked
}

// fail answers err as the service's JSON error, logged with the request's trace id. Failures
// that are not the caller's mistake are logged with their cause first.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if _, ok := errors.AsType[*telemetry.HTTPError](err); !ok && status >= 500 {
		s.tel.Logger.LogAttrs(r.Context(), slog.LevelError, "Request failed in the database",
			slog.String("error", err.Error()))
	}
	s.tel.WriteError(w, r, status, errors.New(publicMessage(err)))
}
