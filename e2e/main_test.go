//go:build e2e

// Package e2e proves every signal end to end: it starts real backends (Prometheus, VictoriaLogs
// through the Loki push API, Jaeger v2 over OTLP) and the three pillars services as separate
// processes, sends requests whose trace ids it knows, and asserts only through the backends'
// own query APIs. Run it with `make e2e` (go test -tags e2e ./e2e/...); the backends come from
// `make tools`.
//
// Most tests share one stack (stk). The scenario tests and the clean baseline need stacks of
// their own, since a scenario's faults belong to the whole stack it runs on: those start in
// the background at once, so that they are warm (and the baseline's ten minutes are under
// way) by the time the shared stack's tests are done. They run the services built without the
// race detector: it makes SQLite's pure-Go code many times slower, and four stacks of it on
// two cores time out the home page's aggregate queries, which no clean baseline survives. The
// shared stack, whose tests look for data races in the services' output, keeps the race build.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// stk is the running stack every test talks to; TestMain builds it once.
var stk *stack

// extraStacks are started by TestMain in the background, by name; tests wait for them.
var extraStacks = map[string]*laterStack{}

// scenarioToken guards the admin APIs of the extra stacks: their scenarios go through it.
const scenarioToken = "e2e-admin-token"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse() // -run decides which stacks start
	start := time.Now()
	repo, err := repoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	binDir, err := os.MkdirTemp("", "pillars-e2e-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(binDir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := buildPillars(ctx, repo, binDir, raceEnabled)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	plain := bin
	if raceEnabled && (runs(scenarioStackA.usedBy) || runs(baselineStack.usedBy) || runs(drillStack.usedBy)) {
		if plain, err = buildPillars(ctx, repo, binDir, false); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
			return 1
		}
	}
	s, err := newStack(mainStack, bin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer s.close()
	stk = s
	for _, opts := range []stackOptions{scenarioStackA, scenarioStackB, scenarioStackC, baselineStack, drillStack} {
		if !runs(opts.usedBy) {
			continue // go test -run without the tests that need it: save the machine five processes
		}
		ls := &laterStack{opts: opts, done: make(chan struct{})}
		extraStacks[opts.name] = ls
		go ls.start(ctx, plain)
	}
	defer func() {
		for _, ls := range extraStacks {
			ls.close()
		}
	}()
	if err := s.start(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: starting the stack: %v\n", err)
		s.dumpLogs(os.Stderr)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: stack up in %s (logs in %s)\n", time.Since(start).Round(100*time.Millisecond), s.logDir)
	code := m.Run()
	all := []*stack{s}
	for _, ls := range extraStacks {
		<-ls.done
		if ls.s != nil {
			all = append(all, ls.s)
		}
	}
	for _, st := range all {
		if err := st.stopAll(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %s stack: %v\n", st.opts.name, err)
			code = 1
		}
		if races := st.dataRaces(); len(races) > 0 {
			fmt.Fprintf(os.Stderr, "e2e: the race detector fired in %v of the %s stack\n", races, st.opts.name)
			code = 1
		}
	}
	if code != 0 {
		for _, st := range all {
			st.dumpLogs(os.Stderr)
		}
	}
	return code
}

// runs reports whether go test's -run pattern selects the top-level test name.
func runs(name string) bool {
	f := flag.Lookup("test.run")
	if f == nil || f.Value.String() == "" {
		return true
	}
	top, _, _ := strings.Cut(f.Value.String(), "/")
	re, err := regexp.Compile(top)
	return err != nil || re.MatchString(name)
}

// laterStack is a stack starting in the background.
type laterStack struct {
	opts stackOptions
	once sync.Once
	done chan struct{} // closed once started, or failed to
	s    *stack
	err  error
}

func (l *laterStack) start(ctx context.Context, bin string) {
	defer close(l.done)
	s, err := newStack(l.opts, bin)
	if err == nil {
		l.s = s
		err = s.start(ctx)
	}
	if err != nil {
		l.err = fmt.Errorf("starting the %s stack: %w", l.opts.name, err)
	}
}

// get waits for the stack and fails the test when it did not start.
func (l *laterStack) get(t testing.TB) *stack {
	t.Helper()
	<-l.done
	if l.err != nil {
		if l.s != nil {
			l.once.Do(func() { l.s.dumpLogs(os.Stderr) })
		}
		t.Fatal(l.err)
	}
	return l.s
}

func (l *laterStack) close() {
	<-l.done
	if l.s != nil {
		l.s.close()
	}
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
