package backend

import (
	"errors"
	"net/http"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// fail answers a request whose database call failed, with the status telemetry.Classify
// gives the failure and a message in the frontend's terms (through telemetry.WriteError,
// which logs it with the trace id; the cause itself is in the "Database call failed" line).
// subject names what was asked for: "user 123", "product 7", "data".
//
// Only a row the database says is missing (its user_not_found, product_not_found) is a 404,
// with the backend's own code for it; any other refusal by the database (a wrong
// --database-url answers 404 no_route) is a 502, the backend's failure.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, subject string, err error) {
	o := telemetry.Classify(err)
	var msg, code string
	switch o.Label {
	case telemetry.CallNotFound:
		msg, code = subject+" does not exist", notFoundCode(o.Code)
	case telemetry.CallClientError:
		msg = "database refused the request for " + subject + ": it " + o.Reason
	case telemetry.CallTimeout:
		msg = "database did not answer in time for " + subject + " (timeout " + s.cfg.DatabaseTimeout.String() + ")"
	case telemetry.CallUnavailable:
		msg = "database unavailable for " + subject + ": it could not be reached"
	case telemetry.CallCanceled:
		msg = "request for " + subject + " cancelled before the database answered"
	default:
		msg = "database error for " + subject + ": it " + o.Reason
	}
	s.tel.WriteError(w, r, o.Status, &telemetry.HTTPError{Status: o.Status, Code: code, Err: errors.New(msg)})
}

// invalid answers input that failed validation: the 400 of ids.Parse (code invalid_id), as
// it is.
func (s *Service) invalid(w http.ResponseWriter, r *http.Request, err error) {
	s.tel.WriteError(w, r, http.StatusBadRequest, err)
}
