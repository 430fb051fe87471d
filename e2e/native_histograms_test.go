//go:build e2e

package e2e

import (
	"fmt"
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
