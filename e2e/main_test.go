//go:build e2e

// Package e2e proves every signal end to end: it starts real backends (Prometheus, VictoriaLogs
// through the Loki push API, Jaeger v2 over OTLP) and the three pillars services as separate
// processes, sends requests whose trace ids it knows, and asserts only through the backends'
// own query APIs. Run it with `make e2e` (go test -tags e2e ./e2e/...); the backends come from
// `make tools`.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// stk is the running stack every test talks to; TestMain builds it once.
var stk *stack

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	start := time.Now()
	s, err := newStack()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer s.close()
	stk = s
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := s.start(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: starting the stack: %v\n", err)
		s.dumpLogs(os.Stderr)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: stack up in %s (logs in %s)\n", time.Since(start).Round(100*time.Millisecond), s.logDir)
	code := m.Run()
	if err := s.stopAll(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		code = 1
	}
	if races := s.dataRaces(); len(races) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: the race detector fired in %v\n", races)
		code = 1
	}
	if code != 0 {
		s.dumpLogs(os.Stderr)
	}
	return code
}

// repoRoot is the repository this package lives in: go test runs in the package directory.
func repoRoot() (string, error) {
	dir, err := filepath.Abs("..")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return "", fmt.Errorf("repository root not found above the e2e package: %w", err)
	}
	return dir, nil
}
