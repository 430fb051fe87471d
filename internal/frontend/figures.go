package frontend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// liveFigures are each service's request rate, error ratio and p99 latency, computed from
// successive scrapes of the service's own /metrics: what the console shows at a glance,
// without a Prometheus. The services are scraped only while someone looks (at most once per
// figuresMinGap, however many consoles are open), and each keeps the samples of the last
// figuresWindow.
type liveFigures struct {
	client  *http.Client
	targets []figuresTarget

	mu      sync.Mutex
	last    time.Time
	samples map[string][]figuresSample
	errs    map[string]string
}

// figuresTarget is a service whose metrics are scraped; its request metrics are named after
// it (backend_requests_total, backend_request_duration_seconds).
type figuresTarget struct {
	service    string
	metricsURL string
}

const (
	figuresMinGap  = 2 * time.Second
	figuresWindow  = 30 * time.Second
	figuresTimeout = 2 * time.Second
)

// figuresSample is one scrape of a service's request metrics, over its API's routes (admin
// endpoints left out: the console's own calls are not the traffic it shows).
type figuresSample struct {
	at       time.Time
	requests float64
	errors   float64 // answered 5xx
	buckets  []bucketCount
	// knobs are the fault knobs pillars_faults_active says are on, sorted; nil when the
	// service exports no such gauge.
	knobs []string
}

// bucketCount is a cumulative histogram bucket; the last one's bound is +Inf.
type bucketCount struct {
	le    float64
	count float64
}

// ServiceFigures is one service's live figures. A nil figure is not known yet (fewer than
// two scrapes) or has no meaning (no requests in the window).
type ServiceFigures struct {
	Service       string   `json:"service"`
	RequestRate   *float64 `json:"request_rate"`
	ErrorRatio    *float64 `json:"error_ratio"`
	P99Seconds    *float64 `json:"p99_seconds"`
	WindowSeconds float64  `json:"window_seconds"`
	Error         string   `json:"error,omitempty"`
}

func newLiveFigures(client *http.Client, targets []figuresTarget) *liveFigures {
	return &liveFigures{client: client, targets: targets, samples: map[string][]figuresSample{}, errs: map[string]string{}}
}

// figures scrapes the services unless that was done less than figuresMinGap ago, and
// returns every service's figures over the samples of the window.
func (f *liveFigures) figures(ctx context.Context, now time.Time) []ServiceFigures {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now.Sub(f.last) >= figuresMinGap {
		f.last = now
		f.scrapeAll(ctx, now)
	}
	out := make([]ServiceFigures, 0, len(f.targets))
	for _, t := range f.targets {
		fig := figuresOf(f.samples[t.service])
		fig.Service, fig.Error = t.service, f.errs[t.service]
		out = append(out, fig)
	}
	return out
}

// activeKnobs returns the fault knobs that were on in service at its last scrape; ok is false
// when that scrape failed or the service exports no pillars_faults_active.
func (f *liveFigures) activeKnobs(service string) (knobs []string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	samples := f.samples[service]
	if f.errs[service] != "" || len(samples) == 0 || samples[len(samples)-1].knobs == nil {
		return nil, false
	}
	return samples[len(samples)-1].knobs, true
}

// scrapeAll scrapes every service at once, keeping what each answered. The caller holds mu.
func (f *liveFigures) scrapeAll(ctx context.Context, now time.Time) {
	ctx, cancel := context.WithTimeout(ctx, figuresTimeout)
	defer cancel()
	type result struct {
		s   figuresSample
		err error
	}
	results := make([]result, len(f.targets))
	var wg sync.WaitGroup
	for i, t := range f.targets {
		wg.Go(func() {
			s, err := f.scrape(ctx, t)
			s.at = now
			results[i] = result{s, err}
		})
	}
	wg.Wait()
	for i, t := range f.targets {
		if err := results[i].err; err != nil {
			f.errs[t.service] = err.Error()
			continue
		}
		delete(f.errs, t.service)
		f.samples[t.service] = keepWindow(f.samples[t.service], results[i].s)
	}
}

// keepWindow adds s to samples and drops those older than the window, and all of them after
// a restart of the service (its counters went down).
func keepWindow(samples []figuresSample, s figuresSample) []figuresSample {
	if n := len(samples); n > 0 && s.requests < samples[n-1].requests {
		samples = nil
	}
	samples = append(samples, s)
	i := 0
	for i < len(samples)-1 && s.at.Sub(samples[i].at) > figuresWindow {
		i++
	}
	return slices.Clip(samples[i:])
}

