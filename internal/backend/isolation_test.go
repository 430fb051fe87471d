package backend

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// One request's faults (X-Pillars-Fault) are that request's alone: the backend in front of a
// real database, both honouring request faults, serves faulted and plain requests for the
// same keys at once. The overview has a single key, so every concurrent miss of the home page
// meets every other.

// isolationKeys are the keys the tests share between faulted and plain requests: the path,
// the subject of the backend's "Calling database for ..." log line of its load, and the
// operation label of its database calls.
var isolationKeys = []struct{ path, subject, op string }{
	{"/api/data", "query top_products", opQuery},
	{"/api/user/42", "user 42", opGetUser},
	{"/api/product/7", "product 7", opGetProduct},
}

// realDatabase is the real database service on a new, seeded SQLite file, with request
// faults on, and its admin API.
type realDatabase struct {
	url string
	svc *database.Service
}

func startFaultableDatabase(t *testing.T) *realDatabase {
	t.Helper()
	svc, err := database.New(context.Background(), database.Config{
		Path: filepath.Join(t.TempDir(), "pillars.db"), RequestFaults: true,
	}, telemetrytest.New(t, "database").Telemetry)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() { srv.Close(); _ = svc.Close() })
	return &realDatabase{url: srv.URL, svc: svc}
}

// setFaults replaces the database's own faults (for every request) through its admin API.
func (d *realDatabase) setFaults(t *testing.T, doc string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, d.url+"/admin/faults", strings.NewReader(doc))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /admin/faults %s: %d %s", doc, resp.StatusCode, body)
	}
}

// send requests path with the X-Pillars-Fault spec (none when empty) until ctx ends.
func (h *harness) send(ctx context.Context, path, spec string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url+path, nil)
	if err != nil {
		return answer{}, err
	}
	if spec != "" {
		req.Header.Set(faults.Header, spec)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: body}, err
}

// The seeded database is made once (seeding takes seconds under the race detector) and shared
// by the cases, each with a backend of its own.
func TestOneRequestsFaultsAreItsOwn(t *testing.T) {
	db := startFaultableDatabase(t)
	t.Run("plain requests do not wait for another's faults", func(t *testing.T) { testPlainDoNotWait(t, db) })
	t.Run("faulted requests get their own faults", func(t *testing.T) { testFaultedGetTheirOwn(t, db) })
	t.Run("faulted and plain requests at once", func(t *testing.T) { testFaultedAndPlainAtOnce(t, db) })
}

// A request whose faults stall its load (its own call latency, or its own database latency)
// goes first; plain requests for the same key that come while it waits all answer 200, and
// they do so while it still waits: they neither joined its load nor got its fault. Before,
// they joined its load and failed with it.
func testPlainDoNotWait(t *testing.T, db *realDatabase) {
	for _, spec := range []string{"backend.call_latency=30s", "database.latency=30s"} {
		for _, key := range isolationKeys {
			t.Run(spec+" "+key.path, func(t *testing.T) {
				// Every lookup misses (the cache keeps nothing for long), so every request
				// loads or joins a load; the loads may take as long as the faults last.
				h := startBackendAt(t, db.url, Config{RequestFaults: true, CacheTTL: time.Nanosecond, DatabaseTimeout: time.Minute})
				faultedCtx, cancelFaulted := context.WithCancel(t.Context())
				faulted := make(chan answer, 1)
				go func() {
					a, _ := h.send(faultedCtx, key.path, spec)
					faulted <- a
				}()
				eventually(t, "the faulted request's load to begin", func() bool {
					return len(h.logsWithMsg(t, "Calling database for "+key.subject)) > 0
				})

				failures := sendPlain(t, h, key.path, 8)
				select {
				case a := <-faulted:
					t.Errorf("the faulted request answered %d before its 30s fault was over: it did not get its own fault", a.status)
				default:
				}
				if failures != 0 {
					t.Errorf("%d of 8 plain requests failed while another request's fault (%s) was loading the same key", failures, spec)
				}
				cancelFaulted()
				<-faulted
			})
		}
	}
}

