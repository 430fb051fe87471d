package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// The codes of this service's own error answers (ErrorBody.Code), beside the ones every
// service shares (telemetry.CodeNoRoute, ids.CodeInvalid). Client maps the not-found codes to
// a *telemetry.NotFoundError; a caller relies on nothing else.
const (
	CodeUserNotFound    = "user_not_found"
	CodeProductNotFound = "product_not_found"
	CodeInvalidQuery    = "invalid_query" // a named query's name or parameters are wrong
)

func badRequest(format string, args ...any) error {
	return &telemetry.HTTPError{Status: http.StatusBadRequest, Code: CodeInvalidQuery, Err: fmt.Errorf(format, args...)}
}

func userNotFound(id int64) error {
	return &telemetry.HTTPError{Status: http.StatusNotFound, Code: CodeUserNotFound, Err: fmt.Errorf("user %d not found", id)}
}

func productNotFound(id int64) error {
	return &telemetry.HTTPError{Status: http.StatusNotFound, Code: CodeProductNotFound, Err: fmt.Errorf("product %d not found", id)}
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
	case isUnavailable(err):
		// The database server is down or unreachable: this service runs, its store does not.
		return http.StatusServiceUnavailable
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
	case errors.Is(err, errInjected) && faults.Unlabelled(err):
		return "the query failed" // a drill: as a real failure reads
	case errors.Is(err, errInjected):
		return "the query failed on purpose (fault injection)"
	case errors.Is(err, context.DeadlineExceeded):
		return "the query did not finish before the caller's deadline"
	case errors.Is(err, context.Canceled):
		return "the caller cancelled the request"
	case isBusy(err):
		return "the database is locked by another connection and the query gave up waiting"
	case isUnavailable(err):
		return "the database server is unavailable"
	}
	return "the query failed"
}

// sqliteBusy and sqliteLocked are SQLite's primary result codes for a lock another
// connection holds (the extended codes keep them in their low byte).
const (
	sqliteBusy   = 5
	sqliteLocked = 6
)

// isBusy reports that another connection holds a lock the query gave up waiting for: SQLite's
// SQLITE_BUSY or SQLITE_LOCKED, PostgreSQL's lock_not_available (lock_timeout ran out) or
// deadlock_detected.
func isBusy(err error) bool {
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		code := se.Code() & 0xff
		return code == sqliteBusy || code == sqliteLocked
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == pgLockNotAvailable || pe.Code == pgDeadlockDetected
	}
	return false
}

// PostgreSQL's SQLSTATE codes the service tells apart (Appendix A of its manual).
const (
	pgLockNotAvailable = "55P03"
	pgDeadlockDetected = "40P01"
	pgAdminShutdown    = "57P01"
	pgCrashShutdown    = "57P02"
	pgCannotConnectNow = "57P03"
	pgConnectionClass  = "08" // connection_exception and its subclasses
)

// isUnavailable reports that the PostgreSQL server cannot be reached or went away: no
// connection could be made, the server is shutting down or starting, or the connection broke
// (class 08). SQLite, in the process, never is.
func isUnavailable(err error) bool {
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return strings.HasPrefix(pe.Code, pgConnectionClass) || pe.Code == pgAdminShutdown ||
			pe.Code == pgCrashShutdown || pe.Code == pgCannotConnectNow
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF)
}

// fail answers err as the service's JSON error, logged with the request's trace id. Failures
// that are not the caller's mistake are logged with their cause first.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if _, ok := errors.AsType[*telemetry.HTTPError](err); !ok && status >= 500 {
		s.tel.Logger.LogAttrs(r.Context(), slog.LevelError, "Request failed in the database",
			slog.String("error", err.Error()))
	}
	s.tel.WriteError(w, r, status, &telemetry.HTTPError{Status: status, Code: telemetry.CodeOf(err, status), Err: errors.New(publicMessage(err))})
}
