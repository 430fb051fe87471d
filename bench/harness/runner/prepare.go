package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/pillars-o11y/pillars/bench/harness/results"
	"github.com/pillars-o11y/pillars/bench/harness/stack"
)

// BuildPillars builds the service binary from the repository at repo into dir.
func BuildPillars(ctx context.Context, repo, dir string) (string, error) {
	bin := filepath.Join(dir, "pillars")
	// The version says which commit was measured, as `make build` stamps it.
	version := "dev"
	describe := exec.CommandContext(ctx, "git", "describe", "--tags", "--always", "--dirty")
	describe.Dir = repo
	if out, err := describe.Output(); err == nil {
		version = strings.TrimSpace(string(out))
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-ldflags", "-X main.buildVersion="+version, "-o", bin, "./cmd/pillars")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/pillars: %w\n%s", err, out)
	}
	return bin, nil
}

// MetricsSwitch reports whether the services can turn their metrics off: their --help lists
// the variable.
func MetricsSwitch(ctx context.Context, pillars string) bool {
	out, _ := exec.CommandContext(ctx, pillars, "frontend", "--help").CombinedOutput()
	return bytes.Contains(out, []byte("PILLARS_METRICS)"))
}

// captureBodies starts the services once, which also seeds the database file, and keeps
// their answers for the relay's last hop, so that the relay carries the same bytes.
func (r *Runner) captureBodies(ctx context.Context) (map[string][]byte, error) {
	st, err := stack.Start(ctx, r.stackOpts, stack.Config{Name: Off}, stack.Cached)
	if err != nil {
		return nil, err
	}
	defer st.Stop()
	bodies := map[string][]byte{}
	for prefix, path := range map[string]string{"/user/": "/user/1", "/product/": "/product/1", "/": "/"} {
		body, err := fetch(ctx, st.URL+path)
		if err != nil {
			return nil, err
		}
		bodies[prefix] = body
	}
	return bodies, nil
}

func fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return body, nil
}

// machine describes this machine.
func machine(ctx context.Context, pillars string) results.Machine {
	m := results.Machine{CPUs: runtime.NumCPU(), LoadBefore: loadavg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				m.MemoryTotalKB, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	if out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	if out, err := exec.CommandContext(ctx, pillars, "version").Output(); err == nil {
		m.PillarsVersion = strings.TrimSpace(strings.TrimPrefix(string(out), "pillars "))
	}
	return m
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
