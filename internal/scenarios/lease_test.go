package scenarios

import (
	"context"
	"net"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/traffic"
)

// services are real fault switches, as the three services hold them.
type services struct {
	frontend *faults.Switch[faults.Frontend]
	backend  *faults.Switch[faults.Backend]
	database *faults.Switch[faults.Database]
}

func newServices(t *testing.T, db faults.Database, be faults.Backend) services {
	t.Helper()
	var s services
	var err error
	if s.frontend, err = faults.NewSwitch("frontend", faults.Frontend{}, nil); err != nil {
		t.Fatal(err)
	}
	if s.backend, err = faults.NewSwitch("backend", be, nil); err != nil {
		t.Fatal(err)
	}
	if s.database, err = faults.NewSwitch("database", db, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// reachedBy is how one runner reaches the services; cut makes them unreachable from it, as
// when the process that hosts the runner is killed.
type reachedBy struct {
	FaultTarget
	gone *atomic.Bool
}

var refused = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}

func (r reachedBy) PatchLeased(ctx context.Context, k map[string]any, ttl time.Duration) error {
	if r.gone.Load() {
		return refused
	}
	return r.FaultTarget.PatchLeased(ctx, k, ttl)
}

func (r reachedBy) ReplaceLeased(ctx context.Context, k map[string]any, ttl time.Duration) error {
	if r.gone.Load() {
		return refused
	}
	return r.FaultTarget.ReplaceLeased(ctx, k, ttl)
}

func (r reachedBy) Renew(ctx context.Context, ttl time.Duration) error {
	if r.gone.Load() {
		return refused
	}
	return r.FaultTarget.Renew(ctx, ttl)
}

func (r reachedBy) Release(ctx context.Context) (bool, error) {
	if r.gone.Load() {
		return false, refused
	}
	return r.FaultTarget.Release(ctx)
}

// newRunnerOver returns a runner (as one frontend process hosts it) driving s; gone cuts it off.
func newRunnerOver(t *testing.T, s services) (*Runner, *atomic.Bool) {
	t.Helper()
	lib, err := Load(testLibrary)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := traffic.New(traffic.Config{BaseURL: "http://frontend.test"})
	if err != nil {
		t.Fatal(err)
	}
	gone := &atomic.Bool{}
	r, err := NewRunner(RunnerConfig{Library: lib, Traffic: gen, Faults: map[string]FaultTarget{
		"frontend": reachedBy{SwitchTarget(s.frontend), gone},
		"backend":  reachedBy{SwitchTarget(s.backend), gone},
		"database": reachedBy{SwitchTarget(s.database), gone},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return r, gone
}

// A run starts from a clean system, but gives each service back the faults it had before
// (those given at start, like --database-faults), as it gives the traffic back: at its end,
// and at a stop.
func TestRunGivesBackTheFaultsSetAtStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		atStart := faults.Database{Latency: faults.Duration(100 * time.Millisecond)}
		s := newServices(t, atStart, faults.Backend{CacheOff: true})
		r, _ := newRunnerOver(t, s)
		if _, err := r.Start(StartRequest{Name: "slow"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Second)
		if got := *s.database.Current(); got != (faults.Database{Latency: faults.Duration(300 * time.Millisecond)}) {
			t.Errorf("database during the scenario: %+v, want its step alone (latency 300ms)", got)
		}
		if s.backend.Current().CacheOff {
			t.Error("backend during the scenario: cache_off still on; a scenario starts from a clean system")
		}
		time.Sleep(41 * time.Second) // past the end (1m)
		if st := r.Status(); st.Active {
			t.Fatalf("still running: %+v", st)
		}
		if got := *s.database.Current(); got != atStart {
			t.Errorf("database after the scenario: %+v, want the faults given at start (latency 100ms)", got)
		}
		if !s.backend.Current().CacheOff {
			t.Error("backend after the scenario: cache_off, set at start, is gone")
		}

		if _, err := r.Start(StartRequest{Name: "slow"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		st := r.Stop()
		if got := *s.database.Current(); got != atStart {
			t.Errorf("database after a stop: %+v, want the faults given at start", got)
		}
		if !slices.Equal(st.Released, []string{"frontend", "backend", "database"}) {
			t.Errorf("stop says it released %v, want every service", st.Released)
		}
	})
}

// A timescale slower than real time is refused, not silently made 1.
func TestRunnerRefusesATimescaleBelowOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRunnerFixture(t)
		for _, ts := range []float64{0.5, 0.01, -1} {
			_, err := f.runner.Start(StartRequest{Name: "slow", Timescale: ts})
			if _, ok := err.(*RequestError); !ok {
				t.Errorf("timescale %v: %v, want a request error", ts, err)
			}
		}
		if st := f.runner.Status(); st.Scenario != "" {
			t.Errorf("a refused start ran %q", st.Scenario)
		}
		if _, err := f.runner.Start(StartRequest{Name: "slow"}); err != nil { // 0: left out, real time
			t.Errorf("no timescale: %v", err)
		}
		f.runner.Close()
	})
}

// The frontend that hosts the runner is killed while slow-database runs: the database must
// not keep its latency. The lease the runner no longer renews expires, and the faults each
// service had before come back on their own.
func TestScenarioFaultsEndWhenTheRunnerIsGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		atStart := faults.Database{Jitter: faults.Duration(10 * time.Millisecond)}
		s := newServices(t, atStart, faults.Backend{})
		r, gone := newRunnerOver(t, s)
		defer r.Close()
		if _, err := r.Start(StartRequest{Name: "slow"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(11 * time.Second) // renewed last at 10 s
		gone.Store(true)             // killed: nothing renews, nothing releases
		time.Sleep(DefaultLease - 2*time.Second)
		if got := s.database.Current().Latency; got != faults.Duration(300*time.Millisecond) {
			t.Fatalf("database within the lease: latency %v, want the scenario's 300ms", got)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := *s.database.Current(); got != atStart {
			t.Errorf("database after the lease expired: %+v, want the faults it had before (jitter 10ms)", got)
		}
	})
}

// `pillars scenario stop` on a frontend that restarted, whose runner has no record of the
// scenario, still ends its faults on every service, and says where.
func TestStopWithoutARecordEndsTheScenarioFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		atStart := faults.Database{Jitter: faults.Duration(10 * time.Millisecond)}
		s := newServices(t, atStart, faults.Backend{})
		old, gone := newRunnerOver(t, s)
		defer old.Close()
		if _, err := old.Start(StartRequest{Name: "slow"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		gone.Store(true)

		restarted, _ := newRunnerOver(t, s)
		st := restarted.Stop()
		if st.Scenario != "" || st.Active {
			t.Errorf("the restarted runner knows of a run: %+v", st)
		}
		if !slices.Equal(st.Released, []string{"frontend", "backend", "database"}) {
			t.Errorf("stop released %v, want every service that held the scenario's faults", st.Released)
		}
		if got := *s.database.Current(); got != atStart {
			t.Errorf("database after stop: %+v, want the faults it had before", got)
		}
		if st := restarted.Stop(); len(st.Released) != 0 {
			t.Errorf("a second stop released %v again", st.Released)
		}
	})
}
