// Package stack starts what one benchmark configuration runs, each in its own process as
// deployed: the three pillars services (or the relay hops that stand in for them), and a sink
// for their telemetry, on free loopback ports.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Kind is the shape of the request path.
type Kind string

const (
	// Cached: the backend's cache on (the default TTL); a hot user is two hops.
	Cached Kind = "cached"
	// Uncached: the cache off (a TTL of a nanosecond), so every request goes through the
	// backend to the database: three hops and a SQLite transaction.
	Uncached Kind = "uncached"
)

// Hops is the number of services a request of this kind crosses.
func (k Kind) Hops() int {
	if k == Cached {
		return 2
	}
	return 3
}

// Config is one telemetry configuration.
type Config struct {
	Name   string
	Relay  bool // the bare net/http chain instead of pillars
	Traces bool // spans exported over OTLP/HTTP at 100 % sampling (so exemplars too)
	Logs   bool // log lines at info, on stdout and pushed to Loki
	// NoMetrics turns the services' metrics off, where they have a switch for it
	// (PILLARS_METRICS=false); without one, metrics are always on.
	NoMetrics bool
	Down      bool     // every telemetry backend down: the URLs lead to a closed port
	Env       []string // extra variables, for variants defined on the command line
}

// Options are shared by every stack of a run.
type Options struct {
	Pillars string // the pillars binary
	Self    string // the harness binary, for the sink and relay modes
	DBPath  string // SQLite file, seeded once and reused
	Dir     string // stderr logs of every process
	// Second mode: real backends behind the sink, which then forwards (and still counts).
	TracesUpstream, LokiUpstream string
	ScrapeInterval               time.Duration
	GoMemLimit                   string            // GOMEMLIMIT of the services, as deployed
	RelayBodies                  map[string]string // path prefix → file with the last hop's answer
}

// Stack is one running configuration.
type Stack struct {
	Config Config
	Kind   Kind
	URL    string // the frontend's (or first hop's) base URL
	// Services are the frontend, backend and database (or relay hops) in request order, with
	// their base URLs. The cached kind runs the database too, off the measured path.
	Services []*Process
	URLs     []string
	Sink     *Process // nil for the relay and when the backends are down
	SinkURL  string
	Dir      string // where its processes' logs go
}

// Roles names the processes of a request path; relay hops take the services' names.
func Roles(hops int) []string {
	return []string{"frontend", "backend", "database"}[:hops]
}

