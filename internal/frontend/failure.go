package frontend

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// failure is a backend call's error as the frontend answers it.
type failure struct {
	status        int       // the frontend's answer
	kind          errorType // frontend_errors_total{type}; "" when not counted
	backendStatus int       // the backend's status, 0 when it did not answer
	err           error     // the message the client reads
}

// classifyBackendError maps a failed backend call to the frontend's answer, from the outcome
// telemetry.Classify gives it (the rule every tier shares). A backend error is never a 200:
//   - the backend's 4xx passes through with its message (400 stays 400, 404 stays 404);
//   - its 5xx, or an answer that cannot be used, is 502: the gateway got a bad answer;
//   - no answer within the timeout is 504;
//   - a refused or failed connection is 503: the backend is not there;
//   - a client that went away before the answer is 499, not counted as an error.
//
// subject names what was asked for ("user 123"); the messages say what happened in the
// visitor's terms, never the backend's address or the system call that failed.
func classifyBackendError(err error, subject string, timeout string) failure {
	o := telemetry.Classify(err)
	f := failure{status: o.Status}
	if he, ok := errors.AsType[*telemetry.HTTPError](err); ok {
		f.backendStatus = he.Status
	}
	switch o.Label {
	case telemetry.CallNotFound:
		f.kind, f.err = errNotFound, errors.New(o.Reason)
	case telemetry.CallClientError:
		f.kind, f.err = errBadRequest, errors.New(o.Reason)
	case telemetry.CallTimeout:
		f.kind, f.err = errBackendTimeout, errors.New("backend did not answer within "+timeout+" for "+subject)
	case telemetry.CallUnavailable:
		f.kind, f.err = errBackendUnavailable, errors.New("backend unavailable for "+subject+": it could not be reached")
	case telemetry.CallCanceled:
		f.err = errors.New("client closed the request before the backend answered")
	default:
		f.kind = errBackendError
		if f.backendStatus != 0 {
			f.err = errors.New("backend answered " + strconv.Itoa(f.backendStatus) + " for " + subject + ": " + backendMessage(err))
		} else {
			f.err = errors.New("backend " + o.Reason + " for " + subject)
		}
	}
	return f
}

// backendMessage is the backend's own error message, which it writes in its caller's terms.
func backendMessage(err error) string {
	if he, ok := errors.AsType[*telemetry.HTTPError](err); ok {
		return he.Err.Error()
	}
	return http.StatusText(http.StatusBadGateway)
}
