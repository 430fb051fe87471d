package telemetry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
)

// LokiConfig says where and how logs are pushed. An empty URL turns shipping off.
type LokiConfig struct {
	URL        string        // push endpoint, e.g. http://127.0.0.1:3100/loki/api/v1/push
	BatchWait  time.Duration // longest an entry waits before its batch is sent (default 1s)
	BatchSize  int           // entries per push (default 1000)
	Buffer     int           // entries held while Loki is slow or down; past it they are dropped (default 10000)
	Retries    int           // attempts after the first for one batch (default 5)
	MinBackoff time.Duration // first retry delay, doubled each time up to MaxBackoff (defaults 250ms, 5s)
	MaxBackoff time.Duration
	Timeout    time.Duration // per push (default 5s)
}

type lokiEntry struct {
	ts      time.Time
	level   slog.Level
	traceID string
	spanID  string
	line    string
}

// lokiShipper batches log entries in the background. The request path only does a
// non-blocking channel send: when Loki is down the buffer fills and entries are dropped and
// counted, never waited for.
type lokiShipper struct {
	cfg     LokiConfig
	labels  map[string]string
	client  *http.Client
	entries chan lokiEntry
	flushes chan chan struct{}
	stop    chan struct{}
	// raw and body are reused from batch to batch by the single sending goroutine, so
	// steady-state shipping allocates no new buffers.
	raw, body []byte
	done      chan struct{}

	shipped prometheus.Counter
	dropped *prometheus.CounterVec
}

func newLokiShipper(cfg LokiConfig, labels map[string]string, reg prometheus.Registerer) (*lokiShipper, error) {
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("loki url %q: want an http(s) URL", cfg.URL)
	}
	setDefault(&cfg.BatchWait, time.Second)
	setDefault(&cfg.BatchSize, 1000)
	setDefault(&cfg.Buffer, 10000)
	setDefault(&cfg.MinBackoff, 250*time.Millisecond)
	setDefault(&cfg.MaxBackoff, 5*time.Second)
	setDefault(&cfg.Timeout, 5*time.Second)
	if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	s := &lokiShipper{
		cfg:     cfg,
		labels:  labels,
		client:  &http.Client{Timeout: cfg.Timeout},
		entries: make(chan lokiEntry, cfg.Buffer),
		flushes: make(chan chan struct{}),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		shipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pillars_log_entries_shipped_total",
			Help: "Log entries accepted by the Loki push endpoint.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pillars_log_entries_dropped_total",
			Help: "Log entries that never reached Loki, by reason: buffer_full, send_failed, rejected.",
		}, []string{"reason"}),
	}
	for _, r := range []string{"buffer_full", "send_failed", "rejected"} {
		s.dropped.WithLabelValues(r) // export zeros so rate() and alerts see the series from the start
	}
	reg.MustRegister(s.shipped, s.dropped)
	go s.run()
	return s, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

func (s *lokiShipper) enqueue(e lokiEntry) {
	select {
	case s.entries <- e:
	default:
		s.dropped.WithLabelValues("buffer_full").Inc()
	}
}

// Flush sends what is buffered now and waits until it was sent (or given up), or until ctx
// is done.
func (s *lokiShipper) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case s.flushes <- done:
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close sends what is buffered, retrying until ctx is done, and stops the shipper.
func (s *lokiShipper) Close(ctx context.Context) error {
	close(s.stop)
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("loki: flush on shutdown: %w", ctx.Err())
	}
}

func (s *lokiShipper) run() {
	defer close(s.done)
	batch := make([]lokiEntry, 0, s.cfg.BatchSize)
	timer := time.NewTimer(s.cfg.BatchWait)
	defer timer.Stop()
	flush := func(final bool) {
		if len(batch) > 0 {
			s.send(batch, final)
			batch = batch[:0]
		}
		timer.Reset(s.cfg.BatchWait)
	}
	// drain sends everything queued right now.
	drain := func(final bool) {
		for {
			select {
			case e := <-s.entries:
				batch = append(batch, e)
				if len(batch) >= s.cfg.BatchSize {
					flush(final)
				}
			default:
				flush(final)
				return
			}
		}
	}
	for {
		select {
		case e := <-s.entries:
			batch = append(batch, e)
			if len(batch) >= s.cfg.BatchSize {
				flush(false)
			}
		case <-timer.C:
			flush(false)
		case done := <-s.flushes:
			drain(false)
			close(done)
		case <-s.stop:
			drain(true)
			return
		}
	}
}

// send pushes one batch, retrying with exponential backoff on network errors, 429 and 5xx.
// On shutdown (final) it makes a single attempt so that a dead Loki cannot hold the exit.
func (s *lokiShipper) send(batch []lokiEntry, final bool) {
	s.raw = appendPushRequest(s.raw[:0], s.streams(batch))
	s.body = snappy.Encode(s.body[:cap(s.body)], s.raw)
	body := s.body
	backoff := s.cfg.MinBackoff
	attempts := 1 + s.cfg.Retries
	if final {
		attempts = 1
	}
	for attempt := 1; ; attempt++ {
		retry, err := s.push(body)
		if err == nil {
			s.shipped.Add(float64(len(batch)))
			return
		}
		if !retry {
			s.dropped.WithLabelValues("rejected").Add(float64(len(batch)))
			return
		}
		if attempt >= attempts {
			s.dropped.WithLabelValues("send_failed").Add(float64(len(batch)))
			return
		}
		select {
		case <-time.After(backoff):
		case <-s.stop:
			attempts = attempt + 1 // one last try, then give up
		}
		backoff = min(2*backoff, s.cfg.MaxBackoff)
	}
}

func (s *lokiShipper) push(body []byte) (retry bool, err error) {
	req, err := http.NewRequest(http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("User-Agent", "pillars-loki-shipper")
	resp, err := s.client.Do(req)
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	switch {
	case resp.StatusCode/100 == 2:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("loki push: %s: %s", resp.Status, msg)
	default:
		return false, errors.New("loki push rejected: " + resp.Status + ": " + string(msg))
	}
}

// streams groups a batch by level: service and environment are the same for every entry, so
// a batch makes at most a handful of streams, and the stream count in Loki stays tiny.
func (s *lokiShipper) streams(batch []lokiEntry) []lokiStream {
	byLevel := map[slog.Level]*lokiStream{}
	var order []slog.Level
	for _, e := range batch {
		st, ok := byLevel[e.level]
		if !ok {
			st = &lokiStream{labels: s.labelString(levelName(e.level))}
			byLevel[e.level] = st
			order = append(order, e.level)
		}
		st.entries = append(st.entries, e)
	}
	out := make([]lokiStream, 0, len(order))
	for _, l := range order {
		out = append(out, *byLevel[l])
	}
	return out
}

func (s *lokiShipper) labelString(level string) string {
	keys := make([]string, 0, len(s.labels)+1)
	for k := range s.labels {
		keys = append(keys, k)
	}
	keys = append(keys, "level")
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		v := s.labels[k]
		if k == "level" {
			v = level
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%q", k, v)
	}
	b.WriteByte('}')
	return b.String()
}

func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warn"
	case l >= slog.LevelInfo:
		return "info"
	default:
		return "debug"
	}
}
