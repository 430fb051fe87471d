// Package load sends the benchmark's requests with vegeta, in one of two ways:
//
//   - closed loop (saturation): a fixed number of connections, each sending its next request
//     as soon as the last one was answered, like wrk; what it measures is throughput;
//   - open loop (fixed rate): requests leave on a schedule whatever the server does, so a slow
//     server cannot slow the load down and hide its tail; what it measures is latency.
//
// Each run has a warm-up and then a measured window; the caller is told when the window opens
// and closes (to read the services' CPU and memory at those instants).
package load

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/pillars-o11y/pillars/bench/harness/stats"
)

// Spec is one run.
type Spec struct {
	URL  string  `json:"url"`  // base URL, e.g. http://127.0.0.1:8001
	Path string  `json:"path"` // a name from Paths
	Rate float64 `json:"rate"` // requests per second; 0 means closed loop
	// Conns: in closed loop the connections (and workers); in open loop the most
	// connections the load opens (default OpenConns), a pool like a proxy's in front of the
	// service. Requests beyond it wait for a connection, and that wait counts in their
	// latency; an unbounded pool would instead open connections in bursts faster than the
	// service accepts them, and measure the kernel's SYN retransmission timer.
	Conns    int           `json:"conns"`
	Warmup   time.Duration `json:"warmup"`   // before the window, not measured
	Duration time.Duration `json:"duration"` // the measured window
	Timeout  time.Duration `json:"timeout"`  // per request (default 10s)
}

// Result is what one run measured. Window figures count only the measured window: in closed
// loop the requests answered inside it, in open loop the requests due inside it (each
// followed to its answer, however late).
type Result struct {
	Sent       uint64        `json:"sent"`     // every request of the run, warm-up included
	Answered   uint64        `json:"answered"` // of those, answered with a 2xx
	Requests   uint64        `json:"requests"` // in the window
	Errors     uint64        `json:"errors"`   // in the window: not a 2xx, or no answer
	FirstError string        `json:"first_error,omitempty"`
	BytesIn    uint64        `json:"bytes_in"` // response bodies in the window
	Window     time.Duration `json:"window"`
	Throughput float64       `json:"throughput"` // Requests / Window
	// Latency of the window's requests; in open loop from the instant each was due.
	Latency     stats.Latencies `json:"latency"`
	OfferedRate float64         `json:"offered_rate,omitempty"`
	// SendLagP99 is, in open loop, how late the window's requests left against their
	// schedule: a load generator that falls behind hides the server's tail.
	SendLagP99 time.Duration `json:"send_lag_p99,omitempty"`
}

// OpenConns is the open loop's default connection pool.
const OpenConns = 128

// Events receives "start" when the window opens and "end" when it closes.
type Events func(event string)

