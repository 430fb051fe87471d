package frontend

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// retries turns one failure into a storm: each attempt is its own call and CLIENT span in the
// request's one trace.
func TestRetriesMakeARetryStorm(t *testing.T) {
	fb := newFakeBackend(t, http.StatusInternalServerError, 0)
	fe := newTestFrontend(t, fb.URL, Config{Faults: faults.Frontend{Retries: 2}})
	resp, _ := get(t, http.DefaultClient, fe.URL+"/user/1", "")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d", resp.StatusCode)
	}
	traceID, _ := traceResponse(t, resp.Header)
	if n := len(fb.received()); n != 3 {
		t.Errorf("the backend was called %d times, want 1 + 2 retries", n)
	}
	eventually(t, "three CLIENT spans in the trace", func() error {
		n := 0
		for _, s := range fe.tel.Ended(t) {
			if s.Name == "GET /api/user/{id}" && s.SpanContext.TraceID().String() == traceID {
				n++
			}
		}
		if n != 3 {
			return fmt.Errorf("%d client spans", n)
		}
		return nil
	})
	// A missing user is an answer, not a failure: never retried.
	fb404 := newFakeBackend(t, 0, 0)
	fe404 := newTestFrontend(t, fb404.URL, Config{Faults: faults.Frontend{Retries: 2}})
	get(t, http.DefaultClient, fe404.URL+"/user/999999", "")
	if n := len(fb404.received()); n != 1 {
		t.Errorf("a missing user was asked %d times", n)
	}
	// Nor is a refusal (a wrong URL's 404 no_route): the same request gets it again.
	fbWrong := newFakeBackend(t, http.StatusNotFound, 0)
	fbWrong.code = telemetry.CodeNoRoute
	feWrong := newTestFrontend(t, fbWrong.URL, Config{Faults: faults.Frontend{Retries: 2}})
	get(t, http.DefaultClient, feWrong.URL+"/user/1", "")
	if n := len(fbWrong.received()); n != 1 {
		t.Errorf("a refused call was asked %d times", n)
	}
}

// The route knobs slow or fail one route only; backend_timeout shortens the backend's deadline.
func TestRouteFaultsAndBackendTimeout(t *testing.T) {
	fb := newFakeBackend(t, 0, 50*time.Millisecond)
	fe := newTestFrontend(t, fb.URL, Config{Faults: faults.Frontend{
		HTTP:           faults.HTTP{Route: "/product/{id}", RouteErrorRate: 1},
		BackendTimeout: faults.Duration(10 * time.Millisecond),
	}})
	if resp, _ := get(t, http.DefaultClient, fe.URL+"/product/1", ""); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("the failing route answered %d", resp.StatusCode)
	}
	resp, body := get(t, http.DefaultClient, fe.URL+"/user/1", "")
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(body), "within 10ms") {
		t.Errorf("/user/1 with a 10ms backend timeout: %d %s", resp.StatusCode, body)
	}
}

// One request broken on purpose through the header: here, the frontend's own retries.
func TestFaultHeaderBreaksOneRequest(t *testing.T) {
	fb := newFakeBackend(t, http.StatusInternalServerError, 0)
	fe := newTestFrontend(t, fb.URL, Config{RequestFaults: true})
	req, _ := http.NewRequest(http.MethodGet, fe.URL+"/user/1", nil)
	req.Header.Set(faults.Header, "frontend.retries=1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	get(t, http.DefaultClient, fe.URL+"/user/2", "") // without the header: no retry
	if n := len(fb.received()); n != 3 {
		t.Errorf("%d backend calls, want 2 for the broken request and 1 for the next", n)
	}
}
