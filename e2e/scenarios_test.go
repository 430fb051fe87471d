//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/scenarios"
	library "github.com/pillars-o11y/pillars/scenarios"
)

// The stacks the scenarios run on: the backend's own cache TTL (a stampede needs a warm cache
// to lose), built-in traffic from the start (the alerts that compare with the past need a
// past), and an admin token that the frontend's runner has to send to the other services.
var (
	scenarioStackA = stackOptions{name: "scenarios-a", usedBy: "TestScenarios", trafficRate: "6", adminToken: scenarioToken}
	scenarioStackB = stackOptions{name: "scenarios-b", usedBy: "TestScenarios", trafficRate: "6", adminToken: scenarioToken, slowQueryThreshold: "400ms"}
	scenarioStackC = stackOptions{name: "scenarios-c", usedBy: "TestScenarios", trafficRate: "6", adminToken: scenarioToken, slowQueryThreshold: "400ms"}
)

// scenarioGroups share out the library: a scenario's faults belong to the whole stack, so the
// scenarios of one group run one after the other, and the groups side by side.
var scenarioGroups = []struct {
	name  string
	stack func(testing.TB) *stack
	names []string
}{
	{"errors", func(t testing.TB) *stack { return extraStacks[scenarioStackA.name].get(t) }, []string{"failing-database", "dependency-down", "bad-deploy"}},
	{"load", func(t testing.TB) *stack { return extraStacks[scenarioStackB.name].get(t) }, []string{"slow-database", "cache-stampede", "memory-leak"}},
	{"locks", func(t testing.TB) *stack { return extraStacks[scenarioStackC.name].get(t) }, []string{"lock-contention", "retry-storm", "missing-index"}},
}

// Every scenario of the library, end to end against real Prometheus, Jaeger and VictoriaLogs:
// a clean baseline (none of its signature's items is seen), the scenario started through the
// frontend's admin API at 30 times its speed (the alerts are the time-scaled rules', labelled
// timescale="30"), every item of its signature seen in its store before the scenario ends,
// the scenario stopped, and every item gone again. failing-database's signature holds the
// fast-burn page of the user journey's availability SLO: it fires during the scenario and
// resolves after it.
func TestScenarios(t *testing.T) {
	t.Parallel() // on stacks of its own: beside the clean baseline, after the shared stack's tests
	lib, err := scenarios.Load(library.Files())
	if err != nil {
		t.Fatal(err)
	}
	var grouped []string
	for _, g := range scenarioGroups {
		grouped = append(grouped, g.names...)
	}
	for _, name := range lib.Names() {
		if !slices.Contains(grouped, name) {
			t.Errorf("scenario %s is in no group of TestScenarios: add it to one", name)
		}
	}
	failing, err := lib.Get("failing-database")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(failing.Signature.Alerts, func(a scenarios.AlertItem) bool {
		return a.Alert == "PillarsAvailabilityBudgetBurn" && a.Labels["sloth_severity"] == "page"
	}) {
		t.Error("failing-database's signature lost the fast-burn availability page this suite must see fire and resolve")
	}
	for _, g := range scenarioGroups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			s := g.stack(t)
			quiet := time.Now()
			for _, name := range g.names {
				sc, err := lib.Get(name)
				if err != nil {
					t.Fatal(err)
				}
				ok := t.Run(name, func(t *testing.T) { quiet = scenarioEndToEnd(t, s, sc, quiet) })
				if !ok {
					quiet = time.Now()
				}
			}
		})
	}
}

