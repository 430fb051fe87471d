package drill

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The benchmark runs the agent once per ready episode with the contract's environment, scores
// an episode it did not answer 0, reports void ones apart with their reason, and writes both
// reports. (No services here: an episode with an incident cannot apply its fault and is void.)
func TestBenchRunsAgentAndWritesReport(t *testing.T) {
	dir := t.TempDir()
	d, err := NewDesk(Config{StateDir: filepath.Join(dir, "state"), Timescale: 1e4, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	first := int64(1)
	for Generate(first).Incident() || !Generate(first+1).Incident() {
		first++ // a healthy episode, then one with an incident
	}
	envDir := filepath.Join(dir, "env")
	if err := os.Mkdir(envDir, 0o700); err != nil {
		t.Fatal(err)
	}
	rep, err := d.Bench(t.Context(), BenchConfig{
		Episodes: 2, Seed: first, MCPURL: "http://127.0.0.1:1/mcp", MCPToken: "tok", Budget: time.Minute,
		Agent:     []string{"sh", "-c", `env | grep '^PILLARS_' > "$ENV_DIR/$PILLARS_DRILL_EPISODE"`},
		Env:       []string{"ENV_DIR=" + envDir},
		ReportDir: filepath.Join(dir, "report"), Stdout: io.Discard, Stderr: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 || !rep.Results[0].Unanswered || rep.Results[0].Grade.Points != 0 || !rep.Results[1].Void {
		t.Fatalf("results: %+v", rep.Results)
	}
	env, err := os.ReadFile(filepath.Join(envDir, rep.Results[0].ID))
	if err != nil {
		t.Fatalf("the agent did not run for the ready episode: %v", err)
	}
	for _, want := range []string{"PILLARS_MCP_URL=http://127.0.0.1:1/mcp", "PILLARS_MCP_TOKEN=tok", "PILLARS_DRILL_BUDGET=1m0s", "PILLARS_DRILL_EPISODE=" + rep.Results[0].ID} {
		if !strings.Contains(string(env), want) {
			t.Errorf("agent environment lacks %s:\n%s", want, env)
		}
	}
	if _, err := os.Stat(filepath.Join(envDir, rep.Results[1].ID)); err == nil {
		t.Error("the agent ran for a void episode")
	}
	md, err := os.ReadFile(filepath.Join(dir, "report", "report.md"))
	if err != nil || !strings.Contains(string(md), "Void episodes") || !strings.Contains(string(md), "could not be applied") {
		t.Errorf("report.md: %v\n%s", err, md)
	}
	var back BenchReport
	data, err := os.ReadFile(filepath.Join(dir, "report", "report.json"))
	if err != nil || json.Unmarshal(data, &back) != nil || back.Scoreboard.Overall.Episodes != 1 || len(back.Scoreboard.Void) != 1 {
		t.Errorf("report.json: %v %s", err, data)
	}
}