func (f *liveFigures) scrape(ctx context.Context, t figuresTarget) (figuresSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.metricsURL, nil)
	if err != nil {
		return figuresSample{}, err
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return figuresSample{}, fmt.Errorf("its /metrics did not answer within %s", figuresTimeout)
		}
		return figuresSample{}, errors.New("its /metrics could not be reached")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return figuresSample{}, fmt.Errorf("its /metrics answered %s", resp.Status)
	}
	s, err := parseFigures(t.service, io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return figuresSample{}, fmt.Errorf("its /metrics could not be read: %w", err)
	}
	return s, nil
}

// parseFigures reads service's request counter and duration histogram from a scrape in the
// Prometheus text format.
func parseFigures(service string, body io.Reader) (figuresSample, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(body)
	if err != nil {
		return figuresSample{}, err
	}
	// Before its first request a service has no series of either: zero requests.
	counter, histogram := families[service+"_requests_total"], families[service+"_request_duration_seconds"]
	var s figuresSample
	for _, m := range counter.GetMetric() {
		if adminEndpoint(m) {
			continue
		}
		v := m.GetCounter().GetValue()
		s.requests += v
		if strings.HasPrefix(label(m, "status"), "5") {
			s.errors += v
		}
	}
	byBound := map[float64]float64{}
	for _, m := range histogram.GetMetric() {
		h := m.GetHistogram()
		if adminEndpoint(m) || h == nil {
			continue
		}
		for _, b := range h.GetBucket() {
			if !math.IsInf(b.GetUpperBound(), 1) { // +Inf is the sample count, below
				byBound[b.GetUpperBound()] += float64(b.GetCumulativeCount())
			}
		}
		byBound[math.Inf(1)] += float64(h.GetSampleCount())
	}
	for le, c := range byBound {
		s.buckets = append(s.buckets, bucketCount{le, c})
	}
	slices.SortFunc(s.buckets, func(a, b bucketCount) int { return cmpFloat(a.le, b.le) })
	if active := families["pillars_faults_active"]; active != nil {
		s.knobs = []string{}
		for _, m := range active.GetMetric() {
			if m.GetGauge().GetValue() == 1 {
				s.knobs = append(s.knobs, label(m, "knob"))
			}
		}
		slices.Sort(s.knobs)
	}
	return s, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func adminEndpoint(m *dto.Metric) bool { return strings.HasPrefix(label(m, "endpoint"), "/admin/") }

// figuresOf computes the figures between the oldest and the newest sample of the window.
func figuresOf(samples []figuresSample) ServiceFigures {
	var fig ServiceFigures
	if len(samples) < 2 {
		return fig
	}
	first, last := samples[0], samples[len(samples)-1]
	dt := last.at.Sub(first.at).Seconds()
	if dt <= 0 {
		return fig
	}
	fig.WindowSeconds = dt
	requests := last.requests - first.requests
	rate := requests / dt
	fig.RequestRate = &rate
	if requests <= 0 {
		return fig
	}
	ratio := (last.errors - first.errors) / requests
	fig.ErrorRatio = &ratio
	if p99, ok := quantile(0.99, bucketDeltas(first.buckets, last.buckets)); ok {
		fig.P99Seconds = &p99
	}
	return fig
}

// bucketDeltas is how much each bucket of last grew since first (a bucket first lacks
// counts from zero).
func bucketDeltas(first, last []bucketCount) []bucketCount {
	before := map[float64]float64{}
	for _, b := range first {
		before[b.le] = b.count
	}
	out := make([]bucketCount, len(last))
	for i, b := range last {
		out[i] = bucketCount{b.le, b.count - before[b.le]}
	}
	return out
}

// quantile estimates the q-quantile of cumulative buckets (ascending bounds, +Inf last) the
// way PromQL's histogram_quantile does: linear inside the bucket the rank falls in, and the
// highest finite bound when it falls in +Inf.
func quantile(q float64, buckets []bucketCount) (float64, bool) {
	if len(buckets) < 2 || !math.IsInf(buckets[len(buckets)-1].le, 1) {
		return 0, false
	}
	total := buckets[len(buckets)-1].count
	if total <= 0 {
		return 0, false
	}
	rank := q * total
	// The first bucket whose count reaches the rank (counts never go down).
	i, _ := slices.BinarySearchFunc(buckets, rank, func(b bucketCount, rank float64) int { return cmpFloat(b.count, rank) })
	if i >= len(buckets)-1 {
		return buckets[len(buckets)-2].le, true
	}
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = buckets[i-1].le, buckets[i-1].count
	}
	upper := buckets[i].le
	if upper <= 0 || buckets[i].count == below {
		return upper, true
	}
	return lower + (upper-lower)*(rank-below)/(buckets[i].count-below), true
}
