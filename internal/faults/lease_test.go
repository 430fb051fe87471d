package faults_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

func ms(n int) faults.Duration { return faults.Duration(time.Duration(n) * time.Millisecond) }

// A scenario's faults are leased: when their owner stops renewing the lease (killed, or gone
// without a record of it), they end, and the service's base faults, those set at start or by
// a person, come back. A person's change made meanwhile outlives the lease.
func TestLeasedFaultsEndWhenTheirOwnerStopsRenewing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := faults.Database{Latency: ms(100)} // --database-faults at start
		sw, err := faults.NewSwitch("database", start, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sw.Patch(strings.NewReader(`{"latency": "500ms"}`), 15*time.Second); err != nil {
			t.Fatal(err)
		}
		if got := sw.Current().Latency; got != ms(500) {
			t.Fatalf("leased latency: %v, want 500ms", got)
		}
		time.Sleep(10 * time.Second)
		if err := sw.Renew(15 * time.Second); err != nil {
			t.Fatal(err)
		}
		// A person adds a knob while the lease is held: theirs for good.
		if _, err := sw.Patch(strings.NewReader(`{"error_rate": 0.1}`), 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(14 * time.Second) // 24 s in: past the first lease, within the renewed one
		if got := *sw.Current(); got != (faults.Database{Latency: ms(500), ErrorRate: 0.1}) {
			t.Fatalf("within the renewed lease: %+v, want the leased latency and the person's error rate", got)
		}
		if l := sw.Lease(); !l.Leased || l.Base == nil || *l.Base != (faults.Database{Latency: ms(100), ErrorRate: 0.1}) {
			t.Errorf("lease status %+v, want held with the base of start-up and person", l)
		}
		time.Sleep(2 * time.Second) // the owner is gone: no renewal
		synctest.Wait()
		if got := *sw.Current(); got != (faults.Database{Latency: ms(100), ErrorRate: 0.1}) {
			t.Errorf("after the lease expired: %+v, want the base back (latency 100ms, error_rate 0.1)", got)
		}
		if l := sw.Lease(); l.Leased {
			t.Errorf("lease still held after it expired: %+v", l)
		}
		if err := sw.Renew(15 * time.Second); !errors.Is(err, faults.ErrNoLease) {
			t.Errorf("renewing an expired lease: %v, want ErrNoLease", err)
		}
	})
}

// Releasing a lease puts the base back at once; a second release finds none.
func TestReleaseRestoresTheBase(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sw, _ := faults.NewSwitch("backend", faults.Backend{CacheOff: true}, nil)
		if _, err := sw.Replace(strings.NewReader(`{"cpu_burn": "5ms"}`), time.Minute); err != nil {
			t.Fatal(err)
		}
		if got := *sw.Current(); got.CacheOff || got.CPUBurn != ms(5) {
			t.Fatalf("leased PUT: %+v, want cpu_burn alone", got)
		}
		released, now := sw.Release()
		if !released || now != (faults.Backend{CacheOff: true}) || *sw.Current() != now {
			t.Errorf("release: %v, %+v (current %+v), want the base: cache_off", released, now, *sw.Current())
		}
		if released, _ := sw.Release(); released {
			t.Error("a second release found a lease")
		}
		time.Sleep(2 * time.Minute) // the released lease's timer must not fire
		if got := *sw.Current(); got != (faults.Backend{CacheOff: true}) {
			t.Errorf("after the old lease's time: %+v", got)
		}
	})
}

// The admin API carries leases: a header on PUT/PATCH, renewal and release on
// /admin/faults/lease, with mistakes answered in the caller's terms.
func TestLeaseThroughTheAdminAPI(t *testing.T) {
	rec := telemetrytest.New(t, "database")
	sw, _ := faults.NewSwitch("database", faults.Database{Latency: ms(100)}, nil)
	mux := http.NewServeMux()
	sw.Routes(mux, rec.Telemetry, rec.NewAdminGuard("", true))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	admin := faults.NewAdminClient(srv.URL, "", nil)
	ctx := context.Background()

	if err := admin.Renew(ctx, time.Minute); !errors.Is(err, faults.ErrNoLease) {
		t.Errorf("renewing without a lease: %v, want ErrNoLease", err)
	}
	if err := admin.PatchLeased(ctx, map[string]any{"latency": "500ms"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if l := sw.Lease(); !l.Leased || l.Expires == nil || time.Until(*l.Expires) > time.Minute || sw.Current().Latency != ms(500) {
		t.Errorf("after a leased PATCH: %+v, latency %v", l, sw.Current().Latency)
	}
	if err := admin.Renew(ctx, 2*time.Minute); err != nil {
		t.Errorf("renewal: %v", err)
	}
	if l := sw.Lease(); l.Expires == nil || time.Until(*l.Expires) < time.Minute {
		t.Errorf("renewal for 2m left %+v", l)
	}
	for _, bad := range []string{"soon", "-1s", "11m"} {
		req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/admin/faults", strings.NewReader(`{"jitter": "1ms"}`))
		req.Header.Set(faults.LeaseHeader, bad)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("lease %q: %s, want 400", bad, resp.Status)
		}
	}
	released, err := admin.Release(ctx)
	if err != nil || !released || *sw.Current() != (faults.Database{Latency: ms(100)}) {
		t.Errorf("release: %v, %v, faults now %+v: want the start-up latency back", released, err, *sw.Current())
	}
	if released, err := admin.Release(ctx); err != nil || released {
		t.Errorf("second release: %v, %v, want nothing held", released, err)
	}
	if msg := rec.LogWithMsg(t, "Fault lease released: the base faults are back"); msg["faults"] != "latency=100ms" {
		t.Errorf("release logged as %v", msg)
	}
}
