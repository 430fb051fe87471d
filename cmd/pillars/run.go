package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

const usageText = `pillars: the three pillars of observability, one request at a time.

Usage:
  pillars all          run frontend, backend and database in one process (with built-in traffic)
  pillars frontend     run the frontend service (:8001), which calls the backend
  pillars backend      run the backend service (:8002, cache layer), which calls the database
  pillars database     run the database service (:8003, SQLite or PostgreSQL)
  pillars healthcheck  exit 0 when a service's /ready answers 200 (for container health checks)
  pillars verify       check a running deployment end to end through its backends' query APIs
  pillars trace <id>   print a trace as a waterfall, with its log lines and the exemplars naming it
  pillars scenario     put a running deployment through an incident: list, run, stop, status, reveal, check
  pillars drill        practise diagnosis: seeded unlabelled incidents, graded answers: start, status, answer, reveal, score, bench, export
  pillars mcp          serve the telemetry to agents over MCP (stdio, or streamable HTTP with --listen)
  pillars agent        run a reference agent on a drill episode: baseline or random
  pillars version      print the version

Run 'pillars <command> --help' for the flags of a command.
`

var summaries = map[string]string{
	"all":      "Runs frontend, backend and database in one process, each with its own listener, tracer provider,\nmetrics registry and logger, and the built-in traffic generator on by default.",
	"frontend": "Runs the frontend: GET /, /user/{id}, /product/{id}; calls the backend.",
	"backend":  "Runs the backend: GET /api/data, /api/user/{id}, /api/product/{id}, with a TTL+LRU cache; calls the database.",
	"database": "Runs the database service: GET /db/user/{id}, /db/product/{id}, /db/query?name=..., on SQLite.",
}

// run is the whole program, testable: arguments, environment and output are passed in, and
// cancelling ctx stops every service gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return usageError{errors.New("no command given")}
	}
	switch cmd := args[0]; cmd {
	case "all", "frontend", "backend", "database":
		err := runServices(ctx, cmd, args[1:], getenv, stdout, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], getenv, stderr)
	case "verify":
		return runVerify(ctx, args[1:], getenv, stdout, stderr)
	case "trace":
		return runTrace(ctx, args[1:], getenv, stdout, stderr)
	case "scenario":
		return runScenario(ctx, args[1:], getenv, stdout, stderr)
	case "drill":
		return runDrill(ctx, args[1:], getenv, stdout, stderr)
	case "mcp":
		return runMCP(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "agent":
		return runAgent(ctx, args[1:], getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "pillars", version())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return nil
	default:
		fmt.Fprint(stderr, usageText)
		return usageError{fmt.Errorf("unknown command %q", cmd)}
	}
}

func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	f := newFlags("healthcheck", "Exits 0 when the URL answers 200 within the timeout, 1 otherwise.", stderr)
	var url string
	var timeout time.Duration
	f.String(&url, "url", "http://127.0.0.1:8001/ready", "URL to check")
	f.Duration(&timeout, "timeout", 2*time.Second, "how long to wait for the answer")
	if err := f.parse(args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return usageError{err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
