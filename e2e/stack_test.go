//go:build e2e

package e2e

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// Settings that make the fault tests quick: logs are pushed every 200ms and a batch is given up
// after one retry, so a stopped log store shows up as dropped entries within a second or two.
const (
	environment   = "e2e"
	lokiBatchWait = "200ms"
	lokiRetries   = "1"
	// cacheTTL is the backend's: short, so that a request can find the cache empty again soon
	// (the home page's data has one cache entry that every GET / shares).
	cacheTTL = "2s"
	// scrapeInterval replaces the 5s of deploy/local/prometheus.yml so that metrics move fast.
	scrapeInterval = "1s"
	// lokiPushPath is VictoriaLogs' Loki push endpoint as scripts/up.sh uses it: the fields parsed
	// from the JSON line get a "line." prefix, apart from the labels and structured metadata.
	lokiPushPath = "/insert/loki/api/v1/push?_msg_field=line.msg&message_fields_prefix=line."
)

// stackOptions say how one stack differs from another.
type stackOptions struct {
	name string // for messages and the temporary directory
	// usedBy is the top-level test that runs on the stack, for one started in the background.
	usedBy string
	// cacheTTL is the backend's (its default when empty).
	cacheTTL string
	// trafficRate is the frontend's built-in traffic at start.
	trafficRate string
	// adminToken, when set, guards every service's admin API (and the frontend's runner
	// sends it to the others).
	adminToken string
	// continueTraces makes the frontend continue the caller's traceparent.
	continueTraces bool
	// slowQueryThreshold is the database's (its default when empty). With five stacks on two
	// cores, a plain query now and then takes a few hundred ms: a stack whose baseline must
	// show no slow query raises the threshold.
	slowQueryThreshold string
}

// mainStack is the stack most tests share: a short cache TTL, no traffic of its own, the
// suite's trace ids continued.
var mainStack = stackOptions{name: "main", cacheTTL: cacheTTL, trafficRate: "0", continueTraces: true}

// stack is the set of processes under test, each on a free 127.0.0.1 port.
type stack struct {
	opts                     stackOptions
	repo, tools, dir, logDir string
	pillars                  string // the built binary, shared by every stack
	ready                    time.Time

	// Addresses (host:port).
	prometheus, victoriaLogs, jaegerQuery, jaegerOTLP string
	frontend, backend, database                       string

	procs  []*proc // in start order
	byName map[string]*proc

	// The backends' query APIs, read through the clients every command uses.
	prom   *readback.Prometheus
	traces *readback.Jaeger
	logs   *readback.VictoriaLogs
}

