package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// statusClientClosedRequest answers a request whose client went away before the backend
// answered (nginx's 499): nobody reads it, but the metrics and the span should not call it a
// backend failure.
const statusClientClosedRequest = 499

// failure is a backend call's error as the frontend answers it.
type failure struct {
	status        int       // the frontend's answer
	kind          errorType // frontend_errors_total{type}; "" when not counted
	backendStatus int       // the backend's status, 0 when it did not answer
	err           error     // the message the client reads
}

// classifyBackendError is the one place that maps a failed backend call to the frontend's
// answer. A backend error is never a 200:
//   - the backend's 4xx passes through with its message (400 stays 400, 404 stays 404);
//   - its 5xx, or an answer that cannot be read, is 502: the gateway got a bad answer;
//   - no answer within the timeout is 504;
//   - a refused or failed connection is 503: the backend is not there.
//
// reqCtx is the incoming request's context and callCtx the call's, which carries the timeout:
// their states tell a timeout from a client that went away more reliably than the error text.
func classifyBackendError(reqCtx, callCtx context.Context, timeout time.Duration, err error) failure {
	if he, ok := errors.AsType[*telemetry.HTTPError](err); ok {
		f := failure{backendStatus: he.Status, err: he.Err}
		switch {
		case he.Status == http.StatusNotFound:
			f.status, f.kind = http.StatusNotFound, errNotFound
		case he.Status >= 400 && he.Status < 500:
			f.status, f.kind = he.Status, errBadRequest
		default:
			f.status, f.kind = http.StatusBadGateway, errBackendError
			f.err = errors.New("backend answered " + strconv.Itoa(he.Status) + ": " + he.Err.Error())
		}
		return f
	}
	if reqCtx.Err() != nil {
		return failure{status: statusClientClosedRequest, err: errors.New("client closed the request before the backend answered")}
	}
	var ne net.Error
	if errors.Is(callCtx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		return failure{status: http.StatusGatewayTimeout, kind: errBackendTimeout,
			err: errors.New("backend did not answer within " + timeout.String())}
	}
	var oe *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &oe) && oe.Op == "dial") {
		return failure{status: http.StatusServiceUnavailable, kind: errBackendUnavailable,
			err: errors.New("backend unavailable: " + rootCause(err).Error())}
	}
	var (
		ue  *url.Error
		se  *json.SyntaxError
		ute *json.UnmarshalTypeError
	)
	if errors.As(err, &ue) || errors.As(err, &se) || errors.As(err, &ute) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		// The connection broke mid-answer or the answer was not what the API promises.
		return failure{status: http.StatusBadGateway, kind: errBackendError,
			err: errors.New("bad answer from backend: " + err.Error())}
	}
	return failure{status: http.StatusInternalServerError, kind: errInternal, err: errors.New("internal error")}
}

// rootCause strips the wrapping (Get "http://...": dial tcp ...:) down to the syscall's words,
// which say what happened without repeating the URL the client already knows.
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
