package traffic

import (
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pillars-o11y/pillars/internal/faults"
)

func apply(t *testing.T, g *Generator, doc string, patch bool) Status {
	t.Helper()
	var onto *Settings
	if patch {
		s := g.Status().Settings
		onto = &s
	}
	c, err := DecodeChange(strings.NewReader(doc), onto)
	if err != nil {
		t.Fatal(err)
	}
	st, err := g.Apply(c)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// A change with a duration holds for that long, then the settings before it come back, and
// the generator sends at each rate in turn.
func TestTemporaryChangeReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeFrontend{}
		g := newGenerator(t, f, Config{Initial: Defaults(10)})
		stop := start(g)
		defer stop()
		time.Sleep(10 * time.Second)
		before := f.count()
		st := apply(t, g, `{"rate": 50, "duration": "10s"}`, true)
		if st.Until == nil || st.Then == nil || st.Then.Rate != 10 {
			t.Errorf("status during a temporary change %+v: want until and then (10/s)", st)
		}
		time.Sleep(10 * time.Second)
		during := f.count() - before
		time.Sleep(10 * time.Second)
		after := f.count() - before - during
		if before < 99 || before > 100 || during < 499 || during > 501 || after < 99 || after > 101 {
			t.Errorf("requests: %d in 10 s at 10/s, %d in 10 s at 50/s, %d in 10 s back at 10/s", before, during, after)
		}
		if st := g.Status(); st.Until != nil || st.Rate != 10 {
			t.Errorf("status after the change ended: %+v, want 10/s for good", st)
		}
	})
}

// A higher rate takes effect at once, not after the long interval of the rate before.
func TestRateChangeWakesTheGenerator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeFrontend{}
		g := newGenerator(t, f, Config{Initial: Defaults(0.01)}) // one request every 100 s
		stop := start(g)
		defer stop()
		time.Sleep(time.Second)
		apply(t, g, `{"rate": 100}`, true)
		time.Sleep(time.Second)
		if n := f.count(); n < 99 || n > 101 {
			t.Errorf("%d requests in the second after the rate went to 100/s", n)
		}
	})
}

// A ramp set without "from" starts at the rate in effect, and climbs from there.
func TestRampStartsFromTheCurrentRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeFrontend{}
		g := newGenerator(t, f, Config{Initial: Defaults(10)})
		st := apply(t, g, `{"shape": "ramp", "rate": 30, "period": "10s"}`, true)
		if st.From == nil || *st.From != 10 || st.TargetRate != 10 {
			t.Fatalf("ramp status %+v: want from 10 and a target of 10 now", st)
		}
		time.Sleep(5 * time.Second)
		if r := g.TargetRate(); r != 20 {
			t.Errorf("half way up the ramp: target %v, want 20", r)
		}
	})
}

// The mix can change at runtime; a paused generator sends nothing and resumes where it was.
func TestMixAndPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeFrontend{}
		g := newGenerator(t, f, Config{Initial: Defaults(20)})
		stop := start(g)
		defer stop()
		apply(t, g, `{"mix": {"home": 0, "user": 1, "product": 0, "bad": 0}}`, true)
		time.Sleep(5*time.Second + 25*time.Millisecond) // between two requests
		apply(t, g, `{"paused": true}`, true)
		synctest.Wait()
		paused := f.count()
		time.Sleep(5 * time.Second)
		if n := f.count(); n != paused {
			t.Errorf("%d requests while paused", n-paused)
		}
		if r := g.TargetRate(); r != 0 {
			t.Errorf("target rate %v while paused, want 0", r)
		}
		apply(t, g, `{"paused": false}`, true)
		time.Sleep(5 * time.Second)
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, p := range f.paths {
			if !strings.HasPrefix(p, "/user/") {
				t.Fatalf("request %s with a mix of user pages only", p)
			}
		}
		if len(f.paths) < 190 {
			t.Errorf("%d requests in 10 s of sending at 20/s", len(f.paths))
		}
	})
}

// What the generator sent is counted by outcome; the target rate is a gauge.
func TestOutcomeMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		f := &fakeFrontend{status: http.StatusServiceUnavailable}
		g := newGenerator(t, f, Config{Initial: Defaults(10), Registry: reg})
		stop := start(g)
		time.Sleep(10 * time.Second)
		f.mu.Lock()
		f.status = http.StatusNotFound
		f.mu.Unlock()
		time.Sleep(5 * time.Second)
		stop()
		got := gather(t, reg)
		if v := got[`pillars_traffic_requests_total{outcome="server_error"}`]; v < 99 || v > 100 {
			t.Errorf("server_error %v, want 100 (10 s of 503s at 10/s)", v)
		}
		if v := got[`pillars_traffic_requests_total{outcome="client_error"}`]; v < 49 || v > 51 {
			t.Errorf("client_error %v, want 50 (5 s of 404s)", v)
		}
		for _, o := range []string{"ok", "failed", "skipped"} {
			if v, ok := got[`pillars_traffic_requests_total{outcome="`+o+`"}`]; !ok || v != 0 {
				t.Errorf("outcome %s: %v (exported: %v), want 0 and exported", o, v, ok)
			}
		}
		if v := got["pillars_traffic_target_rate"]; v != 10 {
			t.Errorf("pillars_traffic_target_rate %v, want 10", v)
		}
	})
}

// gather reads every counter and gauge of reg as name{labels} → value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			if len(m.GetLabel()) > 0 {
				var ls []string
				for _, l := range m.GetLabel() {
					ls = append(ls, l.GetName()+`="`+l.GetValue()+`"`)
				}
				name += "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.Counter != nil:
				out[name] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[name] = m.Gauge.GetValue()
			}
		}
	}
	return out
}

// Without its own URL a frontend can keep its generator idle, and says why it refuses more.
func TestNoURLNoTraffic(t *testing.T) {
	g, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.Apply(Change{Settings: Settings{Rate: 1, Mix: DefaultMix, Shape: Steady}})
	if err == nil || !strings.Contains(err.Error(), "own URL") {
		t.Errorf("Apply(rate 1) without a URL: %v", err)
	}
	if _, err := g.Apply(Change{Settings: Defaults(0), Duration: faults.Duration(time.Minute)}); err != nil {
		t.Errorf("Apply(rate 0): %v", err)
	}
}
