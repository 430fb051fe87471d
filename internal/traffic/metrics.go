package traffic

import (
	"context"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// outcome is what became of one request the generator meant to send: the bounded outcome
// label of pillars_traffic_requests_total.
type outcome int

const (
	outcomeOK          outcome = iota // answered 1xx-3xx
	outcomeClientError                // answered 4xx: the bad ids of the mix, mostly
	outcomeServerError                // answered 5xx
	outcomeFailed                     // no answer: refused, reset, timed out
	outcomeSkipped                    // not sent: too many in flight, or every visitor busy
	outcomes
)

var outcomeNames = [outcomes]string{"ok", "client_error", "server_error", "failed", "skipped"}

// outcomeCounts are the counts since the last summary line.
type outcomeCounts [outcomes]atomic.Int64

type metrics struct {
	requests [outcomes]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, target func() float64) (*metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pillars_traffic_requests_total",
		Help: "Requests the built-in traffic generator meant to send, by outcome: ok, client_error, server_error, failed (no answer), skipped (too many in flight).",
	}, []string{"outcome"})
	rate := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pillars_traffic_target_rate",
		Help: "Requests per second the built-in traffic generator's settings ask for right now.",
	}, target)
	for _, c := range []prometheus.Collector{requests, rate} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m := &metrics{}
	for o := range outcomes {
		m.requests[o] = requests.WithLabelValues(outcomeNames[o]) // every outcome at 0 from the start
	}
	return m, nil
}

func (g *Generator) count(o outcome) {
	g.counts[o].Add(1)
	if g.metrics != nil {
		g.metrics.requests[o].Inc()
	}
}

// summarise logs what happened since the last summary: one line a minute instead of one per
// request (each request is logged, with its trace, by the services). A quiet minute says
// nothing.
func (g *Generator) summarise(ctx context.Context, msg string) {
	var n [outcomes]int64
	var total int64
	for o := range outcomes {
		n[o] = g.counts[o].Swap(0)
		total += n[o]
	}
	if total == 0 && msg != "Traffic generator stopped" {
		return
	}
	g.log.InfoContext(context.WithoutCancel(ctx), msg,
		"sent", n[outcomeOK]+n[outcomeClientError]+n[outcomeServerError]+n[outcomeFailed],
		"ok", n[outcomeOK],
		"client_errors", n[outcomeClientError],
		"server_errors", n[outcomeServerError],
		"failed", n[outcomeFailed],
		"skipped", n[outcomeSkipped])
}
