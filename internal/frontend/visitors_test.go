package frontend

import (
	"context"
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
