package traffic

import (
	"cmp"
	"context"
	"crypto/rand"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// visitorCookie is the frontend's visitor cookie, as the fake issues it.
const visitorCookie = "pillars_visitor"

// fakeFrontend stands in for the frontend inside a synctest bubble: it answers in memory
// (network I/O would stall the bubble's clock), issues visitor cookies as the frontend does,
// and counts what it was asked. status, when set, is every answer's status.
type fakeFrontend struct {
	delay  time.Duration // each answer waits this long, or until the request is cancelled
	status int

	mu       sync.Mutex
	paths    []string
	accepts  map[string]int
	cookies  map[string]int // visitor cookie → requests that carried it
	issued   int
	inFlight atomic.Int64
	peak     atomic.Int64
}

func (f *fakeFrontend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for p := f.peak.Load(); n > p && !f.peak.CompareAndSwap(p, n); p = f.peak.Load() {
	}
	f.mu.Lock()
	f.paths = append(f.paths, r.URL.Path)
	if f.accepts == nil {
		f.accepts, f.cookies = map[string]int{}, map[string]int{}
	}
	f.accepts[r.Header.Get("Accept")]++
	if c, err := r.Cookie(visitorCookie); err == nil {
		f.cookies[c.Value]++
	} else {
		f.issued++
		http.SetCookie(w, &http.Cookie{Name: visitorCookie, Value: rand.Text(), Path: "/"})
	}
	status := cmp.Or(f.status, http.StatusOK)
	f.mu.Unlock()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	w.WriteHeader(status)
}

func (f *fakeFrontend) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.paths)
}

// RoundTrip serves the request in memory, so the generator's own client, cookie jars and all,
// is what the test exercises.
func (f *fakeFrontend) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	return rec.Result(), nil
}

// newGenerator returns a generator sending to f, with cfg's other fields.
func newGenerator(t *testing.T, f *fakeFrontend, cfg Config) *Generator {
	t.Helper()
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://frontend.test"
	}
	cfg.Client = &http.Client{Transport: f}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// start runs g in the background with a seeded draw; the returned function stops it and
// waits until it has returned.
func start(g *Generator) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		rng := mrand.New(mrand.NewPCG(1, 2))
		g.running.Store(true)
		defer g.running.Store(false)
		g.run(ctx, newRequestDraw(rng, g.cfg.MaxUserID, g.cfg.MaxProductID), rng)
	}()
	return func() { cancel(); <-done }
}

// runFor runs a generator with cfg against f for d of bubble time.
func runFor(t *testing.T, f *fakeFrontend, cfg Config, d time.Duration) *Generator {
	t.Helper()
	g := newGenerator(t, f, cfg)
	stop := start(g)
	time.Sleep(d)
	stop()
	return g
}

// The generator sends Rate requests a second, no more, no less.
func TestTrafficPacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeFrontend{}
		runFor(t, f, Config{Initial: Defaults(50)}, 10*time.Second)
		if n := len(f.paths); n < 499 || n > 500 {
			t.Errorf("%d requests in 10 s at 50/s, want 500", n)
		}
	})
}

// A frontend slower than the rate gets at most MaxInFlight requests at once; the rest of the
// ticks are skipped, not queued.
func TestTrafficBoundsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeFrontend{delay: time.Hour}
		runFor(t, f, Config{Initial: Defaults(100), MaxInFlight: 5}, 10*time.Second)
		if p := f.peak.Load(); p != 5 {
			t.Errorf("peak of %d requests in flight, want the cap 5", p)
		}
		if n := len(f.paths); n != 5 {
			t.Errorf("%d requests sent to a frontend that never answers, want 5", n)
		}
		if n := f.inFlight.Load(); n != 0 {
			t.Errorf("%d requests still in flight after Run returned", n)
		}
	})
}

