package drill

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pillars-o11y/pillars/internal/scenarios"
)

// family is one kind of incident, after the scenarios of the same name (scenarios/*.yaml),
// with its target, magnitude and symptoms drawn from the seed. Symptoms are metrics only: what
// the fault does (latency, errors, plans, memory, retries, versions), never a label.
type family struct {
	name string
	kind string
	draw func(r *rand.Rand) incident
}

type incident struct {
	service, component, magnitude string
	steps                         []Step
	symptoms                      []scenarios.MetricItem
}

// families in a fixed order: the generator draws an index into it, so new ones go at the end.
var families = []family{
	{"slow-database", KindLatency, func(r *rand.Rand) incident {
		lat := pick(r, 400, 500, 600, 800)
		return incident{service: Database, magnitude: fmt.Sprintf("latency=%dms", lat),
			steps: []Step{{Service: Database, Patch: map[string]any{"latency": ms(lat), "jitter": "100ms"}}},
			symptoms: []scenarios.MetricItem{above("the database's median query is slow",
				`histogram_quantile(0.5, sum by (le) (rate(database_query_duration_seconds_bucket[1m])))`, 0.8*float64(lat)/1000)}}
	}},
	{"failing-database", KindErrors, func(r *rand.Rand) incident {
		rate := pickF(r, 0.2, 0.3, 0.5)
		return incident{service: Database, magnitude: fmt.Sprintf("error_rate=%g", rate),
			steps:    []Step{{Service: Database, Patch: map[string]any{"error_rate": rate}}},
			symptoms: []scenarios.MetricItem{above("the database counts failed queries", `sum(rate(database_queries_total{status="error"}[1m]))`, 0.05)}}
	}},
	{"lock-contention", KindLockContention, func(r *rand.Rand) incident {
		hold := pick(r, 1200, 1500, 2000)
		return incident{service: Database, magnitude: fmt.Sprintf("lock_hold=%dms", hold),
			steps: []Step{{Service: Database, Patch: map[string]any{"lock_hold": ms(hold)}}},
			symptoms: []scenarios.MetricItem{above("the frontend's p99 is above 900 ms",
				`histogram_quantile(0.99, sum by (le) (rate(frontend_request_duration_seconds_bucket[1m])))`, 0.9)}}
	}},
	{"missing-index", KindMissingIndex, func(r *rand.Rand) incident {
		return incident{service: Database, component: "orders", magnitude: "index orders_user dropped",
			steps: []Step{{Service: Database, Patch: map[string]any{"missing_index": true}}},
			symptoms: []scenarios.MetricItem{above("the orders table lost the bytes of its index",
				`database_table_size_bytes{table="orders"} < 0.9 * max_over_time(database_table_size_bytes{table="orders"}[2h])`, 0)}}
	}},
	{"memory-leak", KindMemoryLeak, func(r *rand.Rand) incident {
		kib := pick(r, 256, 512, 768)
		return incident{service: Backend, magnitude: fmt.Sprintf("memory_leak=%dKiB", kib),
			steps: []Step{{Service: Backend, Patch: map[string]any{"memory_leak": fmt.Sprintf("%dKiB", kib)}}},
			symptoms: []scenarios.MetricItem{above("the backend's heap in use is above 48 MiB",
				`go_memstats_heap_inuse_bytes{job="backend"}`, 48<<20)}}
	}},
	{"cpu-burn", KindCPUBurn, func(r *rand.Rand) incident {
		burn := pick(r, 80, 120, 200)
		return incident{service: Backend, component: "/api/product/{id}", magnitude: fmt.Sprintf("cpu_burn=%dms", burn),
			steps: []Step{{Service: Backend, Patch: map[string]any{"cpu_burn": ms(burn)}}},
			symptoms: []scenarios.MetricItem{above("the backend's product requests are slow",
				`histogram_quantile(0.5, sum by (le) (rate(backend_request_duration_seconds_bucket{endpoint="/api/product/{id}"}[1m])))`,
				0.7*float64(burn)/1000)}}
	}},
	{"dependency-down", KindDependencyDown, func(r *rand.Rand) incident {
		if r.IntN(2) == 0 {
			return incident{service: Backend, component: Database, magnitude: "backend → database refused",
				steps:    []Step{{Service: Backend, Patch: map[string]any{"call_refuse_rate": 1}}},
				symptoms: []scenarios.MetricItem{above("the backend counts database calls as unavailable", `sum(rate(backend_database_calls_total{status="unavailable"}[1m]))`, 0.1)}}
		}
		return incident{service: Frontend, component: Backend, magnitude: "frontend → backend refused",
			steps: []Step{{Service: Frontend, Patch: map[string]any{"call_refuse_rate": 1}}},
			symptoms: []scenarios.MetricItem{above("most of the frontend's pages fail",
				`sum(rate(frontend_requests_total{endpoint=~"/user/{id}|/product/{id}", status=~"5.."}[1m])) / sum(rate(frontend_requests_total{endpoint=~"/user/{id}|/product/{id}"}[1m]))`, 0.5)}}
	}},
	{"bad-deploy", KindBadDeploy, func(r *rand.Rand) incident {
		version := fmt.Sprintf("2.%d.0-rc.%d", r.IntN(9), 1+r.IntN(5))
		route, page := "/api/product/{id}", "/product/{id}"
		if r.IntN(2) == 0 {
			route, page = "/api/user/{id}", "/user/{id}"
		}
		rate := pickF(r, 0.3, 0.5)
		return incident{service: Backend, component: route, magnitude: fmt.Sprintf("version=%s route_error_rate=%g", version, rate),
			steps: []Step{{Service: Backend, Patch: map[string]any{"version": version, "route": route, "route_error_rate": rate}}},
			symptoms: []scenarios.MetricItem{
				above("the backend reports the new version", `pillars_build_info{job="backend", version="`+version+`"}`, 0.5),
				above("the pages of the route answer server errors", `sum(rate(frontend_requests_total{endpoint="`+page+`", status=~"5.."}[1m]))`, 0.05),
			}}
	}},
	{"retry-storm", KindRetryStorm, func(r *rand.Rand) incident {
		retries := 2 + r.IntN(3)
		return incident{service: Frontend, component: Backend, magnitude: fmt.Sprintf("retries=%d", retries),
			steps: []Step{
				{Service: Frontend, Patch: map[string]any{"retries": retries}},
				{Service: Backend, Patch: map[string]any{"route": "/api/user/{id}", "route_error_rate": 0.6}},
			},
			symptoms: []scenarios.MetricItem{above("the backend gets more than 1.3 calls per user page",
				`sum(rate(backend_requests_total{endpoint="/api/user/{id}"}[1m])) / sum(rate(frontend_requests_total{endpoint="/user/{id}"}[1m]))`, 1.3)}}
	}},
	{"cache-stampede", KindCacheOff, func(r *rand.Rand) incident {
		return incident{service: Backend, magnitude: "cache bypassed",
			steps: []Step{{Service: Backend, Patch: map[string]any{"cache_off": true}}},
			symptoms: []scenarios.MetricItem{below("the backend's cache hit ratio fell below 1 %",
				`sum(rate(backend_cache_operations_total{operation="hit"}[30s])) / sum(rate(backend_cache_operations_total[30s]))`, 0.01)}}
	}},
	{"pool-exhaustion", KindPoolExhaustion, func(r *rand.Rand) incident {
		// Behind the backend's cache the database sees a request or two a second: a pool of one
		// makes them queue only when each holds its connection a while.
		lat := pick(r, 80, 120, 160)
		return incident{service: Database, magnitude: fmt.Sprintf("pool_size=1 latency=%dms", lat),
			steps: []Step{{Service: Database, Patch: map[string]any{"pool_size": 1, "latency": ms(lat)}}},
			// The pool's own accounting: requests queue for a connection, where a healthy pool
			// has none waiting. (Comparing request and query latency did not show it: the
			// added latency is inside the query too.)
			symptoms: []scenarios.MetricItem{above("database requests queue for a pool connection",
				`sum(rate(go_sql_wait_count_total{job="database"}[1m]))`, 0.01)}}
	}},
	{"slow-route", KindLatency, func(r *rand.Rand) incident {
		lat := pick(r, 300, 500, 700)
		route := pickS(r, "/api/user/{id}", "/api/product/{id}")
		return incident{service: Backend, component: route, magnitude: fmt.Sprintf("route_latency=%dms", lat),
			steps: []Step{{Service: Backend, Patch: map[string]any{"route": route, "route_latency": ms(lat)}}},
			symptoms: []scenarios.MetricItem{above("the route's median is slow",
				`histogram_quantile(0.5, sum by (le) (rate(backend_request_duration_seconds_bucket{endpoint="`+route+`"}[1m])))`, 0.8*float64(lat)/1000)}}
	}},
	{"pricing-errors", KindErrors, func(r *rand.Rand) incident {
		rate := pickF(r, 0.2, 0.4)
		return incident{service: Backend, component: "/api/product/{id}", magnitude: fmt.Sprintf("pricing_error_rate=%g", rate),
			steps: []Step{{Service: Backend, Patch: map[string]any{"pricing_error_rate": rate}}},
			symptoms: []scenarios.MetricItem{above("product requests of the backend fail",
				`sum(rate(backend_requests_total{endpoint="/api/product/{id}", status=~"5.."}[1m]))`, 0.05)}}
	}},
}

func pick(r *rand.Rand, vs ...int) int          { return vs[r.IntN(len(vs))] }
func pickF(r *rand.Rand, vs ...float64) float64 { return vs[r.IntN(len(vs))] }
func pickS(r *rand.Rand, vs ...string) string   { return vs[r.IntN(len(vs))] }
func ms(n int) string                           { return (time.Duration(n) * time.Millisecond).String() }
func above(name, q string, v float64) scenarios.MetricItem {
	return scenarios.MetricItem{Name: name, Query: q, Above: &v}
}
func below(name, q string, v float64) scenarios.MetricItem {
	return scenarios.MetricItem{Name: name, Query: q, Below: &v}
}