// Run carries out spec and blocks until every request sent has been answered or timed out.
func Run(ctx context.Context, spec Spec, events Events) (Result, error) {
	seq, err := newSequence(spec.Path)
	if err != nil {
		return Result{}, err
	}
	if spec.Rate < 0 || (spec.Rate == 0 && spec.Conns < 1) || spec.Duration <= 0 {
		return Result{}, errors.New("load: want a rate, or a number of connections, and a duration")
	}
	if spec.Timeout == 0 {
		spec.Timeout = 10 * time.Second
	}
	if events == nil {
		events = func(string) {}
	}
	attacker, err := newAttacker(spec)
	if err != nil {
		return Result{}, err
	}
	targeter := func(t *vegeta.Target) error {
		t.Method, t.URL = http.MethodGet, spec.URL+seq.next()
		return nil
	}

	var pacer vegeta.Pacer
	var du, interval time.Duration
	total := spec.Warmup + spec.Duration
	if spec.Rate > 0 {
		// Exactly rate × (warm-up + window) requests, on schedule.
		cp := perSecond(spec.Rate)
		pacer = countedPacer{ConstantPacer: cp, limit: uint64(spec.Rate*total.Seconds() + 0.5)}
		interval = cp.Per / time.Duration(cp.Freq)
	} else {
		pacer, du = vegeta.ConstantPacer{}, total // zero rate: as fast as the workers go
	}

	start := time.Now()
	windowStart, windowEnd := start.Add(spec.Warmup), start.Add(total)
	stopClock := clock(ctx, start, spec.Warmup, total, events)
	defer stopClock()
	results := attacker.Attack(targeter, pacer, du, "")
	stopOnCancel := context.AfterFunc(ctx, func() { attacker.Stop() })
	defer stopOnCancel()

	var res Result
	var lat, lag []time.Duration
	for r := range results {
		res.Sent++
		ok := r.Error == "" && r.Code >= 200 && r.Code < 300
		if ok {
			res.Answered++
		}
		// In closed loop a request belongs to the window it was answered in: what is counted
		// there is completions. In open loop it belongs to the window its slot of the
		// schedule is in (request n, from 0, has the n-th interval and is due at its end), so
		// that the window holds exactly rate × duration requests however late the sending ran.
		at := r.End()
		if interval > 0 {
			at = start.Add(time.Duration(r.Seq) * interval)
		}
		if at.Before(windowStart) || !at.Before(windowEnd) {
			continue
		}
		res.Requests++
		res.BytesIn += r.BytesIn
		latency := r.Latency
		if interval > 0 {
			// Latency counts from when the request was due, not from when a worker got to
			// it, so that time spent waiting to be sent is not lost (coordinated omission).
			late := max(0, r.Timestamp.Sub(at.Add(interval)))
			lag = append(lag, late)
			latency += late
		}
		lat = append(lat, latency)
		if !ok {
			res.Errors++
			if res.FirstError == "" {
				res.FirstError = fmt.Sprintf("%s: %d %s", r.URL, r.Code, r.Error)
			}
		}
	}
	res.Window = spec.Duration
	res.Throughput = float64(res.Requests) / spec.Duration.Seconds()
	res.Latency = stats.Summarize(lat)
	res.OfferedRate = spec.Rate
	res.SendLagP99 = stats.Summarize(lag).P99
	return res, ctx.Err()
}

func newAttacker(spec Spec) (*vegeta.Attacker, error) {
	conns := spec.Conns
	if spec.Rate > 0 && conns == 0 {
		conns = OpenConns
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	// A browser keeps the visitor cookie the frontend sets; so does the load.
	client := &http.Client{
		Jar:     jar,
		Timeout: spec.Timeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        0,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	opts := []func(*vegeta.Attacker){vegeta.Client(client)}
	if spec.Rate == 0 {
		n := uint64(spec.Conns)
		opts = append(opts, vegeta.Workers(n), vegeta.MaxWorkers(n))
	} else {
		// Open loop: as many workers as it takes to keep the schedule.
		opts = append(opts, vegeta.Workers(64))
	}
	return vegeta.NewAttacker(opts...), nil
}

// perSecond is a constant pacer for a fractional rate, kept exact by choosing the period.
func perSecond(rate float64) vegeta.ConstantPacer {
	if rate >= 1000 {
		return vegeta.ConstantPacer{Freq: int(rate + 0.5), Per: time.Second}
	}
	// Below 1000/s, count per 1000 s so that 2.5/s is 2500 per 1000 s, not 2 or 3 per second.
	return vegeta.ConstantPacer{Freq: int(rate*1000 + 0.5), Per: 1000 * time.Second}
}

// countedPacer is a constant pacer that stops after limit hits: an open-loop run sends an
// exact number of requests, whatever the timer's granularity at the end of the run.
type countedPacer struct {
	vegeta.ConstantPacer
	limit uint64
}

func (p countedPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.limit {
		return 0, true
	}
	return p.ConstantPacer.Pace(elapsed, hits)
}

// clock emits the window's start and end events at their instants.
func clock(ctx context.Context, start time.Time, warmup, total time.Duration, events Events) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, at := range []struct {
			d     time.Duration
			event string
		}{{warmup, "start"}, {total, "end"}} {
			t := time.NewTimer(time.Until(start.Add(at.d)))
			select {
			case <-t.C:
				events(at.event)
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
	}()
	return func() { <-done; cancel() }
}