func newStack(opts stackOptions, pillars string) (*stack, error) {
	repo, err := repoRoot()
	if err != nil {
		return nil, err
	}
	tools := os.Getenv("PILLARS_TOOLS")
	if tools == "" {
		tools = filepath.Join(repo, ".tools")
	}
	dir, err := os.MkdirTemp("", "pillars-e2e-"+opts.name+"-")
	if err != nil {
		return nil, err
	}
	s := &stack{opts: opts, repo: repo, tools: tools, dir: dir, logDir: filepath.Join(dir, "logs"), pillars: pillars, byName: map[string]*proc{}}
	if err := os.MkdirAll(s.logDir, 0o755); err != nil {
		return nil, err
	}
	var missing []string
	for _, tool := range []string{"prometheus", "promtool", "victoria-logs", "jaeger", "otelcol"} {
		if _, err := os.Stat(s.tool(tool)); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing backends %v in %s: run `make tools` (scripts/tools.sh) first", missing, filepath.Join(tools, "bin"))
	}
	ports, err := freePorts(8)
	if err != nil {
		return nil, err
	}
	addr := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", ports[i]) }
	s.prometheus, s.victoriaLogs, s.jaegerQuery, s.jaegerOTLP = addr(0), addr(1), addr(2), addr(3)
	s.frontend, s.backend, s.database = addr(4), addr(5), addr(6)
	if err := s.openReaders(); err != nil {
		return nil, err
	}

	promConfig, err := s.writePrometheusConfig()
	if err != nil {
		return nil, err
	}
	base := cleanEnv()
	s.add("prometheus", base, s.tool("prometheus"),
		"--config.file="+promConfig,
		"--storage.tsdb.path="+filepath.Join(dir, "prometheus"),
		"--web.listen-address="+s.prometheus,
		"--enable-feature=exemplar-storage",
		"--web.enable-remote-write-receiver",
	).ready = "http://" + s.prometheus + "/-/ready"
	s.add("victoria-logs", base, s.tool("victoria-logs"),
		"-httpListenAddr="+s.victoriaLogs,
		"-storageDataPath="+filepath.Join(dir, "victoria-logs"),
	).ready = "http://" + s.victoriaLogs + "/health"
	// deploy/local/jaeger.yaml reads its listen addresses from these variables.
	s.add("jaeger", with(base,
		"JAEGER_OTLP_HTTP="+s.jaegerOTLP,
		"JAEGER_OTLP_GRPC="+addr(7),
		"JAEGER_QUERY_HTTP="+s.jaegerQuery,
		"JAEGER_QUERY_GRPC=127.0.0.1:0",
		"JAEGER_LOG_LEVEL=warn",
	), s.tool("jaeger"), "--config="+filepath.Join(repo, "deploy", "local", "jaeger.yaml"),
	).ready = "http://" + s.jaegerQuery + "/api/services"

	svc := with(base,
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+s.jaegerOTLP,
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
	)
	common := []string{
		"--environment=" + environment,
		"--loki-url=http://" + s.victoriaLogs + lokiPushPath,
		"--loki-batch-wait=" + lokiBatchWait,
		"--loki-retries=" + lokiRetries,
		"--log-level=debug",
	}
	if opts.adminToken != "" {
		common = append(common, "--admin-token="+opts.adminToken)
	}
	database := []string{"database",
		"--database-addr=" + s.database,
		"--db-path=" + filepath.Join(dir, "pillars.db"),
	}
	if opts.slowQueryThreshold != "" {
		database = append(database, "--slow-query-threshold="+opts.slowQueryThreshold)
	}
	s.add("database", svc, s.pillars, append(database, common...)...).ready = "http://" + s.database + "/ready"
	backend := []string{"backend",
		"--backend-addr=" + s.backend,
		"--database-url=http://" + s.database,
	}
	if opts.cacheTTL != "" {
		backend = append(backend, "--cache-ttl="+opts.cacheTTL)
	}
	s.add("backend", svc, s.pillars, append(backend, common...)...).ready = "http://" + s.backend + "/ready"
	frontend := []string{"frontend",
		"--frontend-addr=" + s.frontend,
		"--backend-url=http://" + s.backend,
		// The database's admin API, for the scenario runner.
		"--database-url=http://" + s.database,
		"--traffic-rate=" + cmp.Or(opts.trafficRate, "0"),
	}
	if opts.continueTraces {
		// The suite chooses its trace ids (some with leading zeros, which Tempo's search drops)
		// by sending a traceparent, as a traced proxy in front of the frontend would; by default
		// the frontend, an edge, starts its own trace instead (a contract test covers that).
		frontend = append(frontend, "--continue-incoming-traces")
	}
	s.add("frontend", svc, s.pillars, append(frontend, common...)...).ready = "http://" + s.frontend + "/ready"
	return s, nil
}

// openReaders makes the query clients of the three backends.
func (s *stack) openReaders() error {
	var err error
	if s.prom, err = readback.NewPrometheus("http://"+s.prometheus, client); err != nil {
		return err
	}
	if s.traces, err = readback.NewJaeger("http://"+s.jaegerQuery, client); err != nil {
		return err
	}
	s.logs, err = readback.NewVictoriaLogs("http://"+s.victoriaLogs, client)
	return err
}

