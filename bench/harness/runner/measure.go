package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pillars-o11y/pillars/bench/harness/load"
	"github.com/pillars-o11y/pillars/bench/harness/results"
	"github.com/pillars-o11y/pillars/bench/harness/sink"
	"github.com/pillars-o11y/pillars/bench/harness/stack"
)

// loadEvent is one line the load process writes on stdout.
type loadEvent struct {
	Event  string       `json:"event"` // start, end, result
	Result *load.Result `json:"result,omitempty"`
	Error  string       `json:"error,omitempty"`
}

// snapshot is everything read at one edge of the window.
type snapshot struct {
	busy   time.Duration // the whole machine's
	cpu    map[string]time.Duration
	hwm    map[string]int64
	stdout map[string]int64
	sink   sink.Stats
}

// measure runs the load process once against st, reading the services' CPU, memory, stdout
// and the sink's counters when the window opens and closes.
func (r *Runner) measure(ctx context.Context, st *stack.Stack, m results.Measurement, spec load.Spec) (results.Measurement, error) {
	if err := ctx.Err(); err != nil {
		return m, err
	}
	spec.URL = st.URL
	counted0, countErr := r.frontendCount(ctx, st, spec.Path)

	specJSON, err := json.Marshal(spec)
	if err != nil {
		return m, err
	}
	pr, pw := io.Pipe()
	bin, args := r.self, []string{"load", "--spec", string(specJSON)}
	if r.opts.LoadNice != 0 {
		// The load shares the cores with the services: a higher priority keeps it on its
		// schedule, as load from another machine would be. Every thread inherits it.
		bin, args = "nice", append([]string{"-n", strconv.Itoa(r.opts.LoadNice), r.self}, args...)
	}
	// The load waits, after its result, until its stdin closes: it is still there to be read
	// from /proc however fast it finished.
	hold, release, err := os.Pipe()
	if err != nil {
		return m, err
	}
	defer release.Close()
	lp, err := stack.StartProcessIO("load", bin, args, nil, st.Dir, hold, pw)
	hold.Close()
	if err != nil {
		return m, err
	}
	go func() { _ = lp.Wait(); pw.Close() }()
	// A cancelled run (Ctrl-C) stops the load now rather than at the end of its window.
	stopOnCancel := context.AfterFunc(ctx, func() { lp.Stop(5 * time.Second) })
	defer stopOnCancel()
	var sampler *rssSampler
	defer func() {
		// On an early return nobody reads the pipe any more: close it, or the process
		// could block writing to it and never end.
		pr.Close()
		release.Close()
		lp.Stop(5 * time.Second)
		if sampler != nil {
			sampler.stop()
		}
	}()

	procs := append(append([]*stack.Process{}, st.Services...), lp)
	if st.Sink != nil {
		procs = append(procs, st.Sink)
	}
	var before, after snapshot
	var res *load.Result
	lines := bufio.NewScanner(pr)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for res == nil && lines.Scan() { // the result is the last line
		var ev loadEvent
		if err := json.Unmarshal(lines.Bytes(), &ev); err != nil {
			return m, fmt.Errorf("load said %q: %w", lines.Text(), err)
		}
		switch ev.Event {
		case "start":
			before = r.snapshot(ctx, st, procs)
			sampler = r.sampleRSS(st.Services)
		case "end":
			after = r.snapshot(ctx, st, procs)
			if sampler != nil {
				m.RSS = sampler.stop()
			}
		case "result":
			res = ev.Result
		case "error":
			return m, fmt.Errorf("load: %s", ev.Error)
		}
	}
	if err := ctx.Err(); err != nil {
		return m, err
	}
	if res == nil {
		return m, fmt.Errorf("load ended without a result: %s", lp.LogTail())
	}
	if err := st.Failed(); err != nil {
		return m, err
	}
	m.Load = *res
	m.CPU, m.Stdout = map[string]time.Duration{}, map[string]int64{}
	ours := time.Duration(0)
	for name, c := range after.cpu {
		m.CPU[name] = c - before.cpu[name]
		ours += m.CPU[name]
	}
	// What the rest of the machine took in the window: the harness itself is in it, and
	// little else should be.
	m.OtherCPU = max(0, after.busy-before.busy-ours)
	for name, n := range after.stdout {
		m.Stdout[name] = n - before.stdout[name]
	}
	m.Sink = after.sink.Sub(before.sink)
	m.HWM = map[string]int64{}
	for _, p := range st.Services {
		m.HWM[p.Name] = after.hwm[p.Name]
	}

	m.Counted = -1
	if counted1, err := r.frontendCount(ctx, st, spec.Path); err == nil && countErr == nil {
		m.Counted = counted1 - counted0
	}
	m.Problem = problems(m)
	return m, nil
}

