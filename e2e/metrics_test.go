//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// The metrics of docs/contract.md: the series to select, the jobs that must expose it and the
// labels every one of its series must carry (besides job and instance).
var contractMetrics = []struct {
	series string
	jobs   []string
	labels []string
}{
	{"frontend_requests_total", fe, []string{"method", "endpoint", "status"}},
	{"frontend_request_duration_seconds_bucket", fe, []string{"endpoint", "le"}},
	{"frontend_active_users", fe, nil},
	{"frontend_errors_total", fe, []string{"type"}},

	{"backend_requests_total", be, []string{"method", "endpoint", "status"}},
	{"backend_request_duration_seconds_bucket", be, []string{"endpoint", "le"}},
	{"backend_database_calls_total", be, []string{"operation", "status"}},
	{"backend_cache_operations_total", be, []string{"operation"}},
	{"backend_processing_time_seconds_count", be, []string{"operation"}},

	{"database_queries_total", db, []string{"operation", "table", "status"}},
	{"database_query_duration_seconds_bucket", db, []string{"operation", "table", "le"}},
	{"database_connection_pool_active", db, nil},
	{"database_slow_queries_total", db, []string{"table"}},
	{"database_table_size_bytes", db, []string{"table"}},
	{"database_transactions_total", db, []string{"status"}},

	{"pillars_log_entries_shipped_total", all, nil},
	{"pillars_log_entries_dropped_total", all, []string{"reason"}},
	{"go_goroutines", all, nil},
	{"go_memstats_alloc_bytes", all, nil},
	{"process_cpu_seconds_total", all, nil},
	{"process_resident_memory_bytes", all, nil},
}

var (
	fe  = []string{"frontend"}
	be  = []string{"backend"}
	db  = []string{"database"}
	all = []string{"backend", "database", "frontend"}
)

// Every metric of the contract reaches Prometheus from the right service, with its labels, and
// label values stay bounded: endpoints are route templates and statuses are HTTP codes.
func TestContractMetrics(t *testing.T) {
	// Requests that make every labelled series exist: successes, 400, 404, a slow query and an
	// injected database error.
	getOK(t, "/")
	getOK(t, "/user/11")
	getOK(t, "/user/11")
	getOK(t, "/product/11")
	get(t, "/user/abc")
	get(t, "/user/999999")
	setFaults(t, map[string]any{"latency": "150ms", "error_rate": 1})
	get(t, "/user/12")
	setFaults(t, map[string]any{"latency": "0s", "error_rate": 0})
	waitScraped(t)

	for _, m := range contractMetrics {
		t.Run(m.series, func(t *testing.T) {
			var series []readback.Sample
			eventually(t, 15*time.Second, m.series+" in Prometheus", func() error {
				var err error
				if series, err = promQuery(m.series); err != nil {
					return err
				}
				jobs := map[string]bool{}
				for _, s := range series {
					jobs[s.Metric["job"]] = true
				}
				for _, j := range m.jobs {
					if !jobs[j] {
						return fmt.Errorf("no series from job %s; have %v", j, jobs)
					}
				}
				return nil
			})
			for _, s := range series {
				if !slices.Contains(m.jobs, s.Metric["job"]) {
					t.Errorf("%v: from job %s, want only %v", s.Metric, s.Metric["job"], m.jobs)
				}
				for _, l := range m.labels {
					if s.Metric[l] == "" {
						t.Errorf("%v: no %s label", s.Metric, l)
					}
				}
			}
		})
	}
}

var (
	routeTemplate = regexp.MustCompile(`^/[a-z/]*(\{id\})?$`)
	httpCode      = regexp.MustCompile(`^[1-5][0-9][0-9]$`)
)

// Label values are bounded: endpoint is a route template, status an HTTP code, cache operations
// hit|miss, and the requests made here show up with the labels they should.
func TestMetricLabelValues(t *testing.T) {
	getOK(t, "/user/13")
	get(t, "/user/999998")
	waitScraped(t)
	for _, q := range []string{"frontend_requests_total", "backend_requests_total"} {
		res, err := promQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range res {
			if !routeTemplate.MatchString(s.Metric["endpoint"]) {
				t.Errorf("%s: endpoint %q is not a route template", q, s.Metric["endpoint"])
			}
			if !httpCode.MatchString(s.Metric["status"]) {
				t.Errorf("%s: status %q is not an HTTP code", q, s.Metric["status"])
			}
			if s.Metric["method"] != http.MethodGet && s.Metric["method"] != http.MethodPut {
				t.Errorf("%s: method %q", q, s.Metric["method"])
			}
		}
	}
	for _, want := range []string{
		`frontend_requests_total{method="GET",endpoint="/user/{id}",status="200"}`,
		`frontend_requests_total{method="GET",endpoint="/user/{id}",status="404"}`,
		`backend_requests_total{method="GET",endpoint="/api/user/{id}",status="200"}`,
		`frontend_request_duration_seconds_count{endpoint="/user/{id}"}`,
		`backend_request_duration_seconds_count{endpoint="/api/user/{id}"}`,
	} {
		if v := promSum(t, want); v < 1 {
			t.Errorf("%s = %v, want >= 1", want, v)
		}
	}
	res, err := promQuery("backend_cache_operations_total")
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, s := range res {
		ops = append(ops, s.Metric["operation"])
	}
	sort.Strings(ops)
	if strings.Join(ops, ",") != "hit,miss" {
		t.Errorf("backend_cache_operations_total operations %v, want hit and miss", ops)
	}
}

