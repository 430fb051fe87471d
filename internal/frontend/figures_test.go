package frontend

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/backend"
	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// realServices are the real database and backend on loopback, for a frontend to be put in
// front of.
type realServices struct {
	backendURL, databaseURL string
	// faultReads counts the GET /admin/faults each service answered.
	faultReads map[string]*atomic.Int64
}

// countFaultReads counts the GET /admin/faults that reach h.
func countFaultReads(h http.Handler, n *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/admin/faults" {
			n.Add(1)
		}
		h.ServeHTTP(w, r)
	})
}

// startRealServices starts them; a token protects their admin endpoints.
func startRealServices(t *testing.T, token string) realServices {
	t.Helper()
	admin := telemetry.AdminConfig{Token: token}
	db, err := database.New(context.Background(),
		database.Config{Path: filepath.Join(t.TempDir(), "pillars.db"), RequestFaults: true, Admin: admin},
		telemetrytest.New(t, "database").Telemetry)
	if err != nil {
		t.Fatal(err)
	}
	rs := realServices{faultReads: map[string]*atomic.Int64{"backend": {}, "database": {}}}
	dbSrv := httptest.NewServer(countFaultReads(db.Handler(), rs.faultReads["database"]))
	t.Cleanup(func() { dbSrv.Close(); _ = db.Close() })
	be, err := backend.New(context.Background(), backend.Config{DatabaseURL: dbSrv.URL, RequestFaults: true, Admin: admin},
		telemetrytest.New(t, "backend").Telemetry)
	if err != nil {
		t.Fatal(err)
	}
	beSrv := httptest.NewServer(countFaultReads(be.Handler(), rs.faultReads["backend"]))
	t.Cleanup(func() { beSrv.Close(); _ = be.Close() })
	rs.backendURL, rs.databaseURL = beSrv.URL, dbSrv.URL
	return rs
}

