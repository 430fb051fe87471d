package backend

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestFlightSurvivesTheFirstCallerHangingUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g flightGroup[int64, string]
		release := make(chan struct{})
		loads := 0
		var loadErr error
		load := func(ctx context.Context) (string, error) {
			loads++
			<-release
			loadErr = ctx.Err() // the load's context outlives the first caller
			return "user 7", nil
		}

		first, hangUp := context.WithCancel(context.Background())
		type result struct {
			v      string
			shared bool
			err    error
		}
		firstDone, secondDone := make(chan result, 1), make(chan result, 1)
		go func() {
			v, shared, err := g.do(first, 7, time.Second, load)
			firstDone <- result{v, shared, err}
		}()
		synctest.Wait()
		go func() {
			v, shared, err := g.do(context.Background(), 7, time.Second, load)
			secondDone <- result{v, shared, err}
		}()
		synctest.Wait()
		if n := g.waiting(7); n != 2 {
			t.Fatalf("waiting = %d, want 2", n)
		}

		hangUp()
		if r := <-firstDone; !errors.Is(r.err, context.Canceled) || r.shared {
			t.Errorf("first caller got %+v, want its own cancellation as the starter", r)
		}
		close(release)
		if r := <-secondDone; r.err != nil || r.v != "user 7" || !r.shared {
			t.Errorf("second caller got %+v, want the shared value", r)
		}
		if loads != 1 || loadErr != nil {
			t.Errorf("loads %d (context error %v), want one load not cancelled by the first caller", loads, loadErr)
		}
		if n := g.waiting(7); n != 0 {
			t.Errorf("flight still registered after it ended: waiting %d", n)
		}
	})
}

func TestFlightHasItsOwnTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g flightGroup[int64, string]
		start := time.Now()
		_, _, err := g.do(context.Background(), 1, 2*time.Second, func(ctx context.Context) (string, error) {
			<-ctx.Done() // a database that never answers
			return "", ctx.Err()
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the deadline", err)
		}
		if took := time.Since(start); took != 2*time.Second {
			t.Errorf("gave up after %v, want the 2s timeout", took)
		}
		g.wait()
	})
}

func TestFlightTurnsAPanicIntoAnError(t *testing.T) {
	var g flightGroup[int64, string]
	_, _, err := g.do(context.Background(), 1, time.Second, func(context.Context) (string, error) {
		panic("boom")
	})
	if err == nil || err.Error() != "panic while loading: boom" {
		t.Errorf("err = %v, want the panic as an error", err)
	}
	// The key is free again.
	v, _, err := g.do(context.Background(), 1, time.Second, func(context.Context) (string, error) { return "ok", nil })
	if err != nil || v != "ok" {
		t.Errorf("after the panic: %q, %v", v, err)
	}
}
