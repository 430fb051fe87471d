package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counter is a real HTTP server that counts what reaches it and how many requests it holds
// at once.
type counter struct {
	requests, inFlight, maxInFlight atomic.Int64
	status                          int
	paths                           sync.Map
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.requests.Add(1)
	n := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	for {
		m := c.maxInFlight.Load()
		if n <= m || c.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	c.paths.Store(r.URL.Path, true)
	if c.status != 0 {
		w.WriteHeader(c.status)
	}
	_, _ = w.Write([]byte("0123456789"))
}

func serve(t *testing.T, c *counter) string {
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestOpenLoopSendsExactlyRateTimesDuration(t *testing.T) {
	c := &counter{}
	var events []string
	var mu sync.Mutex
	res, err := Run(context.Background(), Spec{
		URL: serve(t, c), Path: "cached-user", Rate: 400, Warmup: 100 * time.Millisecond, Duration: 400 * time.Millisecond,
	}, func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	// 400/s over 0.5 s is 200 requests: every one sent, every one reached the server.
	if res.Sent != 200 || c.requests.Load() != 200 || res.Answered != 200 {
		t.Fatalf("sent %d, server saw %d, answered %d; want 200 each", res.Sent, c.requests.Load(), res.Answered)
	}
	// The window holds the requests due in it: 400/s over 0.4 s, exactly, however the timer
	// and the scheduler ran.
	if res.Requests != 160 || res.Errors != 0 {
		t.Fatalf("window: %d requests, %d errors of %d sent; want 160", res.Requests, res.Errors, res.Sent)
	}
	if res.BytesIn != 10*res.Requests {
		t.Fatalf("bytes in = %d, want 10 per window request (%d)", res.BytesIn, 10*res.Requests)
	}
	if res.Latency.N != int(res.Requests) || res.Latency.P50 <= 0 || res.Latency.P50 > res.Latency.Max {
		t.Fatalf("latency summary %+v does not describe %d requests", res.Latency, res.Requests)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || events[0] != "start" || events[1] != "end" {
		t.Fatalf("events = %v, want [start end]", events)
	}
	// The cached path cycles over the hot users only.
	n := 0
	c.paths.Range(func(any, any) bool { n++; return true })
	if n != HotUsers {
		t.Fatalf("%d distinct paths, want %d hot users", n, HotUsers)
	}
}

func TestClosedLoopHoldsItsConnections(t *testing.T) {
	c := &counter{}
	res, err := Run(context.Background(), Spec{
		URL: serve(t, c), Path: "home", Conns: 3, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.maxInFlight.Load(); got < 1 || got > 3 {
		t.Fatalf("server held %d requests at once, want 1..3 with 3 connections", got)
	}
	if uint64(c.requests.Load()) != res.Sent || res.Sent != res.Answered || res.Requests == 0 {
		t.Fatalf("server saw %d, load sent %d, answered %d, window %d", c.requests.Load(), res.Sent, res.Answered, res.Requests)
	}
	if res.Throughput != float64(res.Requests)/0.2 {
		t.Fatalf("throughput %v is not window requests / window", res.Throughput)
	}
}

func TestErrorsAreCounted(t *testing.T) {
	c := &counter{status: http.StatusBadGateway}
	res, err := Run(context.Background(), Spec{
		URL: serve(t, c), Path: "product", Rate: 100, Duration: 200 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 20 || res.Answered != 0 || res.Errors != res.Requests || res.FirstError == "" {
		t.Fatalf("502s: %+v", res)
	}
}

func TestPaths(t *testing.T) {
	for _, tc := range []struct {
		path string
		i    uint64
		want string
	}{
		{"cached-user", 0, "/user/1"}, {"cached-user", HotUsers, "/user/1"}, {"cached-user", HotUsers - 1, "/user/100"},
		{"uncached-user", MaxUserID - 1, "/user/5000"}, {"uncached-user", MaxUserID, "/user/1"},
		{"product", MaxProductID - 1, "/product/1000"}, {"home", 7, "/"},
	} {
		if got := Paths[tc.path](tc.i); got != tc.want {
			t.Errorf("%s(%d) = %s, want %s", tc.path, tc.i, got, tc.want)
		}
	}
	if _, err := newSequence("nope"); err == nil {
		t.Fatal("unknown path accepted")
	}
}

func TestFractionalRate(t *testing.T) {
	p := perSecond(2.5)
	if got := p.Rate(0); got < 2.499 || got > 2.501 {
		t.Fatalf("perSecond(2.5) paces %v/s", got)
	}
	p = perSecond(5830.4)
	if got := p.Rate(0); got != 5830 {
		t.Fatalf("perSecond(5830.4) paces %v/s", got)
	}
}

// TestOpenLoopPoolsItsConnections: a slow server does not make the open loop open a
// connection per request; requests queue for the pool, and every one is still sent.
func TestOpenLoopPoolsItsConnections(t *testing.T) {
	c := &counter{}
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // the server's slowness, not the test's synchronisation
		c.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(slow)
	defer srv.Close()
	res, err := Run(context.Background(), Spec{URL: srv.URL, Path: "home", Rate: 400, Conns: 4, Duration: 250 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 100 || c.requests.Load() != 100 || res.Requests != 100 {
		t.Fatalf("sent %d, server saw %d, window %d; want 100 each", res.Sent, c.requests.Load(), res.Requests)
	}
	if got := c.maxInFlight.Load(); got > 4 {
		t.Fatalf("server held %d requests at once through a pool of 4", got)
	}
}
