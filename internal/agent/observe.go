package agent

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// window is the rate window of "now"; the baseline is the same expressions evaluated at an age.
const window = "2m"

// change is one signal now and in the baseline window.
type change struct{ Now, Base float64 }

// Observations is what the baseline reads before it decides: the RED metrics of every service
// and the resources that faults move, each now and in the baseline window.
type Observations struct {
	ErrorRatio        map[string]change             // 5xx share of requests, by service
	ErrorsByEndpoint  map[string]map[string]float64 // 5xx/s now, by service and route
	Latency           map[string]change             // mean seconds a request, by service
	LatencyByEndpoint map[string]map[string]change  // the same by service and route
	TableLatency      map[string]change             // mean seconds a database query, by table
	TableErrors       map[string]change             // failed database queries/s, by table
	Unavailable       change                        // backend calls to the database that found it unavailable, /s
	Heap              map[string]change             // heap in use, bytes, by service
	CPU               map[string]change             // CPU cores, by service
	NewVersion        map[string]bool               // services whose version changed since the baseline
	CacheHitRatio     change                        // the backend cache's hit share
	FanOut            change                        // backend requests per frontend request
	RolledBack        change                        // database transactions rolled back/s
	PoolActive        change                        // database connections in use
}

func requests(svc string) string { return svc + "_requests_total" }

func ratioOf(num, den string) string { return "(" + num + ") / (" + den + ")" }

func rate(metric, selector string) string {
	return fmt.Sprintf("rate(%s%s[%s])", metric, selector, window)
}

// Observe reads the observations through the query tool; baseline is the age of the baseline
// window ("15m": a quarter of an hour ago).
func Observe(ctx context.Context, t Tools, baseline string) (Observations, error) {
	p := prom{tools: t, baseline: baseline}
	o := Observations{
		ErrorRatio: map[string]change{}, ErrorsByEndpoint: map[string]map[string]float64{},
		Latency: map[string]change{}, LatencyByEndpoint: map[string]map[string]change{},
	}
	var err error
	read := func(expr, label string) map[string]change {
		if err != nil {
			return nil
		}
		var now, base map[string]float64
		now, base, err = p.byLabel(ctx, expr, label)
		return pair(now, base)
	}
	for _, svc := range Services {
		o.ErrorRatio[svc] = read(ratioOf("sum("+rate(requests(svc), `{status=~"5.."}`)+")", "sum("+rate(requests(svc), "")+")"), "")[""]
		errs := read("sum by (endpoint) ("+rate(requests(svc), `{status=~"5.."}`)+")", "endpoint")
		o.ErrorsByEndpoint[svc] = map[string]float64{}
		for ep, c := range errs {
			o.ErrorsByEndpoint[svc][ep] = c.Now
		}
		d := svc + "_request_duration_seconds"
		o.LatencyByEndpoint[svc] = read(ratioOf("sum by (endpoint) ("+rate(d+"_sum", "")+")", "sum by (endpoint) ("+rate(d+"_count", "")+")"), "endpoint")
		o.Latency[svc] = read(ratioOf("sum("+rate(d+"_sum", "")+")", "sum("+rate(d+"_count", "")+")"), "")[""]
	}
	q := "database_query_duration_seconds"
	o.TableLatency = read(ratioOf("sum by (table) ("+rate(q+"_sum", "")+")", "sum by (table) ("+rate(q+"_count", "")+")"), "table")
	o.TableErrors = read("sum by (table) ("+rate("database_queries_total", `{status="error"}`)+")", "table")
	o.Unavailable = read("sum("+rate("backend_database_calls_total", `{status="unavailable"}`)+")", "")[""]
	o.Heap = read("sum by (job) (go_memstats_heap_inuse_bytes)", "job")
	o.CPU = read("sum by (job) ("+rate("process_cpu_seconds_total", "")+")", "job")
	o.CacheHitRatio = read(ratioOf("sum("+rate("backend_cache_operations_total", `{operation="hit"}`)+")", "sum("+rate("backend_cache_operations_total", "")+")"), "")[""]
	o.FanOut = read(ratioOf("sum("+rate(requests("backend"), "")+")", "sum("+rate(requests("frontend"), "")+")"), "")[""]
	o.RolledBack = read("sum("+rate("database_transactions_total", `{status="rolled_back"}`)+")", "")[""]
	o.PoolActive = read("max(database_connection_pool_active)", "")[""]
	if err != nil {
		return o, err
	}
	o.NewVersion, err = versionChanges(ctx, p)
	return o, err
}

// versionChanges compares the versions each service reports now with the baseline's.
func versionChanges(ctx context.Context, p prom) (map[string]bool, error) {
	versions := func(age string) (map[string][]string, error) {
		ss, err := p.at(ctx, "count by (job, version) (pillars_build_info)", age)
		out := map[string][]string{}
		for _, s := range ss {
			out[s.labels["job"]] = append(out[s.labels["job"]], s.labels["version"])
		}
		for _, v := range out {
			slices.Sort(v)
		}
		return out, err
	}
	now, err := versions("")
	if err != nil {
		return nil, err
	}
	base, err := versions(p.baseline)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for job, v := range now {
		if b, ok := base[job]; ok && strings.Join(b, ",") != strings.Join(v, ",") {
			out[job] = true
		}
	}
	return out, nil
}

func pair(now, base map[string]float64) map[string]change {
	out := map[string]change{}
	for k, v := range now {
		out[k] = change{Now: v, Base: base[k]}
	}
	return out
}