func (s *stack) tool(name string) string { return filepath.Join(s.tools, "bin", name) }

// writePrometheusConfig derives the test's Prometheus config from deploy/local/prometheus.yml,
// so that the real file is what is tested: only the targets (the services' free ports), the
// rule file paths (made absolute) and the intervals (shortened) change, and the time-scaled
// rules are loaded next to the real ones: the SLOs' (deploy/prometheus/timescaled/slo.yml)
// and a time-scaled copy of the alerts and the recording rules they read (timescale_test.go),
// all labelled timescale="30", so that an alert that takes minutes fires here in seconds.
func (s *stack) writePrometheusConfig() (string, error) {
	scaledDir := filepath.Join(s.dir, "timescaled")
	if err := writeTimescaledRules(filepath.Join(s.repo, "deploy", "prometheus", "rules"), scaledDir); err != nil {
		return "", err
	}
	src := filepath.Join(s.repo, "deploy", "local", "prometheus.yml")
	b, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	cfg := string(b)
	for _, r := range []struct{ old, new string }{
		{"127.0.0.1:8001", s.frontend},
		{"127.0.0.1:8002", s.backend},
		{"127.0.0.1:8003", s.database},
		{"scrape_interval: 5s", "scrape_interval: " + scrapeInterval},
		{"evaluation_interval: 5s", "evaluation_interval: " + scrapeInterval},
		{"  - ../prometheus/rules/*.yml", "  - ../prometheus/rules/*.yml\n  - ../prometheus/timescaled/slo.yml\n  - " + scaledDir + "/*.yml"},
		{"../prometheus/", filepath.Join(s.repo, "deploy", "prometheus") + "/"},
	} {
		if !strings.Contains(cfg, r.old) {
			return "", fmt.Errorf("%s no longer contains %q; update writePrometheusConfig", src, r.old)
		}
		cfg = strings.ReplaceAll(cfg, r.old, r.new)
	}
	dst := filepath.Join(s.dir, "prometheus.yml")
	return dst, os.WriteFile(dst, []byte(cfg), 0o644)
}

// buildPillars builds the services into dir, with the race detector when race is set; every
// stack runs one of the builds.
func buildPillars(ctx context.Context, repo, dir string, race bool) (string, error) {
	name := "pillars"
	args := []string{"build"}
	if race {
		name, args = "pillars-race", append(args, "-race")
	}
	bin := filepath.Join(dir, name)
	build := exec.CommandContext(ctx, "go", append(args, "-o", bin, "./cmd/pillars")...)
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/pillars: %v\n%s", err, out)
	}
	return bin, nil
}

// start starts every process in order, each once the one before is ready, as compose's
// depends_on does: a frontend whose traffic began while the database was still seeding would
// fail its first requests, and a baseline would start dirty.
func (s *stack) start(ctx context.Context) error {
	for _, p := range s.procs {
		if err := p.start(); err != nil {
			return err
		}
		if err := p.waitReady(ctx); err != nil {
			return err
		}
	}
	s.ready = time.Now()
	return nil
}

func (s *stack) add(name string, env []string, path string, args ...string) *proc {
	p := &proc{name: name, path: path, args: args, env: env, logPath: filepath.Join(s.logDir, name+".log")}
	s.procs = append(s.procs, p)
	s.byName[name] = p
	return p
}

func (s *stack) proc(name string) *proc { return s.byName[name] }