// The figures of each real service are computed from two scrapes of its /metrics: the
// requests between them, the share that failed with a 5xx, and a p99 above the latency the
// database was told to add. The admin calls in between are not counted.
func TestLiveFiguresOfTheRealServices(t *testing.T) {
	rs := startRealServices(t, "")
	fe := newTestFrontend(t, rs.backendURL, Config{DatabaseURL: rs.databaseURL, RequestFaults: true})
	figs := fe.svc.console.figures
	t0 := time.Now()
	for _, f := range figs.figures(t.Context(), t0) {
		if f.Error != "" || f.RequestRate != nil {
			t.Fatalf("%s after one scrape: %+v, want no figures yet and no error", f.Service, f)
		}
	}
	// Ten users, each a cache miss: ten requests in every service, two of them failing in
	// the database, all of them slowed down there by 300 ms.
	for i := range 10 {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, fmt.Sprintf("%s/user/%d", fe.URL, 100+i), nil)
		fault := "database.latency=300ms"
		if i < 2 {
			fault += ",database.error_rate=1"
		}
		req.Header.Set("X-Pillars-Fault", fault)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{true: 502, false: 200}[i < 2]; resp.StatusCode != want {
			t.Fatalf("request %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	for _, base := range []string{fe.URL, rs.backendURL, rs.databaseURL} {
		get(t, http.DefaultClient, base+"/admin/faults", "")
	}
	for _, svc := range []string{"frontend", "backend", "database"} {
		waitForCount(t, figs, svc, 10)
	}

	got := figs.figures(t.Context(), t0.Add(10*time.Second))
	if len(got) != 3 {
		t.Fatalf("figures of %d services, want frontend, backend, database: %+v", len(got), got)
	}
	for _, f := range got {
		if f.Error != "" || f.RequestRate == nil || f.ErrorRatio == nil || f.P99Seconds == nil {
			t.Errorf("%s: %+v, want every figure", f.Service, f)
			continue
		}
		if *f.RequestRate != 1 || *f.ErrorRatio != 0.2 || f.WindowSeconds != 10 {
			t.Errorf("%s: %v req/s, error ratio %v over %v s; want 1 (10 requests in 10 s) and 0.2", f.Service, *f.RequestRate, *f.ErrorRatio, f.WindowSeconds)
		}
		if *f.P99Seconds < 0.25 {
			t.Errorf("%s: p99 %v s, want above the bucket of 250 ms that 300 ms of latency passes", f.Service, *f.P99Seconds)
		}
	}

	// Asked again within the minimum gap, nothing is scraped: the same figures.
	again := figs.figures(t.Context(), t0.Add(11*time.Second))
	if *again[0].RequestRate != *got[0].RequestRate || again[0].WindowSeconds != 10 {
		t.Errorf("figures 1 s later: %+v, want the same as before (no new scrape)", again[0])
	}
}

// waitForCount waits until the service's API requests add up to n: a request is counted
// after its answer may have reached the client.
func waitForCount(t *testing.T, f *liveFigures, service string, n float64) {
	t.Helper()
	for _, target := range f.targets {
		if target.service == service {
			telemetrytest.Eventually(t, 5*time.Second, service+"'s requests", func() bool {
				s, err := f.scrape(t.Context(), target)
				return err == nil && s.requests == n
			})
			return
		}
	}
	t.Fatalf("no target %s", service)
}

// A service that cannot be scraped says so, and the others' figures go on.
func TestLiveFiguresOfAServiceThatIsDown(t *testing.T) {
	rs := startRealServices(t, "")
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	fe := newTestFrontend(t, rs.backendURL, Config{DatabaseURL: down.URL})
	got := fe.svc.console.figures.figures(t.Context(), time.Now())
	byService := map[string]ServiceFigures{}
	for _, f := range got {
		byService[f.Service] = f
	}
	if e := byService["database"].Error; e != "its /metrics could not be reached" {
		t.Errorf("database down: error %q", e)
	}
	if e := byService["backend"].Error + byService["frontend"].Error; e != "" {
		t.Errorf("backend and frontend up: errors %q", e)
	}
}

func TestQuantileAsPromQLDoesIt(t *testing.T) {
	inf := math.Inf(1)
	b := func(pairs ...float64) []bucketCount {
		var out []bucketCount
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, bucketCount{pairs[i], pairs[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		q       float64
		buckets []bucketCount
		want    float64
		ok      bool
	}{
		{0.99, b(0.1, 0, 0.25, 100, inf, 100), 0.1 + 0.15*0.99, true}, // inside (0.1, 0.25]
		{0.5, b(0.1, 50, 0.25, 100, inf, 100), 0.1, true},             // exactly the first bucket's top
		{0.99, b(0.1, 10, 0.25, 50, inf, 100), 0.25, true},            // in +Inf: the highest finite bound
		{0.5, b(1, 100, inf, 100), 0.5, true},                         // the first bucket starts at 0
		{0.99, b(0.1, 0, inf, 0), 0, false},                           // no observations
		{0.99, b(0.1, 5), 0, false},                                   // no +Inf bucket
	} {
		got, ok := quantile(tc.q, tc.buckets)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("quantile(%v, %v) = %v, %v; want %v, %v", tc.q, tc.buckets, got, ok, tc.want, tc.ok)
		}
	}
}

// A counter that went down is a restarted service: the samples before it are dropped.
func TestKeepWindow(t *testing.T) {
	t0 := time.Now()
	var s []figuresSample
	for i, n := range []float64{10, 20, 30, 5} {
		s = keepWindow(s, figuresSample{at: t0.Add(time.Duration(i) * 10 * time.Second), requests: n})
	}
	if len(s) != 1 || s[0].requests != 5 {
		t.Errorf("after a restart: %+v, want only the new sample", s)
	}
	s = nil
	for i := range 6 {
		s = keepWindow(s, figuresSample{at: t0.Add(time.Duration(i) * 10 * time.Second), requests: float64(i)})
	}
	if len(s) != 4 || s[0].requests != 2 {
		t.Errorf("samples %+v, want those of the last 30 s (4 of them)", s)
	}
}