// Start brings up cfg for kind and waits until every process is ready.
func Start(ctx context.Context, o Options, cfg Config, kind Kind) (*Stack, error) {
	s := &Stack{Config: cfg, Kind: kind, Dir: o.Dir}
	n := 3
	if cfg.Relay {
		n = kind.Hops()
	}
	addrs, err := freeAddrs(n + 2)
	if err != nil {
		return nil, err
	}
	sinkAddr, deadAddr := addrs[n], addrs[n+1]
	for _, a := range addrs[:n] {
		s.URLs = append(s.URLs, "http://"+a)
	}
	s.URL = s.URLs[0]
	ok := false
	defer func() {
		if !ok {
			s.Stop()
		}
	}()

	if cfg.Relay {
		if err := s.startRelay(o); err != nil {
			return nil, err
		}
	} else {
		telemetryURL := "http://" + sinkAddr
		if cfg.Down {
			telemetryURL = "http://" + deadAddr // nothing listens there: connection refused
		} else if err := s.startSink(o, sinkAddr); err != nil {
			return nil, err
		}
		if err := s.startServices(o, cfg, kind, telemetryURL); err != nil {
			return nil, err
		}
	}
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// MetricsURLs are the services' /metrics (none for the relay).
func (s *Stack) MetricsURLs() []string {
	if s.Config.Relay {
		return nil
	}
	var urls []string
	for _, u := range s.URLs {
		urls = append(urls, u+"/metrics")
	}
	return urls
}

func (s *Stack) startSink(o Options, addr string) error {
	args := []string{"sink", "--addr", addr, "--scrape-interval", o.ScrapeInterval.String(),
		"--scrape", strings.Join(s.MetricsURLs(), ",")}
	if o.TracesUpstream != "" {
		args = append(args, "--forward-traces", o.TracesUpstream)
	}
	if o.LokiUpstream != "" {
		args = append(args, "--forward-loki", o.LokiUpstream)
	}
	p, err := StartProcess("sink", o.Self, args, baseEnv(), o.Dir)
	if err != nil {
		return err
	}
	s.Sink, s.SinkURL = p, "http://"+addr
	return nil
}

func (s *Stack) startRelay(o Options) error {
	roles := Roles(len(s.URLs))
	s.Services = make([]*Process, len(roles))
	// From the last hop back, so that each hop's next one is already there.
	for i := len(roles) - 1; i >= 0; i-- {
		args := []string{"relay", "--addr", strings.TrimPrefix(s.URLs[i], "http://")}
		if i == len(roles)-1 {
			for prefix, file := range o.RelayBodies {
				args = append(args, "--body", prefix+"="+file)
			}
		} else {
			args = append(args, "--next", s.URLs[i+1])
		}
		p, err := StartProcess(roles[i], o.Self, args, serviceEnv(o), o.Dir)
		if err != nil {
			return err
		}
		s.Services[i] = p
	}
	return nil
}

func (s *Stack) startServices(o Options, cfg Config, kind Kind, telemetryURL string) error {
	addr := func(i int) string { return strings.TrimPrefix(s.URLs[i], "http://") }
	env := append(serviceEnv(o),
		"PILLARS_ENVIRONMENT=bench",
		"PILLARS_TRAFFIC_RATE=0",
		"PILLARS_DRAIN_DELAY=0s",
		"PILLARS_SHUTDOWN_TIMEOUT=2s",
		"PILLARS_DB_PATH="+o.DBPath,
		"PILLARS_FRONTEND_ADDR="+addr(0),
		"PILLARS_BACKEND_ADDR="+addr(1),
		"PILLARS_DATABASE_ADDR="+addr(2),
		"PILLARS_BACKEND_URL="+s.URLs[1],
		"PILLARS_DATABASE_URL="+s.URLs[2],
	)
	if kind == Uncached {
		env = append(env, "PILLARS_CACHE_TTL=1ns")
	}
	if cfg.Traces {
		env = append(env,
			"OTEL_EXPORTER_OTLP_ENDPOINT="+telemetryURL,
			"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
			"OTEL_TRACES_SAMPLER=parentbased_always_on")
	} else {
		env = append(env, "OTEL_SDK_DISABLED=true")
	}
	if cfg.Logs {
		env = append(env, "PILLARS_LOG_LEVEL=info", "PILLARS_LOKI_URL="+telemetryURL+"/loki/api/v1/push")
	} else {
		// No request logs at all: a successful request logs nothing at error level.
		env = append(env, "PILLARS_LOG_LEVEL=error")
	}
	if cfg.NoMetrics {
		env = append(env, "PILLARS_METRICS=false")
	}
	env = append(env, cfg.Env...)
	roles := Roles(3)
	s.Services = make([]*Process, len(roles))
	// The database first: the backend checks it when it starts.
	for i := len(roles) - 1; i >= 0; i-- {
		p, err := StartProcess(roles[i], o.Pillars, []string{roles[i]}, env, o.Dir)
		if err != nil {
			return err
		}
		s.Services[i] = p
	}
	return nil
}

// baseEnv is the harness's environment without anything that configures pillars or the Go
// runtime: each process gets exactly the settings its configuration names.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PILLARS_") || strings.HasPrefix(k, "OTEL_") || k == "GOMEMLIMIT" || k == "GOGC" || k == "GOMAXPROCS" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func serviceEnv(o Options) []string {
	env := baseEnv()
	if o.GoMemLimit != "" {
		env = append(env, "GOMEMLIMIT="+o.GoMemLimit)
	}
	return env
}

// waitReady polls every process's /ready.
func (s *Stack) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	urls, procs := append([]string{}, s.URLs...), append([]*Process{}, s.Services...)
	if s.Sink != nil {
		urls, procs = append(urls, s.SinkURL), append(procs, s.Sink)
	}
	for i, u := range urls {
		for {
			if err := procs[i].failed(); err != nil {
				return err
			}
			if get(ctx, u+"/ready") == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s not ready at %s within %s: %s", procs[i].Name, u, timeout, procs[i].LogTail())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

func get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errNotReady
	}
	return nil
}

// Stop ends every process of the stack: the services together, then the sink, so that
// their last flush still finds it.
func (s *Stack) Stop() {
	var wg sync.WaitGroup
	for _, p := range s.Services {
		if p != nil {
			wg.Go(func() { p.Stop(10 * time.Second) })
		}
	}
	wg.Wait()
	if s.Sink != nil {
		s.Sink.Stop(10 * time.Second)
	}
}

// Failed reports a process of the stack that has ended on its own.
func (s *Stack) Failed() error {
	var errs []error
	for _, p := range append(append([]*Process{}, s.Services...), s.Sink) {
		if p != nil {
			errs = append(errs, p.failed())
		}
	}
	return errors.Join(errs...)
}

// freeAddrs returns n loopback addresses nothing listens on right now.
func freeAddrs(n int) ([]string, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

// WriteBodies saves the relay's answers into dir, one file per path prefix.
func WriteBodies(dir string, bodies map[string][]byte) (map[string]string, error) {
	files := map[string]string{}
	i := 0
	for prefix, body := range bodies {
		f := filepath.Join(dir, fmt.Sprintf("relay-body-%d.json", i))
		if err := os.WriteFile(f, body, 0o644); err != nil {
			return nil, err
		}
		files[prefix] = f
		i++
	}
	return files, nil
}
