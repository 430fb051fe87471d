package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/bench/harness/load"
	"github.com/pillars-o11y/pillars/bench/harness/results"
)

func TestCountRequests(t *testing.T) {
	const exposition = `# HELP frontend_requests_total HTTP requests served.
# TYPE frontend_requests_total counter
frontend_requests_total{endpoint="/user/{id}",method="GET",status="200"} 1200
frontend_requests_total{endpoint="/user/{id}",method="GET",status="404"} 3
frontend_requests_total{endpoint="/",method="GET",status="200"} 50
frontend_requests_total{endpoint="unmatched",method="GET",status="404"} 9
# TYPE go_goroutines gauge
go_goroutines 12
`
	for endpoint, want := range map[string]int64{"/user/{id}": 1203, "/": 50, "/product/{id}": 0} {
		got, err := CountRequests(strings.NewReader(exposition), "frontend_requests_total", endpoint)
		if err != nil || got != want {
			t.Errorf("CountRequests(%s) = %d, %v; want %d", endpoint, got, err, want)
		}
	}
	if n, err := CountRequests(strings.NewReader("go_goroutines 1\n"), "frontend_requests_total", "/"); err != nil || n != 0 {
		t.Errorf("no such counter: %d, %v", n, err)
	}
	if _, err := CountRequests(strings.NewReader("not { an exposition"), "x", "/"); err == nil {
		t.Error("garbage parsed")
	}
}

func TestProblems(t *testing.T) {
	ok := results.Measurement{Counted: 100, Load: load.Result{Sent: 100, Requests: 80}}
	if p := problems(ok); p != "" {
		t.Fatalf("a clean run has problems: %s", p)
	}
	bad := results.Measurement{Counted: 99, Load: load.Result{Sent: 100, Requests: 80, Errors: 2, FirstError: "502", OfferedRate: 10, SendLagP99: 50 * time.Millisecond}}
	p := problems(bad)
	for _, want := range []string{"2 of 80 requests failed", "the frontend counted 99", "fell behind its schedule"} {
		if !strings.Contains(p, want) {
			t.Errorf("problems = %q, want %q in it", p, want)
		}
	}
	if p := problems(results.Measurement{Counted: -1, Load: load.Result{Sent: 5}}); p != "" {
		t.Errorf("the relay, which counts nothing, has problems: %s", p)
	}
}
