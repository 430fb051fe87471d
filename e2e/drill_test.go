//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/drill"
	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/scenarios"
)

// drillStack runs the drill episodes: faults belong to the whole stack, so it is its own,
// with traffic from the start (the symptoms are rates) and the admin token drill mode needs.
var drillStack = stackOptions{name: "drill", usedBy: "TestDrills", trafficRate: "6", adminToken: scenarioToken, slowQueryThreshold: "400ms"}

// drillSeeds is the fixed seed set: for every family the first seed that draws it, one
// episode with a distractor and one with no incident.
func drillSeeds(t *testing.T) []int64 {
	t.Helper()
	var seeds []int64
	want := drill.FamilyNames()
	var distractor, none bool
	for seed := int64(1); seed < 2000 && (len(want) > 0 || !distractor || !none); seed++ {
		ep := drill.Generate(seed)
		switch {
		case !ep.Incident() && !none:
			none = true
			seeds = append(seeds, seed)
		case ep.Incident() && len(ep.Distractors) > 0 && !distractor && slices.Contains(want, ep.Family):
			distractor = true
			want = slices.DeleteFunc(want, func(f string) bool { return f == ep.Family })
			seeds = append(seeds, seed)
		case ep.Incident() && len(ep.Distractors) == 0 && slices.Contains(want, ep.Family):
			want = slices.DeleteFunc(want, func(f string) bool { return f == ep.Family })
			seeds = append(seeds, seed)
		}
	}
	if len(want) > 0 || !distractor || !none {
		t.Fatalf("no seed below 2000 for %v (distractor %v, none %v)", want, distractor, none)
	}
	return seeds
}

// Drills end to end on the real backends: every episode of the seed set manifests in
// Prometheus (or is void, with the reason), the perfect diagnosis (its key) scores 3 and a
// wrong one less, and while an episode runs Prometheus holds no series that names a fault.
// The episodes' timing runs 30 times faster; the symptoms take their real time (rate
// windows of a minute), so each episode takes one to two minutes.
func TestDrills(t *testing.T) {
	t.Parallel()
	s := extraStacks[drillStack.name].get(t)
	client := faults.NewAdminClient
	desk, err := drill.NewDesk(drill.Config{
		StateDir: t.TempDir(),
		Admin: map[string]*faults.AdminClient{
			drill.Frontend: client("http://"+s.frontend, s.opts.adminToken, nil),
			drill.Backend:  client("http://"+s.backend, s.opts.adminToken, nil),
			drill.Database: client("http://"+s.database, s.opts.adminToken, nil),
		},
		Stores:         scenarios.Stores{Prometheus: s.prom, Traces: s.traces, Logs: s.logs},
		Timescale:      timescaleBy,
		ManifestWithin: 3 * time.Minute,
		Poll:           2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	var void []string
	for _, seed := range drillSeeds(t) {
		ep := drill.Generate(seed)
		ctx := context.Background()
		begin := time.Now()
		if _, err := desk.Start(ctx, seed); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		var st drill.Status
		// Past its manifestation window the desk voids the episode: ready or void by then.
		eventually(t, 5*time.Minute, "the episode ready or void", func() error {
			if st, err = desk.Status(ctx); err == nil && st.State == drill.StateStarting {
				err = errors.New("still starting")
			}
			return err
		})
		if st.State == drill.StateVoid {
			if st.VoidReason == "" {
				t.Errorf("seed %d (%s): void without a reason", seed, ep.Family)
			}
			void = append(void, ep.Family+": "+st.VoidReason)
			desk.Wait()
			continue
		}
		labels, err := s.prom.Query(ctx, `{__name__=~"pillars_faults_active|pillars_scenario_active"}`, time.Time{})
		if err != nil || len(labels) > 0 {
			t.Errorf("seed %d: while the drill runs, Prometheus holds %d series naming faults or scenarios (%v)", seed, len(labels), err)
		}
		key := ep.Key
		doc, _ := json.Marshal(drill.Diagnosis{Service: key.Service, Kind: key.Kind, Component: key.Component})
		res, err := desk.Answer(ctx, strings.NewReader(string(doc)))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if !res.Grade.Exact || res.Reveal.Key.Service != key.Service {
			t.Errorf("seed %d (%s): the key as answer scored %+v", seed, ep.Family, res.Grade)
		}
		desk.Wait()
		t.Logf("seed %d: %s manifested and graded in %s", seed, ep.Describe(), time.Since(begin).Round(time.Second))
	}
	for _, v := range void {
		t.Logf("void: %s", v)
	}
	sb, err := desk.Score(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", sb.Markdown("Drills of the e2e seed set (the key as answer)"))
	if sb.Overall.Episodes == 0 {
		t.Error("every episode was void: nothing manifested")
	}
}
