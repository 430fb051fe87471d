package backend

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// The request histogram and the backend's own histograms link to the trace of the request
// that produced a sample, in the OpenMetrics exposition Prometheus scrapes.
func TestMetricsCarryTraceExemplars(t *testing.T) {
	h := startBackend(t, newFakeDB(t), Config{})
	a := h.get(t, "/api/user/123")
	if a.status != http.StatusOK {
		t.Fatalf("status %d, body %s", a.status, a.body)
	}

	exposition := telemetrytest.Scrape(t, h.url+"/metrics")

	exemplar := `# {trace_id="` + a.traceID + `"}`
	for _, series := range []string{
		`backend_request_duration_seconds_bucket{endpoint="/api/user/{id}",le=`,
		`backend_requests_total{endpoint="/api/user/{id}",method="GET",status="200"}`,
		`backend_processing_time_seconds_bucket{operation="validate_user_id",le=`,
		`backend_processing_time_seconds_bucket{operation="cache_lookup",le=`, // cache hits/misses link through the lookup
	} {
		if !hasLine(exposition, series, exemplar) {
			t.Errorf("no sample of %s with exemplar %s in:\n%s", series, exemplar, grepLines(exposition, "backend_"))
		}
	}
	// Series of outcomes that have not happened yet exist at zero.
	for _, zero := range []string{
		`backend_cache_operations_total{operation="hit"} 0`,
		`backend_database_calls_total{operation="get_product",status="timeout"} 0`,
	} {
		if !strings.Contains(exposition, zero) {
			t.Errorf("missing pre-initialised series %s", zero)
		}
	}
}

// hasLine reports whether a line of text starts with prefix and contains substr.
func hasLine(text, prefix, substr string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) && strings.Contains(l, substr) {
			return true
		}
	}
	return false
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestHealthReportsTheDatabase(t *testing.T) {
	h := startBackend(t, newFakeDB(t), Config{})
	a := h.get(t, "/health")
	body := string(a.body)
	if a.status != http.StatusOK || !strings.Contains(body, `"status":"healthy"`) || !strings.Contains(body, `"database":"ok"`) {
		t.Errorf("/health answered %d %s, want healthy with the database ok", a.status, body)
	}
	if r := h.get(t, "/ready"); r.status != http.StatusOK {
		t.Errorf("/ready answered %d, want 200 once New returned", r.status)
	}
	h.svc.SetReady(false)
	if r := h.get(t, "/ready"); r.status != http.StatusServiceUnavailable {
		t.Errorf("/ready answered %d after SetReady(false), want 503", r.status)
	}
}