// sendPlain sends n plain requests for path at once and returns how many did not answer 200
// within 15s (half the faults' 30s).
func sendPlain(t *testing.T, h *harness, path string, n int) (failures int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			a, err := h.send(ctx, path, "")
			if err != nil || a.status != http.StatusOK {
				mu.Lock()
				failures++
				mu.Unlock()
				t.Logf("plain %s: %d %v %s", path, a.status, err, a.body)
			}
		})
	}
	wg.Wait()
	return failures
}

// A plain request's load is in flight (the database is slow for everyone) when a request
// with faults of its own asks for the same key: it makes its own call and gets its fault,
// instead of joining the plain load and silently losing it.
func testFaultedGetTheirOwn(t *testing.T, db *realDatabase) {
	cases := []struct {
		spec   string
		status int
		label  string // of backend_database_calls_total
	}{
		{"backend.call_refuse_rate=1", http.StatusServiceUnavailable, "unavailable"},
		{"database.error_rate=1", http.StatusBadGateway, "error"},
	}
	for _, c := range cases {
		for _, key := range isolationKeys {
			t.Run(c.spec+" "+key.path, func(t *testing.T) {
				h := startBackendAt(t, db.url, Config{RequestFaults: true, CacheTTL: time.Nanosecond, DatabaseTimeout: time.Minute})
				db.setFaults(t, `{"latency":"1s"}`)
				t.Cleanup(func() { db.setFaults(t, `{}`) })
				plain := make(chan answer, 1)
				go func() {
					a, _ := h.send(t.Context(), key.path, "")
					plain <- a
				}()
				eventually(t, "the plain request's load to begin", func() bool {
					return len(h.logsWithMsg(t, "Calling database for "+key.subject)) > 0
				})

				a, err := h.send(t.Context(), key.path, c.spec)
				if err != nil || a.status != c.status {
					t.Errorf("the faulted request answered %d (%v) %s, want its own fault's %d", a.status, err, a.body, c.status)
				}
				if p := <-plain; p.status != http.StatusOK {
					t.Errorf("the plain request answered %d: %s", p.status, p.body)
				}
				if n := h.rec.CounterValue(t, "backend_database_calls_total", map[string]string{"operation": key.op, "status": c.label}); n == 0 {
					t.Errorf("no database call counted %s: the faulted request made no call of its own", c.label)
				}
			})
		}
	}
}

