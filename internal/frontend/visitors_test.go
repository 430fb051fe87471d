package frontend

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"testing/synctest"
	"time"
)

// A visitor counts as active for 60 s after its last request, then expires.
func TestVisitorsExpireAfterTheWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newVisitorTracker(time.Minute, 100)
		v.seen("alice")
		time.Sleep(30 * time.Second)
		v.seen("bob")
		if n := v.active(); n != 2 {
			t.Fatalf("at 30s: %d active, want 2", n)
		}
		time.Sleep(30 * time.Second) // alice last seen exactly 60 s ago
		if n := v.active(); n != 1 {
			t.Fatalf("at 60s: %d active, want 1 (alice expired)", n)
		}
		v.seen("bob")                // bob comes back at 60 s
		time.Sleep(59 * time.Second) // 119 s: bob seen 59 s ago
		if n := v.active(); n != 1 {
			t.Fatalf("at 119s: %d active, want 1", n)
		}
		time.Sleep(time.Second)
		if n := v.active(); n != 0 {
			t.Fatalf("at 120s: %d active, want 0", n)
		}
	})
}

// The tracker is bounded: past its limit the least recently seen visitor is forgotten.
func TestVisitorsAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newVisitorTracker(time.Minute, 3)
		for _, id := range []string{"a", "b", "c"} {
			v.seen(id)
			time.Sleep(time.Second)
		}
		v.seen("a") // a is now the most recent; b the least
		v.seen("d")
		if n := v.active(); n != 3 {
			t.Fatalf("%d active, want the limit 3", n)
		}
		for id, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
			if _, ok := v.seenRecently.Get(id); ok != want {
				t.Errorf("visitor %s tracked: %v, want %v", id, ok, want)
			}
		}
	})
}

// The pruner frees expired visitors even when nobody reads the gauge.
func TestVisitorsPrunedInTheBackground(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newVisitorTracker(time.Minute, 100)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			v.pruneEvery(ctx, pruneInterval(time.Minute))
		}()
		v.seen("alice")
		v.seen("bob")
		time.Sleep(90 * time.Second)
		synctest.Wait()
		if left := v.seenRecently.Len(); left != 0 {
			t.Errorf("%d visitors still held 90 s after their last request", left)
		}
		cancel()
		<-done
	})
}

// cookieless sends n requests without a cookie through the visitor middleware and returns the
// cookies they were given.
func cookieless(s *Service, n int) []*http.Cookie {
	h := s.trackVisitor(func(http.ResponseWriter, *http.Request) {})
	cookies := make([]*http.Cookie, 0, n)
	for range n {
		w := httptest.NewRecorder()
		h(w, httptest.NewRequest(http.MethodGet, "/", nil))
		cookies = append(cookies, w.Result().Cookies()...)
	}
	return cookies
}

// A client that never sends its cookie back makes the frontend remember nothing: 10 000
// cookie-less requests leave the visitor cache empty, and still count as 10 000 active
// visitors until the window passes. A visitor that comes back with its cookie is remembered
// from then on, and counted once, not twice.
func TestCookielessVisitorsAreCountedNotRemembered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 10_000
		s := &Service{visitors: newVisitorTracker(time.Minute, 100_000)}
		cookies := cookieless(s, n)
		if len(cookies) != n {
			t.Fatalf("%d cookies issued for %d new visitors", len(cookies), n)
		}
		if held := s.visitors.seenRecently.Len(); held != 0 {
			t.Errorf("%d cookie-less requests left %d visitors in memory, want 0", n, held)
		}
		if got := s.visitors.active(); got != n {
			t.Errorf("active = %d, want %d new visitors", got, n)
		}

		time.Sleep(10 * time.Second)
		back := s.trackVisitor(func(http.ResponseWriter, *http.Request) {})
		for _, c := range cookies[:3] {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.AddCookie(c)
			back(httptest.NewRecorder(), r)
			back(httptest.NewRecorder(), r)
		}
		if held, got := s.visitors.seenRecently.Len(), s.visitors.active(); held != 3 || got != n {
			t.Errorf("after 3 came back twice: %d remembered, %d active; want 3 and still %d", held, got, n)
		}
		time.Sleep(55 * time.Second) // 65 s after the arrivals, 55 s after the 3 came back
		if got := s.visitors.active(); got != 3 {
			t.Errorf("active = %d after the window, want the 3 that came back", got)
		}
	})
}

// BenchmarkCookielessVisitorHeap reports the live heap that cookie-less requests leave behind
// (bytes per request, after a GC): what a load tool without a cookie jar makes the frontend
// hold for the active window.
func BenchmarkCookielessVisitorHeap(b *testing.B) {
	const n = 100_000
	var before, after runtime.MemStats
	for b.Loop() {
		s := &Service{visitors: newVisitorTracker(time.Minute, DefaultMaxVisitors)}
		runtime.GC()
		runtime.ReadMemStats(&before)
		h := s.trackVisitor(func(http.ResponseWriter, *http.Request) {})
		w, r := discardWriter{http.Header{}}, httptest.NewRequest(http.MethodGet, "/", nil)
		for range n {
			clear(w.h)
			h(w, r)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(s)
	}
	b.ReportMetric(float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc))/n, "heap-B/visitor")
	b.ReportMetric(float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc))/(1<<20), "heap-MB/100k")
}

// discardWriter is a ResponseWriter that keeps nothing but its header map.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}
