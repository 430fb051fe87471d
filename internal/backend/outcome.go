package backend

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// outcomeOf classifies the result of a database call: the status label it is counted under
// in backend_database_calls_total, and the HTTP status the backend answers with. It is the
// one place where database failures become statuses:
//
//	database 404                      → not_found     404 (the user or product does not exist)
//	database other 4xx                → client_error  same status
//	database 5xx (or other non-2xx)   → error         502 Bad Gateway
//	an answer that does not decode    → error         502
//	timeout or context deadline       → timeout       504 Gateway Timeout
//	refused, reset or other transport → unavailable   503 Service Unavailable
func outcomeOf(err error) (label string, status int) {
	if err == nil {
		return callSuccess, http.StatusOK
	}
	if he, ok := errors.AsType[*telemetry.HTTPError](err); ok {
		switch {
		case he.Status == http.StatusNotFound:
			return callNotFound, http.StatusNotFound
		case he.Status >= 400 && he.Status < 500:
			return callClientError, he.Status
		default:
			return callError, http.StatusBadGateway
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return callTimeout, http.StatusGatewayTimeout
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return callTimeout, http.StatusGatewayTimeout
	}
	if errors.Is(err, context.Canceled) {
		return callUnavailable, http.StatusServiceUnavailable
	}
	if _, ok := errors.AsType[*url.Error](err); ok {
		return callUnavailable, http.StatusServiceUnavailable
	}
	return callError, http.StatusBadGateway
}

// fail answers a failed request with a JSON error (through telemetry.WriteError, which logs
// it with the trace id). subject names what was asked for: "user 123", "product 7", "data".
func (s *Service) fail(w http.ResponseWriter, r *http.Request, subject string, err error) {
	if ie, ok := errors.AsType[*invalidIDError](err); ok {
		s.tel.WriteError(w, r, http.StatusBadRequest, ie)
		return
	}
	label, status := outcomeOf(err)
	var msg string
	switch label {
	case callNotFound:
		msg = subject + " does not exist"
	case callClientError:
		msg = "database rejected the request for " + subject + ": " + err.Error()
	case callTimeout:
		msg = "database did not answer in time for " + subject + " (timeout " + s.cfg.DatabaseTimeout.String() + ")"
	case callUnavailable:
		msg = "database unavailable for " + subject + ": " + transportCause(err)
	default:
		msg = "database error for " + subject + ": " + err.Error()
	}
	s.tel.WriteError(w, r, status, errors.New(msg))
}

// transportCause drops the "Get <url>:" prefix of a transport error: the caller learns why
// the database could not be reached (refused, reset, no such host), not which internal URL
// and path were called.
func transportCause(err error) string {
	if errors.Is(err, context.Canceled) {
		return "request cancelled before the database answered"
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err.Error()
	}
	return err.Error()
}
