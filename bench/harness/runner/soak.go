package runner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pillars-o11y/pillars/bench/harness/load"
	"github.com/pillars-o11y/pillars/bench/harness/results"
	"github.com/pillars-o11y/pillars/bench/harness/stack"
)

// soak saturates the cached path with every telemetry backend down for the soak's duration,
// reading each service's resident memory every few seconds: a buffer that grows without
// bound shows as a slope.
func (r *Runner) soak(ctx context.Context, c stack.Config) error {
	d := r.opts.Durations.Soak
	r.progress(fmt.Sprintf("soak: %s/%s saturated for %s, memory read every 5s", stack.Cached, c.Name, d))
	st, err := stack.Start(ctx, r.stackOpts, c, stack.Cached)
	if err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	defer st.Stop()
	s := &results.Soak{Stack: string(stack.Cached), Config: c.Name, Duration: d}
	var mu sync.Mutex
	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			sample := results.SoakSample{At: time.Since(start).Round(time.Second), RSS: map[string]int64{}}
			for _, p := range st.Services {
				if v, err := r.procs.Read(p.Pid()); err == nil {
					sample.RSS[p.Name] = v.RSS
				}
			}
			mu.Lock()
			s.Samples = append(s.Samples, sample)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	m, err := r.measure(ctx, st, results.Measurement{Kind: "soak", Stack: s.Stack, Config: c.Name, Path: MainPath(stack.Cached), Conns: r.opts.Conns},
		load.Spec{Path: MainPath(stack.Cached), Conns: r.opts.Conns, Warmup: time.Second, Duration: d})
	close(stop)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	s.Load = m.Load
	r.run.Soak = s
	r.progress(fmt.Sprintf("soak: %.0f req/s over %s", m.Load.Throughput, d))
	return nil
}