// The mix follows the shares (10% home, 50% user, 35% product, 5% bad), ids come from the seeded
// ranges with a few hot ones and a long tail, and each simulated user keeps its cookie.
func TestTrafficMix(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeFrontend{}
		const maxUser, maxProduct = 5000, 1000
		runFor(t, f, Config{
			Initial: Defaults(200), Users: 50, BaseURL: "http://frontend.test/",
			MaxUserID: maxUser, MaxProductID: maxProduct,
		}, 60*time.Second)

		kinds := map[string]int{}
		userHits := map[int64]int{}
		productHits := map[int64]int{}
		for _, p := range f.paths {
			kind, id := classifyPath(p, maxUser, maxProduct)
			kinds[kind]++
			switch kind {
			case "user":
				userHits[id]++
			case "product":
				productHits[id]++
			}
		}
		total := float64(len(f.paths))
		if total < 11_990 {
			t.Fatalf("%v requests, want 12000", total)
		}
		for kind, want := range map[string]float64{"home": 0.10, "user": 0.50, "product": 0.35, "bad": 0.05} {
			if got := float64(kinds[kind]) / total; math.Abs(got-want) > 0.015 {
				t.Errorf("share of %s requests %.3f, want %.2f±0.015", kind, got, want)
			}
		}
		checkSkew(t, "user", userHits, 1000)
		checkSkew(t, "product", productHits, 300)
		if browsers := f.accepts[acceptBrowser]; browsers == 0 || browsers >= kinds["home"] {
			t.Errorf("%d of %d home requests asked for HTML, want some but not all", browsers, kinds["home"])
		}

		// 50 users, each issued one cookie on its first request, which it then sent every time.
		if f.issued != 50 || len(f.cookies) != 50 {
			t.Errorf("%d cookies issued, %d distinct cookies sent back; want 50 and 50", f.issued, len(f.cookies))
		}
	})
}

// classifyPath says what a generated path asks for: a page with an id in the seeded ranges,
// or a request that must fail.
func classifyPath(p string, maxUser, maxProduct int64) (kind string, id int64) {
	if p == "/" {
		return "home", 0
	}
	for _, page := range []struct {
		prefix, kind string
		max          int64
	}{{"/user/", "user", maxUser}, {"/product/", "product", maxProduct}} {
		if rest, ok := strings.CutPrefix(p, page.prefix); ok {
			id, err := strconv.ParseInt(rest, 10, 64)
			if err != nil || id < 1 || id > page.max {
				return "bad", 0
			}
			return page.kind, id
		}
	}
	return "unknown " + p, 0
}

// checkSkew asserts a Zipf-like popularity: the hottest id is requested far more often than
// the median requested id, the hot ids are not simply 1, 2, 3, and many ids are requested.
func checkSkew(t *testing.T, what string, hits map[int64]int, minDistinct int) {
	t.Helper()
	counts := make([]int, 0, len(hits))
	hottest, hottestID := 0, int64(0)
	for id, n := range hits {
		counts = append(counts, n)
		if n > hottest {
			hottest, hottestID = n, id
		}
	}
	slices.Sort(counts)
	median := counts[len(counts)/2]
	t.Logf("%s ids: %d distinct, hottest %d with %d requests, median %d", what, len(hits), hottestID, hottest, median)
	if hottest < 20*median {
		t.Errorf("%s ids: the hottest (%d) has %d requests, the median %d; want a skew of 20x or more", what, hottestID, hottest, median)
	}
	if len(hits) < minDistinct {
		t.Errorf("%d distinct %s ids requested, want at least %d (a long tail)", len(hits), what, minDistinct)
	}
	if hottestID == 1 {
		t.Errorf("the hottest %s id is 1: popularity should be spread over the range", what)
	}
}

func TestTrafficConfig(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeFrontend{}
			runFor(t, f, Config{}, time.Minute) // rate 0: returns only once cancelled
			if len(f.paths) != 0 {
				t.Errorf("%d requests with rate 0", len(f.paths))
			}
		})
	})
	for _, cfg := range []Config{
		{Initial: Defaults(-1), BaseURL: "http://x"},
		{Initial: Defaults(1)},
		{Initial: Defaults(1), BaseURL: "127.0.0.1:8001"},
		{Initial: Defaults(MaxRate + 1), BaseURL: "http://x"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted a bad config", cfg)
		}
	}
}