// A user asked for twice in a row is a cache miss, then a cache hit, in the backend's metrics
// and in the logs of each request.
func TestCacheMissThenHit(t *testing.T) {
	const id = 777
	const miss, hit = `backend_cache_operations_total{operation="miss"}`, `backend_cache_operations_total{operation="hit"}`
	waitScraped(t)
	miss0, hit0 := promSum(t, miss), promSum(t, hit)

	// Back to back: the second request comes well within the backend's cache TTL.
	first := getOK(t, fmt.Sprintf("/user/%d", id))
	second := getOK(t, fmt.Sprintf("/user/%d", id))
	waitScraped(t)
	miss1, hit1 := promSum(t, miss), promSum(t, hit)
	if miss1 != miss0+1 || hit1 != hit0+1 {
		t.Errorf("cache misses %v → %v, hits %v → %v; want one more of each", miss0, miss1, hit0, hit1)
	}
	waitLogMessages(t, first.traceID, nil, fmt.Sprintf("Cache miss for user %d", id))
	waitLogMessages(t, second.traceID, nil, fmt.Sprintf("Cache hit for user %d", id))
}

// Latency injected in the database makes its queries slow, and database_slow_queries_total counts them.
func TestSlowQueries(t *testing.T) {
	const q = "database_slow_queries_total"
	waitScraped(t)
	before := promSum(t, q)
	setFaults(t, map[string]any{"latency": "250ms"})
	r := getOK(t, "/user/778")
	waitRises(t, q, before)
	waitRises(t, `database_query_duration_seconds_bucket{le="+Inf"}`, 0)
	// The slow request's database span lasts at least the injected latency.
	tr := waitTrace(t, r.traceID, "database_get_user")
	if s := tr.ByName("database_get_user")[0]; s.Duration < 250*time.Millisecond {
		t.Errorf("%s lasted %s with 250ms of injected latency", s, s.Duration)
	}
}

// Errors injected in the database are counted in every service and marked on the spans of the
// failing request in all three services.
func TestInjectedErrors(t *testing.T) {
	counters := []string{
		`frontend_errors_total`,
		`frontend_requests_total{status=~"5.."}`,
		`backend_requests_total{status=~"5.."}`,
		`backend_database_calls_total{status!~"success|not_found|client_error"}`,
		`database_queries_total{status!~"success|not_found|client_error"}`,
	}
	waitScraped(t)
	before := map[string]float64{}
	for _, q := range counters {
		before[q] = promSum(t, q)
	}
	setFaults(t, map[string]any{"error_rate": 1})
	r := get(t, "/user/779")
	if r.status/100 != 5 {
		t.Fatalf("GET /user/779 with every query failing: status %d, want 5xx; body %s", r.status, r.body)
	}
	checkErrorBody(t, r)
	for _, q := range counters {
		waitRises(t, q, before[q])
	}
	waitErrorSpans(t, r.traceID, "frontend", "backend", "database")
}

// Exemplars read back from Prometheus point at traces that exist in Jaeger.
func TestExemplarsPointAtTraces(t *testing.T) {
	for i := range 3 {
		getOK(t, fmt.Sprintf("/user/%d", 780+i))
	}
	for _, q := range []string{
		"frontend_requests_total",
		"backend_requests_total",
		"database_requests_total",
		"frontend_request_duration_seconds_bucket",
		"backend_request_duration_seconds_bucket",
		"database_query_duration_seconds_bucket",
	} {
		t.Run(q, func(t *testing.T) {
			var ids []string
			eventually(t, 20*time.Second, "exemplars of "+q, func() error {
				res, err := promExemplars(q)
				if err != nil {
					return err
				}
				ids = ids[:0]
				for _, s := range res {
					for _, e := range s.Exemplars {
						ids = append(ids, e.Labels["trace_id"])
					}
				}
				if len(ids) == 0 {
					return fmt.Errorf("no exemplars")
				}
				return nil
			})
			// The newest few are enough: each must be a trace Jaeger can return.
			ids = ids[max(0, len(ids)-3):]
			for _, id := range ids {
				if !traceIDPattern.MatchString(id) {
					t.Errorf("exemplar trace_id %q is not a W3C trace id", id)
					continue
				}
				eventually(t, 20*time.Second, "exemplar trace "+id+" in Jaeger", func() error {
					tr, err := fetchTrace(id)
					if err == nil && len(tr.Spans) == 0 {
						err = fmt.Errorf("no spans")
					}
					return err
				})
			}
		})
	}
}

var traceIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
