package backend

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"syscall"
	"testing"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

func TestOutcomeOf(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:8003/db/user/1", Err: syscall.ECONNREFUSED}
	cases := []struct {
		name       string
		err        error
		wantLabel  string
		wantStatus int
	}{
		{"success", nil, callSuccess, 200},
		{"database 404", &telemetry.HTTPError{Status: 404, Err: errors.New("not found")}, callNotFound, 404},
		{"database 400", &telemetry.HTTPError{Status: 400, Err: errors.New("bad")}, callClientError, 400},
		{"database 429", &telemetry.HTTPError{Status: 429, Err: errors.New("slow down")}, callClientError, 429},
		{"database 500", &telemetry.HTTPError{Status: 500, Err: errors.New("boom")}, callError, 502},
		{"database 503", &telemetry.HTTPError{Status: 503, Err: errors.New("down")}, callError, 502},
		{"deadline", fmt.Errorf("get: %w", context.DeadlineExceeded), callTimeout, 504},
		{"deadline in transport", &url.Error{Op: "Get", URL: "u", Err: context.DeadlineExceeded}, callTimeout, 504},
		{"refused", refused, callUnavailable, 503},
		{"cancelled", context.Canceled, callUnavailable, 503},
		{"undecodable answer", errors.New("decoding answer of /db/user/{id}: unexpected EOF"), callError, 502},
	}
	for _, c := range cases {
		label, status := outcomeOf(c.err)
		if label != c.wantLabel || status != c.wantStatus {
			t.Errorf("%s: outcomeOf = %s, %d; want %s, %d", c.name, label, status, c.wantLabel, c.wantStatus)
		}
	}
	if got := transportCause(refused); got != "connection refused" {
		t.Errorf("transportCause = %q, want the cause without the URL", got)
	}
}
