package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// BenchConfig is a benchmark run: Episodes episodes, seeds Seed, Seed+1, ..., each diagnosed
// by the agent command.
type BenchConfig struct {
	Episodes int
	Seed     int64
	// Agent is the command and its arguments, run once per episode once it is ready, with the
	// environment of the contract: PILLARS_MCP_URL, PILLARS_MCP_TOKEN, PILLARS_DRILL_BUDGET,
	// PILLARS_DRILL_EPISODE (and Env). It answers through the MCP drill tools and exits 0.
	Agent    []string
	Env      []string
	MCPURL   string
	MCPToken string
	// Budget bounds each agent run (default 3m): past it the agent is stopped and the
	// episode, unanswered, scores 0.
	Budget time.Duration
	// ReportDir receives report.md and report.json.
	ReportDir      string
	Stdout, Stderr io.Writer
}

// BenchReport is report.json: the run's parameters, every result and the scoreboard.
type BenchReport struct {
	Seed       int64      `json:"seed"`
	Episodes   int        `json:"episodes"`
	Agent      []string   `json:"agent"`
	Results    []Result   `json:"results"`
	Scoreboard Scoreboard `json:"scoreboard"`
}

// Bench runs the episodes one after another: start, wait until ready (or void), run the agent,
// grade what it answered (nothing: 0 points), and writes the report.
func (d *Desk) Bench(ctx context.Context, cfg BenchConfig) (BenchReport, error) {
	if cfg.Budget <= 0 {
		cfg.Budget = 3 * time.Minute
	}
	if len(cfg.Agent) == 0 {
		return BenchReport{}, errors.New("bench: no agent command")
	}
	rep := BenchReport{Seed: cfg.Seed, Episodes: cfg.Episodes, Agent: cfg.Agent}
	for i := range cfg.Episodes {
		if ctx.Err() != nil {
			break
		}
		res, err := d.benchEpisode(ctx, cfg, cfg.Seed+int64(i))
		if err != nil {
			return rep, err
		}
		fmt.Fprintf(cfg.Stdout, "episode %d/%d (seed %d): %s\n", i+1, cfg.Episodes, res.Seed, outcomeOf(res))
		rep.Results = append(rep.Results, res)
	}
	rep.Scoreboard = Tally(rep.Results)
	return rep, writeReport(cfg.ReportDir, rep)
}

func outcomeOf(r Result) string {
	switch {
	case r.Void:
		return "void: " + r.VoidReason
	case r.Grade == nil:
		return "not graded"
	case r.Unanswered:
		return "unanswered: 0 points"
	}
	return fmt.Sprintf("%d/%d points", r.Grade.Points, MaxPoints)
}

func (d *Desk) benchEpisode(ctx context.Context, cfg BenchConfig, seed int64) (Result, error) {
	st, err := d.Start(ctx, seed)
	if err != nil {
		return Result{}, err
	}
	defer d.Wait()
	for !st.Ready && st.State == StateStarting {
		if !sleep(ctx, d.cfg.Poll) {
			_, _ = d.Stop(context.WithoutCancel(ctx))
			return Result{}, ctx.Err()
		}
		if st, err = d.Status(ctx); err != nil {
			return Result{}, err
		}
	}
	if st.State == StateReady {
		d.runAgent(ctx, cfg, st.ID)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	rec, err := d.store.load()
	if err != nil {
		return Result{}, err
	}
	if rec.active() { // the agent answered nothing
		res := resultOf(rec)
		res.Grade, res.Unanswered = &Grade{Miss: rec.Episode.Incident(), FalseAlarm: false}, true
		rec.State, rec.Result = StateAnswered, &res
		if err := errors.Join(d.store.appendResult(res), d.store.save(rec)); err != nil {
			return Result{}, err
		}
	}
	if rec.Result == nil {
		return Result{}, fmt.Errorf("episode %s ended without a result (%s)", rec.ID, rec.State)
	}
	return *rec.Result, nil
}

func (d *Desk) runAgent(ctx context.Context, cfg BenchConfig, id string) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Budget)
	defer cancel()
	cmd := exec.CommandContext(ctx, cfg.Agent[0], cfg.Agent[1:]...)
	cmd.Env = append(append(os.Environ(), cfg.Env...),
		"PILLARS_MCP_URL="+cfg.MCPURL,
		"PILLARS_MCP_TOKEN="+cfg.MCPToken,
		"PILLARS_DRILL_BUDGET="+cfg.Budget.String(),
		"PILLARS_DRILL_EPISODE="+id)
	cmd.Stdout, cmd.Stderr = cfg.Stderr, cfg.Stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(cfg.Stderr, "agent for episode %s: %v\n", id, err)
	}
}

// writeReport writes report.md and report.json into dir (created 0700).
func writeReport(dir string, rep BenchReport) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	md := rep.Scoreboard.Markdown("Drill benchmark: " + strconv.Itoa(rep.Episodes) + " episodes from seed " + strconv.FormatInt(rep.Seed, 10))
	return errors.Join(
		os.WriteFile(filepath.Join(dir, "report.json"), append(data, '\n'), 0o600),
		os.WriteFile(filepath.Join(dir, "report.md"), []byte(md), 0o600))
}
