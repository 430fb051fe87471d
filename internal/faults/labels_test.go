package faults

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// With labels off, pillars_faults_active is absent (not zero: a zero series names the knob),
// and errors keep their identity while their text no longer says "on purpose".
func TestLabelsOff(t *testing.T) {
	reg := prometheus.NewRegistry()
	sw, err := NewSwitch("backend", Backend{CPUBurn: Duration(1e6)}, nil, WithRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := testutil.GatherAndCount(reg, "pillars_faults_active"); n == 0 {
		t.Fatal("labelled: pillars_faults_active not exported")
	}
	cause := errors.New("failed on purpose (fault injection)")
	if got := sw.Unlabel(cause, "neutral"); got != cause {
		t.Errorf("labelled: Unlabel changed the error to %v", got)
	}
	sw.Labels().Set(false)
	if n, _ := testutil.GatherAndCount(reg, "pillars_faults_active"); n != 0 {
		t.Errorf("drill mode: %d pillars_faults_active series exported", n)
	}
	masked := sw.Unlabel(cause, "neutral")
	if !errors.Is(masked, cause) || strings.Contains(masked.Error(), "purpose") || !Unlabelled(masked) {
		t.Errorf("drill mode: Unlabel gave %q (is the cause: %v)", masked, errors.Is(masked, cause))
	}
	other := prometheus.NewGauge(prometheus.GaugeOpts{Name: "pillars_scenario_active"})
	if err := LabelledRegisterer(reg, sw.Labels()).Register(other); err != nil {
		t.Fatal(err)
	}
	if n, _ := testutil.GatherAndCount(reg, "pillars_scenario_active"); n != 0 {
		t.Errorf("drill mode: a collector registered through LabelledRegisterer exported %d series", n)
	}
	sw.Labels().Set(true)
	if n, _ := testutil.GatherAndCount(reg, "pillars_scenario_active", "pillars_faults_active"); n == 0 {
		t.Error("labels back on: the series did not come back")
	}
}
