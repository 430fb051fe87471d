//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The latency histograms reach Prometheus both ways: as native histograms (scraped in the
// protobuf format, read with histogram_* functions on the plain name) and as the classic
// _bucket series the rules read; and a request's exemplar is stored on both.
func TestNativeAndClassicHistograms(t *testing.T) {
	r := getOK(t, "/user/4242")
	for _, h := range []struct{ name, selector string }{
		{"frontend_request_duration_seconds", `{job="frontend",endpoint="/user/{id}"}`},
		{"database_query_duration_seconds", `{job="database",table="users"}`},
		{"backend_processing_time_seconds", `{job="backend",operation="validate_user_id"}`},
	} {
		t.Run(h.name, func(t *testing.T) {
			// histogram_count is defined only for native histograms: a classic histogram has
			// no series under the plain name, so this selects nothing unless one was stored.
			native := "histogram_count(" + h.name + h.selector + ")"
			eventually(t, 20*time.Second, "a native histogram sample of "+h.name, func() error {
				v, err := promSumErr(native)
				if err == nil && v < 1 {
					err = fmt.Errorf("%s = %v, want ≥ 1", native, v)
				}
				return err
			})
			buckets := "count(" + h.name + "_bucket" + h.selector + ")"
			if n := promSum(t, buckets); n < 2 {
				t.Errorf("%s = %v: the classic buckets are gone", buckets, n)
			}
			// A native quantile is a real number within the classic buckets' range.
			q := promSum(t, "histogram_quantile(0.99, "+h.name+h.selector+")")
			if !(q > 0 && q < 10) {
				t.Errorf("native p99 of %s = %v, want a latency in (0, 10s)", h.name, q)
			}
		})
	}
	// The exemplar of this request is kept on the native series too.
	eventually(t, 20*time.Second, "exemplar "+r.traceID+" on the native histogram", func() error {
		res, err := promExemplars(`frontend_request_duration_seconds{job="frontend",endpoint="/user/{id}"}`)
		if err != nil {
			return err
		}
		var seen int
		for _, s := range res {
			for _, e := range s.Exemplars {
				if e.Labels["trace_id"] == r.traceID {
					return nil
				}
				seen++
			}
		}
		return fmt.Errorf("not among %d exemplars", seen)
	})
}

// Every latency query of the dashboards runs on the real Prometheus and finds the services'
// latencies: the native form and its classic fallback are both valid PromQL there.
func TestDashboardLatencyQueriesEvaluate(t *testing.T) {
	getOK(t, "/user/4243")
	files, err := filepath.Glob(filepath.Join(stk.repo, "deploy", "grafana", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Panels []struct {
				Title   string `json:"title"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				// The service graph's histogram comes from Tempo, which this stack has not.
				if !strings.Contains(tg.Expr, "histogram_quantile") || strings.Contains(tg.Expr, "traces_service_graph") {
					continue
				}
				n++
				q := strings.ReplaceAll(tg.Expr, "$__rate_interval", "1m")
				eventually(t, 20*time.Second, filepath.Base(f)+": "+p.Title, func() error {
					res, err := promQuery(q)
					if err == nil && len(res) == 0 {
						err = fmt.Errorf("no result for %s", q)
					}
					return err
				})
			}
		}
	}
	if n < 5 {
		t.Errorf("only %d latency queries found in the dashboards", n)
	}
}
