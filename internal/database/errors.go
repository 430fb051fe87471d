package database

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// statusClientClosedRequest is nginx's 499, which net/http does not name.
const statusClientClosedRequest = 499

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
		// caller's departure as a server fault. 499 is the customary code for it.
		return statusClientClosedRequest
	}
	return telemetry.StatusOf(err) // HTTPError's status, 500 for everything else
}

// fail answers err as the service's JSON error, logged with the request's trace id.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.tel.WriteError(w, r, statusOf(err), err)
}