// stopAll stops the services first, so their last spans and logs can still be flushed.
func (s *stack) stopAll() error {
	var errs []error
	for i := len(s.procs) - 1; i >= 0; i-- {
		if err := s.procs[i].stop(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// close kills whatever still runs and removes the temporary directory (kept when E2E_KEEP is set).
func (s *stack) close() {
	for _, p := range s.procs {
		p.kill()
	}
	if os.Getenv("E2E_KEEP") != "" {
		fmt.Fprintf(os.Stderr, "e2e: kept %s\n", s.dir)
		return
	}
	os.RemoveAll(s.dir)
}

// dataRaces names the processes whose log shows a report of the race detector.
func (s *stack) dataRaces() []string {
	var names []string
	for _, p := range s.procs {
		if b, err := os.ReadFile(p.logPath); err == nil && strings.Contains(string(b), "WARNING: DATA RACE") {
			names = append(names, p.name)
		}
	}
	return names
}

func (s *stack) dumpLogs(w io.Writer) {
	for _, p := range s.procs {
		fmt.Fprintf(w, "\n----- last lines of %s of the %s stack (%s) -----\n", p.name, s.opts.name, p.logPath)
		tail(w, p.logPath, 40)
	}
}

func tail(w io.Writer, path string, n int) {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(w, err)
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}

// proc is one child process that can be stopped and started again with the same
// arguments, port and data directory.
type proc struct {
	name, path, logPath string
	args, env           []string
	ready               string // URL answering 2xx once the process serves

	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit error, valid once done is closed
}

func (p *proc) start() error {
	if p.running() {
		return fmt.Errorf("%s is already running", p.name)
	}
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = log, log
	// Never outlive the test binary, even when it is killed by the go test timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func(done chan struct{}) {
		p.err = cmd.Wait()
		log.Close()
		close(done)
	}(p.done)
	return nil
}

func (p *proc) running() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// waitReady polls the readiness URL until it answers 2xx, the process exits or ctx ends.
func (p *proc) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		resp, err := client.Get(p.ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%v); see %s", p.name, p.err, p.logPath)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %v (last: %v); see %s", p.name, p.ready, ctx.Err(), last, p.logPath)
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM and waits for the exit, killing the process after 15 seconds.
func (p *proc) stop() error {
	if !p.running() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(15 * time.Second):
		p.kill()
		return fmt.Errorf("%s did not stop within 15s of SIGTERM; killed", p.name)
	}
}

func (p *proc) kill() {
	if p.running() {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// freePorts hands out n distinct free ports on 127.0.0.1 for processes to bind. Ports that
// the kernel picks for ":0" are a poor choice when several stacks start at once: a port
// released for a process to take can be picked again by the next ":0" listener or taken as the
// source port of any outgoing connection before that process binds it. So the ports come from
// below the kernel's ephemeral range, where neither happens, handed out once per test process,
// each checked free by binding it.
func freePorts(n int) ([]int, error) {
	portPool.Lock()
	defer portPool.Unlock()
	if portPool.next == 0 {
		low := ephemeralLow()
		// Below the ephemeral range, and a random start so that runs close in time do not
		// reuse each other's ports while the old ones linger.
		portPool.next, portPool.end = 10000+rand.IntN(low-16000), low
	}
	var ports []int
	for len(ports) < n {
		if portPool.next >= portPool.end {
			return nil, fmt.Errorf("no free ports left below %d", portPool.end)
		}
		p := portPool.next
		portPool.next++
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue // in use by something else on the machine
		}
		l.Close()
		ports = append(ports, p)
	}
	return ports, nil
}

var portPool struct {
	sync.Mutex
	next, end int
}

// ephemeralLow is the first port of the kernel's range for ":0" and outgoing connections.
func ephemeralLow() int {
	low := 32768 // Linux's default
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil && v > 20000 {
				low = v
			}
		}
	}
	return low
}

// with returns a copy of env with more variables.
func with(env []string, kv ...string) []string {
	return append(append([]string(nil), env...), kv...)
}

// cleanEnv is this process's environment without PILLARS_*, OTEL_* and JAEGER_* variables,
// so that a developer's shell cannot change what the tests start.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PILLARS_") || strings.HasPrefix(kv, "OTEL_") || strings.HasPrefix(kv, "JAEGER_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
