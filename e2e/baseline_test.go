//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// baselineStack runs nothing but its built-in traffic, from its start to the end of the suite.
var baselineStack = stackOptions{name: "baseline", usedBy: "TestCleanBaseline", trafficRate: "5", adminToken: scenarioToken}

// baselineFor is how long the clean baseline must stay clean.
const baselineFor = 10 * time.Minute

// With no scenario on, ten minutes of built-in traffic (5 requests a second, bad ids
// included) raise no alert, neither a real one nor a time-scaled one, whose windows are 30
// times shorter and so cover those ten minutes many times over (the real alerts' windows cover
// little of a fresh Prometheus), and no service logs a line at error level. The test checks
// first that what it asks about exists: the traffic was answered, the time-scaled rules were
// evaluated, the services' lines arrived.
func TestCleanBaseline(t *testing.T) {
	t.Parallel()
	s := extraStacks[baselineStack.name].get(t)
	if wait := time.Until(s.ready.Add(baselineFor)); wait > 0 {
		t.Logf("waiting %s until the baseline stack has run %s", wait.Round(time.Second), baselineFor)
		timer := time.NewTimer(wait)
		<-timer.C
	}
	// The last scrape and evaluation of the ten minutes, the last lines pushed.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	over := fmt.Sprintf("[%ds]", int(time.Since(s.ready).Seconds())+5)

	for q, min := range map[string]float64{
		`sum(increase(pillars_traffic_requests_total{outcome="ok"}` + over + `))`:        0.8 * 5 * baselineFor.Seconds() * 0.95,
		`count(slo:sli_error:ratio_rate10s{timescale="30"})`:                             6,
		`count(job:pillars_request_error_ratio:rate5m_timescaled{timescale="30"})`:       3,
		`count(count_over_time(slo:sli_error:ratio_rate2m{timescale="30"}` + over + `))`: 6,
	} {
		v, err := s.prom.Sum(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if v < min {
			t.Errorf("%s = %v, want at least %v: the baseline would prove nothing", q, v, min)
		}
	}
	firing, err := s.prom.Query(ctx, `max_over_time(ALERTS{alertstate="firing"}`+over+`)`, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range firing {
		t.Errorf("alert fired during the clean baseline: %v", a.Metric)
	}
	alerts, err := s.prom.Alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if a.State == "firing" {
			t.Errorf("alert %s firing at the end of the clean baseline: %v", a.Name(), a.Labels)
		}
	}

	lines, err := s.logs.Query(ctx, `{service=~".+"}`, s.ready, time.Now(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) < 1000 {
		t.Errorf("%d log lines in %s of traffic: the baseline would prove nothing", len(lines), baselineFor)
	}
	errs, err := s.logs.Query(ctx, `{level="error"}`, s.ready.Add(-time.Minute), time.Now(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range errs {
		t.Errorf("error line during the clean baseline: %s %s (trace %s)", l.Time.Format(time.TimeOnly), l, l.TraceID())
	}
}
