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
//   - a user or product the backend says does not exist (its user_not_found,
//     product_not_found) is the visitor's 404, with that code;
//   - any other 4xx is a 502, counted as a backend error: the frontend checked the visitor's
//     input before calling, so a refusal means a wrong --backend-url (404 no_route) or a bug,
//     which the availability SLO must see;
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
		f.kind, f.err = errNotFound, &telemetry.HTTPError{Status: o.Status, Code: o.Code, Err: errors.New(o.Reason)}
	case telemetry.CallClientError:
		f.kind, f.err = errBackendError, errors.New("backend refused the request for "+subject+": it "+o.Reason)
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
