package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// A stop under load loses no request: /ready turns 503 first, the services keep serving
// through the drain delay while a load balancer (here: the load itself, watching /ready)
// stops sending, then callers stop before their callees, so every request in flight is
// answered by all three tiers.
func TestStopUnderLoadFailsNoRequest(t *testing.T) {
	s := &stack{t: t, frontend: freeAddr(t), backend: freeAddr(t), database: freeAddr(t)}
	env := map[string]string{
		"PILLARS_FRONTEND_ADDR": s.frontend, "PILLARS_BACKEND_ADDR": s.backend, "PILLARS_DATABASE_ADDR": s.database,
		"PILLARS_DB_PATH": seededCopy(t), "PILLARS_TRAFFIC_RATE": "0", "OTEL_SDK_DISABLED": "true",
		// Every query takes a while, so that requests are in flight in every tier when it stops;
		// the cache is kept small so that they reach the database.
		"PILLARS_QUERY_LATENCY": "20ms", "PILLARS_CACHE_SIZE": "1",
		"PILLARS_DRAIN_DELAY": "1s", "PILLARS_SHUTDOWN_TIMEOUT": "10s",
	}
	stop := startRun(t, []string{"all"}, env, io.Discard)
	for _, addr := range []string{s.database, s.backend, s.frontend} {
		waitReady(t, "http://"+addr)
	}

	var unready atomic.Bool // the load balancer's view of /ready
	watcherDone := make(chan struct{})
	go func() {
		defer close(watcherDone)
		probe := time.NewTicker(200 * time.Millisecond) // a load balancer probes now and then, not constantly
		defer probe.Stop()
		for ; !unready.Load(); <-probe.C {
			resp, err := http.Get("http://" + s.frontend + "/ready")
			if err != nil || resp.StatusCode != http.StatusOK {
				unready.Store(true)
			}
			if resp != nil {
				resp.Body.Close()
			}
		}
	}()
	var ok, failed atomic.Int64
	var firstFailure atomic.Value
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for w := range 8 {
		wg.Go(func() {
			for i := 0; !unready.Load(); i++ {
				resp, err := client.Get(fmt.Sprintf("http://%s/user/%d", s.frontend, 1+(w*1000+i)%5000))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				switch {
				case err != nil:
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
				case resp.StatusCode != http.StatusOK:
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, resp.Status)
				default:
					ok.Add(1)
				}
			}
		})
	}
	telemetrytest.Eventually(t, 30*time.Second, "some load", func() bool { return ok.Load() >= 50 })
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	<-watcherDone
	wg.Wait()
	if err := <-stopped; err != nil {
		t.Errorf("run returned %v after a clean stop", err)
	}
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed during the stop (first: %v)", n, n+ok.Load(), firstFailure.Load())
	}
}

// When the grace runs out with a request still in flight, it is cut off and the command
// says so: exit status 1, consistently.
func TestGraceThatRunsOutIsAnError(t *testing.T) {
	addr := freeAddr(t)
	env := map[string]string{
		"PILLARS_DATABASE_ADDR": addr, "PILLARS_DB_PATH": seededCopy(t), "OTEL_SDK_DISABLED": "true",
		"PILLARS_QUERY_LATENCY": "25s", "PILLARS_DRAIN_DELAY": "0s", "PILLARS_SHUTDOWN_TIMEOUT": "100ms",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"database"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	}()
	waitReady(t, "http://"+addr)
	answered := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/db/user/1")
		if err == nil {
			resp.Body.Close()
			err = errors.New("answered " + resp.Status)
		}
		answered <- err
	}()
	telemetrytest.Eventually(t, 10*time.Second, "the request in flight", func() bool {
		return inUse(t, "http://"+addr) > 0
	})
	cancel()
	err := <-done
	if !errors.Is(err, telemetry.ErrGraceExpired) || exitCode(err) != 1 {
		t.Errorf("run = %v (exit %d), want the grace expiry, exit 1", err, exitCode(err))
	}
	if err := <-answered; err == nil {
		t.Error("the request in flight was answered after the grace")
	}
}

// inUse reads database_connection_pool_active: connections busy with a query right now.
func inUse(t *testing.T, base string) float64 {
	t.Helper()
	return sample(metrics(t, base[len("http://"):]), "database_connection_pool_active")
}
