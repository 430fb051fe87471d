package telemetry_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// Every error answer carries a code, and the codes tell apart what the status alone cannot:
// the mux's "no route" 404 from a handler's "no such user" 404. Through a client, only the
// not-found code the caller's API documents is a missing thing; any other 4xx is the
// caller's failure, a 502.
func TestErrorCodesTellNoRouteFromNoSuchThing(t *testing.T) {
	tel := telemetrytest.New(t, "backend").Telemetry
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/user/{id}", func(w http.ResponseWriter, r *http.Request) {
		tel.WriteError(w, r, http.StatusNotFound, &telemetry.HTTPError{Status: http.StatusNotFound, Code: "user_not_found",
			Err: errors.New("user " + r.PathValue("id") + " does not exist")})
	})
	mux.HandleFunc("GET /api/fail", func(w http.ResponseWriter, r *http.Request) {
		tel.WriteError(w, r, http.StatusBadGateway, errors.New("database error"))
	})
	mux.HandleFunc("GET /api/gone", func(w http.ResponseWriter, r *http.Request) {
		tel.WriteError(w, r, telemetry.StatusClientClosedRequest, errors.New("caller went away"))
	})
	srv := httptest.NewServer(tel.Instrument(mux, telemetry.SpanNames{}))
	t.Cleanup(srv.Close)

	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/api/user/9", http.StatusNotFound, "user_not_found"},
		{http.MethodGet, "/v2/api/user/9", http.StatusNotFound, telemetry.CodeNoRoute},
		{http.MethodPost, "/api/user/9", http.StatusMethodNotAllowed, telemetry.CodeMethodNotAllowed},
		{http.MethodGet, "/api/fail", http.StatusBadGateway, "bad_gateway"},
		{http.MethodGet, "/api/gone", telemetry.StatusClientClosedRequest, "client_closed_request"},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e telemetry.ErrorBody
		if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != c.status || e.Status != c.status || e.Code != c.code {
			t.Errorf("%s %s: %d %s, want %d with code %q", c.method, c.path, resp.StatusCode, body, c.status, c.code)
		}
	}

	client := tel.NewClient()
	for _, c := range []struct {
		path   string
		label  string
		status int
		code   string
	}{
		{"/api/user/9", telemetry.CallNotFound, http.StatusNotFound, "user_not_found"},
		{"/v2/api/user/9", telemetry.CallClientError, http.StatusBadGateway, telemetry.CodeNoRoute},
		{"/api/fail", telemetry.CallError, http.StatusBadGateway, "bad_gateway"},
	} {
		var v map[string]any
		err := telemetry.KnownNotFound(client.GetJSON(context.Background(), "/api/user/{id}", srv.URL+c.path, &v), "user_not_found")
		if o := telemetry.Classify(err); o.Label != c.label || o.Status != c.status || o.Code != c.code {
			t.Errorf("GET %s: %+v, want %s, %d, code %q", c.path, o, c.label, c.status, c.code)
		}
	}
}

// A code is the caller's own word only where it was given one: KnownNotFound leaves a 404
// with another code, or another status with the code, as the callee's plain answer.
func TestKnownNotFoundNeedsTheStatusAndTheCode(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"404 user_not_found", &telemetry.HTTPError{Status: 404, Code: "user_not_found", Err: errors.New("x")}, true},
		{"404 no_route", &telemetry.HTTPError{Status: 404, Code: "no_route", Err: errors.New("x")}, false},
		{"404 without a code", &telemetry.HTTPError{Status: 404, Err: errors.New("x")}, false},
		{"410 user_not_found", &telemetry.HTTPError{Status: 410, Code: "user_not_found", Err: errors.New("x")}, false},
		{"not an answer", context.DeadlineExceeded, false},
	} {
		_, got := errors.AsType[*telemetry.NotFoundError](telemetry.KnownNotFound(c.err, "user_not_found"))
		if got != c.want {
			t.Errorf("%s: a NotFoundError = %v, want %v", c.name, got, c.want)
		}
	}
}
