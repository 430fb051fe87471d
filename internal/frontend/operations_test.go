package frontend

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pillars-o11y/pillars/internal/backend"
	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// threeServices is the real frontend, backend and database, each with its recorded telemetry.
type threeServices struct {
	fe           *testFrontend
	be, db       *telemetrytest.Recorder
	beURL, dbURL string
}

func startThree(t *testing.T) threeServices {
	t.Helper()
	var s threeServices
	s.db = telemetrytest.New(t, "database")
	db, err := database.New(context.Background(), database.Config{Path: filepath.Join(t.TempDir(), "pillars.db")}, s.db.Telemetry)
	if err != nil {
		t.Fatal(err)
	}
	dbSrv := httptest.NewServer(db.Handler())
	t.Cleanup(func() { dbSrv.Close(); _ = db.Close() })
	s.be = telemetrytest.New(t, "backend")
	be, err := backend.New(context.Background(), backend.Config{DatabaseURL: dbSrv.URL}, s.be.Telemetry)
	if err != nil {
		t.Fatal(err)
	}
	beSrv := httptest.NewServer(be.Handler())
	t.Cleanup(func() { beSrv.Close(); _ = be.Close() })
	s.beURL, s.dbURL = beSrv.URL, dbSrv.URL
	s.fe = newTestFrontend(t, beSrv.URL, Config{DatabaseURL: dbSrv.URL, TrafficUsers: 3})
	return s
}

// requestsCounted sums every series of the service's <service>_requests_total.
func requestsCounted(t *testing.T, rec *telemetrytest.Recorder, service string) float64 {
	t.Helper()
	families, err := rec.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() == service+"_requests_total" {
			for _, m := range f.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

func call(t *testing.T, method, url, body string, header map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A console left open polls every few seconds, and a scenario drives the admin APIs: none of
// it is a request of the system. The console, its assets and polls, the admin APIs of every
// service, probes and /metrics make no span and count in no service's request metrics (and so
// in no SLO or alert rule); a page request, the control, does both.
func TestOperationsMakeNoSpansAndNoRequestCounts(t *testing.T) {
	s := startThree(t)
	fe := s.fe.URL
	json := map[string]string{"Content-Type": "application/json"}
	for _, c := range []struct {
		method, url, body string
		want              int
	}{
		{"GET", fe + "/console", "", 200},
		{"GET", fe + "/assets/pillars.css", "", 200},
		{"GET", fe + "/admin/console/state", "", 200},
		{"PATCH", fe + "/admin/faults", `{"retries": 1}`, 200},
		{"PATCH", s.beURL + "/admin/faults", `{"cpu_burn": "1ms"}`, 200},
		{"PATCH", s.dbURL + "/admin/faults", `{"jitter": "1ms"}`, 200},
		{"GET", fe + "/admin/console/state", "", 200}, // reads the other services' faults and metrics
		{"GET", fe + "/admin/traffic", "", 200},
		{"POST", fe + "/admin/console/clear-faults", "{}", 200},
		{"POST", fe + "/admin/faults", "{}", 405}, // a wrong method stays out as well
		{"GET", fe + "/admin/nothing", "", 404},
		{"GET", fe + "/ready", "", 200},
		{"GET", s.beURL + "/healthz", "", 200},
		{"GET", fe + "/metrics", "", 200},
		{"GET", s.dbURL + "/metrics", "", 200},
	} {
		if got := call(t, c.method, c.url, c.body, json); got != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.url, got, c.want)
		}
	}
	for _, svc := range []struct {
		name string
		rec  *telemetrytest.Recorder
	}{{"frontend", s.fe.tel}, {"backend", s.be}, {"database", s.db}} {
		if spans := svc.rec.Ended(t); len(spans) != 0 {
			t.Errorf("%s made spans for operations: %v", svc.name, telemetrytest.Names(spans))
		}
		if n := requestsCounted(t, svc.rec, svc.name); n != 0 {
			t.Errorf("%s_requests_total counted %v operations", svc.name, n)
		}
	}

	// The control: a visitor's page is traced and counted by every service.
	if got := call(t, "GET", fe+"/user/7", "", nil); got != 200 {
		t.Fatalf("GET /user/7: %d", got)
	}
	eventually(t, "the page request traced and counted", func() error {
		for _, svc := range []struct {
			name string
			rec  *telemetrytest.Recorder
		}{{"frontend", s.fe.tel}, {"backend", s.be}, {"database", s.db}} {
			if n := requestsCounted(t, svc.rec, svc.name); n != 1 {
				return fmt.Errorf("%s_requests_total = %v, want 1", svc.name, n)
			}
			if len(svc.rec.Ended(t)) == 0 {
				return fmt.Errorf("%s made no span", svc.name)
			}
		}
		return nil
	})
}

// Built-in traffic is marked as synthetic, as the OpenTelemetry demo marks its load
// generator's: every span of a generated request, in every service, carries
// synthetic_request="true"; a person's request carries no such attribute.
func TestGeneratedRequestsAreMarkedSynthetic(t *testing.T) {
	s := startThree(t)
	resp, _ := get(t, http.DefaultClient, s.fe.URL+"/product/3", "")
	person, _ := traceResponse(t, resp.Header)
	// The marker is the only member of an outside baggage header the edge lets through.
	if got := call(t, "GET", s.fe.URL+"/user/3", "", map[string]string{"baggage": "synthetic_request=true,tenant=acme"}); got != 200 {
		t.Fatalf("a marked request: %d", got)
	}
	s.fe.svc.StartTraffic()
	if got := call(t, "PUT", s.fe.URL+"/admin/traffic", `{"rate": 50}`, nil); got != 200 {
		t.Fatalf("PUT /admin/traffic: %d", got)
	}
	eventually(t, "generated requests", func() error {
		if n := s.fe.tel.CounterValue(t, "pillars_traffic_requests_total", map[string]string{"outcome": "ok"}); n < 5 {
			return fmt.Errorf("%v answered so far", n)
		}
		return nil
	})
	s.fe.svc.StopTraffic() // waits for the requests in flight
	marked := map[string]int{}
	for _, svc := range []struct {
		name string
		rec  *telemetrytest.Recorder
	}{{"frontend", s.fe.tel}, {"backend", s.be}, {"database", s.db}} {
		for _, sp := range svc.rec.Ended(t) {
			var synthetic, tenant string
			for _, a := range sp.Attributes {
				switch a.Key {
				case telemetry.SyntheticKey:
					synthetic = a.Value.Emit()
				case "tenant":
					tenant = a.Value.Emit()
				}
			}
			if tenant != "" {
				t.Errorf("%s span %s carries the caller's baggage member tenant", svc.name, sp.Name)
			}
			if sp.SpanContext.TraceID().String() == person && synthetic != "" {
				t.Errorf("%s span %s of a person's request is marked synthetic", svc.name, sp.Name)
			}
			if synthetic == "true" {
				marked[svc.name]++
			}
		}
	}
	for _, svc := range []string{"frontend", "backend", "database"} {
		if marked[svc] < 5 {
			t.Errorf("%s: %d spans marked synthetic after 5 generated requests, want every span of each (%v)", svc, marked[svc], marked)
		}
	}
}