// The count the issue asks for: faulted requests (each refused by its own call fault, after
// a short call latency that keeps its load open) and plain requests for the same keys, all at
// once, round after round. No plain request fails, none waits for a faulted request's load
// (a joiner's span links to the load it waited for), and every faulted request gets its
// fault.
func testFaultedAndPlainAtOnce(t *testing.T, db *realDatabase) {
	// A generous database timeout: on a loaded machine a plain load must not time out and
	// pass for a fault.
	h := startBackendAt(t, db.url, Config{RequestFaults: true, CacheTTL: time.Nanosecond, DatabaseTimeout: time.Minute})
	const (
		rounds = 8
		each   = 6 // faulted and as many plain requests per key and round
		spec   = "backend.call_latency=20ms, backend.call_refuse_rate=1"
	)
	var (
		mu                                  sync.Mutex
		plainFailed, faultedNotRefused, all int
	)
	for range rounds {
		var wg sync.WaitGroup
		for _, key := range isolationKeys {
			for i := range 2 * each {
				faulted := i%2 == 0
				wg.Go(func() {
					s := ""
					if faulted {
						s = spec
					}
					a, err := h.send(t.Context(), key.path, s)
					mu.Lock()
					defer mu.Unlock()
					all++
					switch {
					case faulted && (err != nil || a.status != http.StatusServiceUnavailable):
						faultedNotRefused++
						t.Logf("faulted %s: %d %v %s", key.path, a.status, err, a.body)
					case !faulted && (err != nil || a.status != http.StatusOK):
						plainFailed++
						t.Logf("plain %s: %d %v %s", key.path, a.status, err, a.body)
					}
				})
			}
		}
		wg.Wait()
	}
	if want := rounds * len(isolationKeys) * 2 * each; all != want {
		t.Fatalf("%d answers, want %d", all, want)
	}
	if plainFailed != 0 {
		t.Errorf("%d plain requests failed among faulted ones for the same keys", plainFailed)
	}
	if faultedNotRefused != 0 {
		t.Errorf("%d faulted requests did not get their own fault (503)", faultedNotRefused)
	}

	// Which loads the plain requests waited for: a joiner links to the span of the request
	// whose load it joined, and a faulted request's span notes its faults.
	spans := h.rec.Ended(t)
	faultedSpans := map[string]bool{}
	for _, s := range spans {
		if attrOf(s, "pillars.fault.request") != "" {
			faultedSpans[s.SpanContext.SpanID().String()] = true
		}
	}
	if len(faultedSpans) != rounds*len(isolationKeys)*each {
		t.Errorf("%d spans note their request's faults, want one per faulted request", len(faultedSpans))
	}
	joined, joinedFaulted := 0, 0
	for _, s := range spans {
		if attrOf(s, "app.cache.shared_load") != "true" {
			continue
		}
		joined++
		for _, l := range s.Links {
			if faultedSpans[l.SpanContext.SpanID().String()] {
				joinedFaulted++
			}
		}
	}
	if joinedFaulted != 0 {
		t.Errorf("%d requests waited for a faulted request's load", joinedFaulted)
	}
	t.Logf("%d requests, %d of them joined another's load", all, joined)
}

// A request that joins a load another request started links its span to that request's span,
// where the database call is; the loader's span counts the requests that joined it.
func TestJoinerLinksToTheLoadersSpan(t *testing.T) {
	db := newFakeDB(t)
	gate := make(chan struct{})
	db.set(func(f *fakeDB) { f.gate = gate })
	h := startBackend(t, db, Config{})

	loader, joiner := make(chan answer, 1), make(chan answer, 1)
	go func() { loader <- h.get(t, "/api/user/7") }()
	eventually(t, "the first request to start the load", func() bool { return h.svc.users.flights.waiting(7) == 1 })
	go func() { joiner <- h.get(t, "/api/user/7") }()
	eventually(t, "the second request to join it", func() bool { return h.svc.users.flights.waiting(7) == 2 })
	close(gate)
	l, j := <-loader, <-joiner
	if l.status != http.StatusOK || j.status != http.StatusOK {
		t.Fatalf("statuses %d and %d", l.status, j.status)
	}

	ls := spanIn(t, h.spansOf(t, l.traceID), "backend_get_user")
	js := spanIn(t, h.spansOf(t, j.traceID), "backend_get_user")
	if len(js.Links) != 1 || js.Links[0].SpanContext.TraceID() != ls.SpanContext.TraceID() ||
		js.Links[0].SpanContext.SpanID() != ls.SpanContext.SpanID() {
		t.Errorf("the joiner's links %+v, want one to the loader's span %s/%s", js.Links, ls.SpanContext.TraceID(), ls.SpanContext.SpanID())
	}
	if attrOf(js, "app.cache.shared_load") != "true" {
		t.Errorf("the joiner's span does not say it shared a load: %v", js.Attributes)
	}
	if got := attrOf(ls, "app.cache.load_shared_with"); got != "1" {
		t.Errorf("the loader's span says its load was shared with %q requests, want 1", got)
	}
	if len(ls.Links) != 0 {
		t.Errorf("the loader's span has links %+v", ls.Links)
	}
	// The database call is in the loader's trace only.
	if n := len(h.spansOf(t, j.traceID)); n != 2 {
		t.Errorf("the joiner's trace has %d spans, want its entry span and validate_user_id", n)
	}
}