// problems says what makes a measurement doubtful; empty when nothing does.
func problems(m results.Measurement) string {
	var p []string
	if m.Load.Errors > 0 {
		p = append(p, fmt.Sprintf("%d of %d requests failed (%s)", m.Load.Errors, m.Load.Requests, m.Load.FirstError))
	}
	if m.Counted >= 0 && uint64(m.Counted) != m.Load.Sent {
		p = append(p, fmt.Sprintf("the load sent %d requests, the frontend counted %d", m.Load.Sent, m.Counted))
	}
	if m.Sink.ForwardErrors > 0 {
		p = append(p, fmt.Sprintf("the real backends refused %d pushes", m.Sink.ForwardErrors))
	}
	if m.Load.OfferedRate > 0 && m.Load.SendLagP99 > 5*time.Millisecond {
		p = append(p, fmt.Sprintf("the load fell behind its schedule (p99 %s late): part of the latency is the load's", m.Load.SendLagP99.Round(time.Millisecond)))
	}
	return strings.Join(p, "; ")
}

func (r *Runner) snapshot(ctx context.Context, st *stack.Stack, procs []*stack.Process) snapshot {
	s := snapshot{cpu: map[string]time.Duration{}, hwm: map[string]int64{}, stdout: map[string]int64{}}
	s.busy, _ = r.procs.Busy()
	for _, p := range procs {
		if sample, err := r.procs.Read(p.Pid()); err == nil {
			s.cpu[p.Name], s.hwm[p.Name] = sample.CPU, sample.HWM
		}
		s.stdout[p.Name] = p.StdoutBytes()
	}
	if st.Sink != nil {
		s.sink, _ = readSinkStats(ctx, st.SinkURL)
	}
	return s
}

func readSinkStats(ctx context.Context, base string) (sink.Stats, error) {
	var s sink.Stats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+sink.StatsPath, nil)
	if err != nil {
		return s, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// rssSampler records each process's highest resident memory, every 100 ms.
type rssSampler struct {
	mu   sync.Mutex
	max  map[string]int64
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func (r *Runner) sampleRSS(procs []*stack.Process) *rssSampler {
	s := &rssSampler{max: map[string]int64{}, done: make(chan struct{})}
	read := func() {
		for _, p := range procs {
			if sample, err := r.procs.Read(p.Pid()); err == nil {
				s.mu.Lock()
				s.max[p.Name] = max(s.max[p.Name], sample.RSS)
				s.mu.Unlock()
			}
		}
	}
	read()
	s.wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				read()
				return
			case <-t.C:
				read()
			}
		}
	})
	return s
}

// stop ends the sampling (once; later calls only read) and returns the highest readings.
func (s *rssSampler) stop() map[string]int64 {
	s.once.Do(func() { close(s.done) })
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max
}

// endpoints are the route templates frontend_requests_total counts each path under.
var endpoints = map[string]string{
	"cached-user": "/user/{id}", "uncached-user": "/user/{id}", "product": "/product/{id}", "home": "/",
}

// frontendCount is frontend_requests_total for path's route, summed over methods and
// statuses: what the service itself says it served.
func (r *Runner) frontendCount(ctx context.Context, st *stack.Stack, path string) (int64, error) {
	if st.Config.Relay {
		return 0, fmt.Errorf("the relay counts nothing")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, st.URL+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return CountRequests(resp.Body, "frontend_requests_total", endpoints[path])
}

// CountRequests sums the counter name over the series whose endpoint label is endpoint, in a
// Prometheus text exposition.
func CountRequests(exposition io.Reader, name, endpoint string) (int64, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(exposition)
	if err != nil {
		return 0, err
	}
	f, ok := families[name]
	if !ok {
		return 0, nil // nothing served yet
	}
	var sum float64
	for _, m := range f.GetMetric() {
		if label(m, "endpoint") == endpoint {
			sum += m.GetCounter().GetValue()
		}
	}
	return int64(sum), nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