// scenarioEndToEnd runs one scenario on s and returns when its signals are back to baseline.
func scenarioEndToEnd(t *testing.T, s *stack, sc *scenarios.Scenario, quietSince time.Time) time.Time {
	begin := time.Now()
	stores := scenarios.Stores{Prometheus: s.prom, Traces: s.traces, Logs: s.logs}
	waitSignature(t, stores, sc, "a clean baseline", quietSince, 2*time.Minute, false)
	t.Logf("baseline clean after %s", time.Since(begin).Round(time.Second))

	started := time.Now()
	var st scenarios.Status
	s.admin(t, http.MethodPut, "/admin/scenario", scenarios.StartRequest{Name: sc.Name, Timescale: timescaleBy}, &st)
	if !st.Active || st.Scenario != sc.Name {
		t.Fatalf("started %s: status %+v", sc.Name, st)
	}
	running := true
	t.Cleanup(func() {
		if running {
			s.admin(t, http.MethodDelete, "/admin/scenario", nil, nil)
		}
	})
	// Every item must show while the scenario runs; spans and lines exported a moment
	// after its end still count.
	runFor := st.Ends.Sub(started)
	waitSignature(t, stores, sc, "the scenario's signature", started, runFor+15*time.Second, true)
	t.Logf("every item seen %s after the start (the scenario runs %s)", time.Since(started).Round(time.Second), runFor.Round(time.Second))
	s.scenarioCheckCommand(t, sc)

	stopped := time.Now()
	s.admin(t, http.MethodDelete, "/admin/scenario", nil, &st)
	running = false
	if st.Active {
		t.Fatalf("after DELETE /admin/scenario: %+v", st)
	}
	// What requests in flight at the stop still log or trace is not the baseline's concern.
	waitSignature(t, stores, sc, "signals back to baseline", stopped.Add(5*time.Second), 4*time.Minute, false)
	t.Logf("back to baseline %s after the stop", time.Since(stopped).Round(time.Second))
	return time.Now()
}

// waitSignature polls the signature's items until every one has been seen (all), or none is
// seen in a window of at least 15 s since since (!all), failing at the deadline with what
// each item's store answered.
func waitSignature(t *testing.T, stores scenarios.Stores, sc *scenarios.Scenario, what string, since time.Time, timeout time.Duration, all bool) {
	t.Helper()
	const window = 15 * time.Second
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	seen := map[int]bool{}
	var last []scenarios.Result
	for {
		ready := all || time.Since(since) >= window
		if ready {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			last = scenarios.Check(ctx, sc.Signature, stores, scenarios.CheckOptions{Since: since, Timescale: timescale})
			cancel()
			clean := true
			for i, r := range last {
				if r.Observed && all && !seen[i] {
					seen[i] = true
					t.Logf("  +%s seen: %s", time.Since(since).Round(time.Second), r)
				}
				if r.Observed || r.Error != "" {
					clean = false
				}
			}
			if all && len(seen) == len(last) || !all && clean {
				return
			}
		}
		if time.Now().After(deadline) {
			var lines []string
			for i, r := range last {
				if all && !seen[i] || !all && (r.Observed || r.Error != "") {
					lines = append(lines, r.String()+"\n      query: "+strings.Join(strings.Fields(r.Query), " "))
				}
			}
			t.Fatalf("%s: %s not reached within %s:\n    %s", sc.Name, what, timeout, strings.Join(lines, "\n    "))
		}
		<-tick.C
	}
}

// scenarioCheckCommand runs `pillars scenario check` against the stack while the scenario
// runs: the command a person uses sees the same signature, through the same code.
func (s *stack) scenarioCheckCommand(t *testing.T, sc *scenarios.Scenario) {
	t.Helper()
	cmd := exec.Command(s.pillars, "scenario", "check", sc.Name, "--timescale", timescale, "--timeout", "30s",
		"--frontend-url", "http://"+s.frontend, "--admin-token", s.opts.adminToken,
		"--prometheus-url", "http://"+s.prometheus, "--traces-url", "http://"+s.jaegerQuery, "--logs-url", "http://"+s.victoriaLogs)
	cmd.Env = cleanEnv()
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Errorf("pillars scenario check %s: %v\n%s%s", sc.Name, err, out, stderr)
		return
	}
	if n := strings.Count(string(out), "\nPASS  "); n != sc.Signature.Items() {
		t.Errorf("pillars scenario check %s passed %d items, the signature has %d:\n%s", sc.Name, n, sc.Signature.Items(), out)
	}
}

// admin calls one of the frontend's admin endpoints with the stack's token.
func (s *stack) admin(t testing.TB, method, path string, body, out any) {
	t.Helper()
	c := faults.NewAdminClient("http://"+s.frontend, s.opts.adminToken, client)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Do(ctx, method, path, body, out); err != nil {
		t.Fatal(fmt.Errorf("the %s stack: %w", s.opts.name, err))
	}
}
