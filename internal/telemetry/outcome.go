package telemetry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"syscall"
)

// ErrBadAnswer marks a callee's 2xx answer that cannot be used: JSON that does not decode, or
// a document missing what the API promises.
var ErrBadAnswer = errors.New("bad answer")

// StatusClientClosedRequest answers a request whose caller went away first (nginx's 499):
// nobody reads it, but metrics and spans should not count the caller's departure as a fault
// of the service.
const StatusClientClosedRequest = 499

// The outcomes of a call to the next service: the bounded `status` label of call counters,
// shared by every tier.
const (
	CallSuccess     = "success"      // a complete 2xx answer
	CallNotFound    = "not_found"    // what was asked for does not exist (a *NotFoundError)
	CallClientError = "client_error" // any other 4xx: the callee refused a request we built
	CallError       = "error"        // a 5xx or an answer that cannot be used
	CallTimeout     = "timeout"      // no answer within the call's deadline
	CallUnavailable = "unavailable"  // the callee could not be reached
	CallCanceled    = "canceled"     // the caller's own request went away first
)

// CallLabels lists every outcome, for creating the label values up front.
func CallLabels() []string {
	return []string{CallSuccess, CallNotFound, CallClientError, CallError, CallTimeout, CallUnavailable, CallCanceled}
}

// Outcome is how a call ended, as one tier tells the tier above it.
type Outcome struct {
	Label  string // one of the Call* labels
	Status int    // the status the caller answers with
	// Code is the callee's error code when it answered one ("user_not_found", "no_route").
	Code string
	// Reason says what happened in the caller's terms, never the callee's internals (no
	// addresses, no system call names): "did not answer in time", "could not be reached", or
	// for a missing thing the callee's own message.
	Reason string
}

// Classify is the one place where a failed call to the next service becomes a status:
//
//	a *NotFoundError (a 404 the client knows)  → not_found     404
//	callee other 4xx (a wrong URL's no_route)  → client_error  502 Bad Gateway
//	callee 5xx, a redirect, a bad answer       → error         502 Bad Gateway
//	the call's deadline ran out                → timeout       504 Gateway Timeout
//	refused, unreachable, no such host         → unavailable   503 Service Unavailable
//	the caller's request was cancelled         → canceled      499
//	the connection broke mid-answer            → error         502
//
// A callee's 4xx is never passed on as it is: the caller built that request itself (the
// visitor's input was checked before), so a refusal means a wrong URL, a version skew or a
// bug on this side, a 5xx of the caller that the availability SLO must see.
func Classify(err error) Outcome {
	if err == nil {
		return Outcome{Label: CallSuccess, Status: http.StatusOK}
	}
	if nf, ok := errors.AsType[*NotFoundError](err); ok {
		return Outcome{Label: CallNotFound, Status: http.StatusNotFound, Code: nf.Callee.Code, Reason: nf.Callee.Err.Error()}
	}
	if he, ok := errors.AsType[*HTTPError](err); ok {
		label := CallError
		if he.Status >= 400 && he.Status < 500 {
			label = CallClientError
		}
		return Outcome{Label: label, Status: http.StatusBadGateway, Code: he.Code,
			Reason: "failed (" + strconv.Itoa(he.Status) + codeNote(he.Status, he.Code) + ": " + he.Err.Error() + ")"}
	}
	switch {
	case errors.Is(err, ErrBadAnswer):
		return Outcome{Label: CallError, Status: http.StatusBadGateway, Reason: "gave an answer that could not be used"}
	case errors.Is(err, context.Canceled):
		return Outcome{Label: CallCanceled, Status: StatusClientClosedRequest, Reason: "was not waited for: the request was cancelled"}
	case errors.Is(err, context.DeadlineExceeded):
		return Outcome{Label: CallTimeout, Status: http.StatusGatewayTimeout, Reason: "did not answer in time"}
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return Outcome{Label: CallTimeout, Status: http.StatusGatewayTimeout, Reason: "did not answer in time"}
	}
	if unreachable(err) {
		return Outcome{Label: CallUnavailable, Status: http.StatusServiceUnavailable, Reason: "could not be reached"}
	}
	return Outcome{Label: CallError, Status: http.StatusBadGateway, Reason: "dropped the connection before answering"}
}

// unreachable reports a failure to connect at all, as opposed to a connection that broke.
func unreachable(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return true
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Op == "dial" {
		return true
	}
	return false
}

// codeNote is a callee's code as a reason shows it after the status, "404 no_route", when it
// says more than the status does.
func codeNote(status int, code string) string {
	if code == "" || code == CodeOf(nil, status) {
		return ""
	}
	return " " + code
}
