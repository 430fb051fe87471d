package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/pillars-o11y/pillars/internal/agent"
)

const agentSummary = `Runs a reference agent on the current drill episode, through the MCP server's tools only, and
submits its diagnosis with the drill_answer tool. 'baseline' is a deterministic rule-based
diagnoser over the RED metrics (a floor); 'random' picks uniformly from the vocabulary (chance).
'pillars drill bench --agent "pillars agent baseline"' sets the environment below.`

func runAgent(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "baseline" && args[0] != "random") {
		fmt.Fprintf(stderr, "Usage: pillars agent baseline|random [flags]\n\n%s\n", agentSummary)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return nil
		}
		return usageError{errors.New("agent: give baseline or random")}
	}
	cfg := agent.Config{Agent: args[0], Log: stderr}
	var seed int
	f := newFlags("agent "+args[0], agentSummary, stderr)
	f.fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pillars agent %s [flags]\n\n%s\n\nFlags (each also read from the environment variable shown):\n", args[0], agentSummary)
		f.fs.PrintDefaults()
	}
	f.String(&cfg.URL, "mcp-url", "", "the MCP server's streamable-HTTP endpoint, e.g. http://127.0.0.1:8765/mcp")
	f.String(&cfg.Token, "mcp-token", "", "bearer token for the endpoint")
	f.Duration(&cfg.Budget, "drill-budget", 3*time.Minute, "time allowed to diagnose and answer")
	f.String(&cfg.Episode, "drill-episode", "", "the episode's id")
	f.Int(&seed, "agent-seed", 0, "seed of the random agent (0: derived from the episode id)")
	f.String(&cfg.BaselineAge, "baseline-age", "15m", "how long ago the baseline agent's 'before' window is")
	if err := f.parse(args[1:], getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	cfg.Seed = uint64(seed)
	grade, err := agent.Run(ctx, cfg)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, grade)
	return err
}
