package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"time"

	"github.com/pillars-o11y/pillars/internal/mcp"
)

// Config is what the benchmark gives an agent (PILLARS_MCP_URL, PILLARS_MCP_TOKEN,
// PILLARS_DRILL_BUDGET, PILLARS_DRILL_EPISODE) and which agent to run.
type Config struct {
	Agent   string // "baseline" or "random"
	URL     string // the streamable-HTTP MCP endpoint
	Token   string // bearer token, when the endpoint wants one
	Budget  time.Duration
	Episode string
	// Seed seeds the random agent; 0 derives it from the episode, so that one episode always
	// gets the same guess.
	Seed uint64
	// BaselineAge is how long ago the baseline's "before" window is ("15m").
	BaselineAge string
	Log         io.Writer
}

// Run connects to the MCP server, diagnoses the episode and submits the diagnosis through the
// drill_answer tool, within the budget. It returns the grade the tool answered.
func Run(ctx context.Context, cfg Config) (string, error) {
	if cfg.URL == "" {
		return "", errors.New("no MCP endpoint: set PILLARS_MCP_URL (or --mcp-url)")
	}
	if cfg.Budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Budget)
		defer cancel()
	}
	cs, err := mcp.Dial(ctx, cfg.URL, cfg.Token, &http.Client{Timeout: 30 * time.Second})
	if err != nil {
		return "", fmt.Errorf("connecting to %s: %w", cfg.URL, err)
	}
	defer cs.Close()
	dctx, cancel := diagnosisContext(ctx, cfg.Budget)
	defer cancel()
	d, err := diagnose(dctx, cs, cfg)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		// Out of time to look: an answer still counts, no answer does not.
		d, err = NoIncident, nil
		d.Notes = "ran out of the budget before a rule could be checked"
	}
	if err != nil {
		return "", err
	}
	fmt.Fprintf(cfg.Log, "episode %s: %s diagnoses %s/%s/%s (%s)\n", cfg.Episode, cfg.Agent, d.Service, d.Kind, d.Component, d.Notes)
	return Submit(ctx, cs, d)
}

func diagnose(ctx context.Context, t Tools, cfg Config) (Diagnosis, error) {
	switch cfg.Agent {
	case "random":
		seed := cfg.Seed
		if seed == 0 {
			h := fnv.New64a()
			h.Write([]byte(cfg.Episode))
			seed = h.Sum64()
		}
		return Random(seed), nil
	case "baseline":
		return Baseline(ctx, t, cfg.BaselineAge, cfg.Log)
	}
	return Diagnosis{}, fmt.Errorf("unknown agent %q: want baseline or random", cfg.Agent)
}

// Baseline reads the observations and applies the rules.
func Baseline(ctx context.Context, t Tools, baselineAge string, log io.Writer) (Diagnosis, error) {
	if baselineAge == "" {
		baselineAge = "15m"
	}
	o, err := Observe(ctx, t, baselineAge)
	if err != nil {
		return Diagnosis{}, err
	}
	if log != nil {
		fmt.Fprintln(log, o)
	}
	return Diagnose(o), nil
}

// Submit answers the current episode through the drill_answer tool.
func Submit(ctx context.Context, t Tools, d Diagnosis) (string, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	var args map[string]any
	if err := json.Unmarshal(b, &args); err != nil {
		return "", err
	}
	return call(ctx, t, "drill_answer", args)
}

// diagnosisContext leaves a fifth of the budget for submitting the answer.
func diagnosisContext(ctx context.Context, budget time.Duration) (context.Context, context.CancelFunc) {
	if budget <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, budget*4/5)
}
