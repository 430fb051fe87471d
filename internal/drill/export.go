package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
	"github.com/pillars-o11y/pillars/internal/scenarios"
)

// ExportSeries are the series an export reads with query_range: the request, query, cache,
// call, pool, memory and version signals that every family shows through.
var ExportSeries = map[string]string{
	"requests_rate":         `sum by (job, endpoint, status) (rate({__name__=~"(frontend|backend|database)_requests_total"}[1m]))`,
	"request_p50_seconds":   `histogram_quantile(0.5, sum by (job, endpoint, le) (rate({__name__=~"(frontend|backend|database)_request_duration_seconds_bucket"}[1m])))`,
	"request_p99_seconds":   `histogram_quantile(0.99, sum by (job, endpoint, le) (rate({__name__=~"(frontend|backend|database)_request_duration_seconds_bucket"}[1m])))`,
	"query_p50_seconds":     `histogram_quantile(0.5, sum by (operation, table, le) (rate(database_query_duration_seconds_bucket[1m])))`,
	"queries_rate":          `sum by (status, table) (rate(database_queries_total[1m]))`,
	"slow_queries_rate":     `sum(rate(database_slow_queries_total[1m]))`,
	"table_size_bytes":      `database_table_size_bytes`,
	"pool_active":           `database_connection_pool_active`,
	"cache_operations_rate": `sum by (operation) (rate(backend_cache_operations_total[1m]))`,
	"database_calls_rate":   `sum by (status) (rate(backend_database_calls_total[1m]))`,
	"heap_inuse_bytes":      `go_memstats_heap_inuse_bytes`,
	"cpu_seconds_rate":      `rate(process_cpu_seconds_total[1m])`,
	"build_info":            `pillars_build_info`,
}

// ExportConfig says what to export: the episode of Seed from the state directory (its window
// is from its start to its result), into Dir.
type ExportConfig struct {
	Seed   int64
	Dir    string
	Stores scenarios.Stores
	// Step of the metric ranges (default 15s); Limit of traces and log lines (default 500).
	Step  time.Duration
	Limit int
}

// ExportManifest is manifest.json of an export: what is where.
type ExportManifest struct {
	Seed   int64             `json:"seed"`
	From   time.Time         `json:"from"`
	To     time.Time         `json:"to"`
	Files  []string          `json:"files"`
	Errors map[string]string `json:"errors,omitempty"`
}

// Export writes the telemetry window of the last episode of cfg.Seed and its key into cfg.Dir:
// key.json (the episode, its key and result), metrics/<name>.json (query_range of
// ExportSeries), traces.json (the traces found in the window, each whole), logs.json (each
// service's lines), manifest.json.
func (d *Desk) Export(ctx context.Context, cfg ExportConfig) (ExportManifest, error) {
	rec, err := d.lastOf(cfg.Seed)
	if err != nil {
		return ExportManifest{}, err
	}
	if cfg.Step <= 0 {
		cfg.Step = 15 * time.Second
	}
	if cfg.Limit <= 0 {
		cfg.Limit = 500
	}
	to := time.Now().UTC()
	if rec.Result != nil {
		to = rec.Result.At
	}
	m := ExportManifest{Seed: cfg.Seed, From: rec.Started.Add(-time.Minute), To: to, Errors: map[string]string{}}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "metrics"), 0o700); err != nil {
		return m, err
	}
	write := func(name string, v any) {
		data, err := json.MarshalIndent(v, "", "  ")
		if err == nil {
			err = os.WriteFile(filepath.Join(cfg.Dir, name), append(data, '\n'), 0o600)
		}
		if err != nil {
			m.Errors[name] = err.Error()
			return
		}
		m.Files = append(m.Files, name)
	}
	write("key.json", rec)
	if p := cfg.Stores.Prometheus; p != nil {
		for name, q := range ExportSeries {
			series, err := p.QueryRange(ctx, q, m.From, m.To, cfg.Step)
			if err != nil {
				m.Errors["metrics/"+name+".json"] = err.Error()
				continue
			}
			write("metrics/"+name+".json", map[string]any{"query": q, "step": cfg.Step.String(), "series": series})
		}
	}
	if ts := cfg.Stores.Traces; ts != nil {
		traces, err := exportTraces(ctx, ts, m.From, m.To, cfg.Limit)
		if err != nil {
			m.Errors["traces.json"] = err.Error()
		}
		write("traces.json", traces)
	}
	if ls := cfg.Stores.Logs; ls != nil {
		logs := map[string][]readback.LogLine{}
		for _, svc := range []string{Frontend, Backend, Database} {
			lines, err := ls.Query(ctx, ls.MessageQuery(readback.LogFilter{Service: svc}), m.From, m.To, cfg.Limit)
			if err != nil {
				m.Errors["logs.json:"+svc] = err.Error()
			}
			logs[svc] = lines
		}
		write("logs.json", logs)
	}
	write("manifest.json", m)
	return m, nil
}

func exportTraces(ctx context.Context, ts readback.TraceStore, from, to time.Time, limit int) ([]readback.Trace, error) {
	var out []readback.Trace
	var errs []error
	for _, svc := range []string{Frontend} { // every trace starts at the frontend
		found, err := ts.Search(ctx, readback.TraceSearch{Service: svc, Start: from, End: to, Limit: limit})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, s := range found {
			tr, err := ts.Trace(ctx, s.TraceID)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, tr)
		}
	}
	return out, errors.Join(errs...)
}

// lastOf finds the last episode of seed: the current one, or the last result's.
func (d *Desk) lastOf(seed int64) (*record, error) {
	if rec, err := d.store.load(); err == nil && rec.Episode.Seed == seed {
		return rec, nil
	}
	results, err := d.store.results()
	if err != nil {
		return nil, err
	}
	for i := len(results) - 1; i >= 0; i-- {
		if r := results[i]; r.Seed == seed {
			ep := Generate(seed)
			ep.Key = r.Key
			res := r
			return &record{ID: r.ID, Episode: ep, State: StateAnswered, Started: r.Started, Result: &res}, nil
		}
	}
	return nil, fmt.Errorf("no episode of seed %d in the state directory", seed)
}
