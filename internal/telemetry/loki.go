package telemetry

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
)

// LokiConfig says where and how logs are pushed. An empty URL turns shipping off.
type LokiConfig struct {
	URL        string        // push endpoint, e.g. http://127.0.0.1:3100/loki/api/v1/push
	BatchWait  time.Duration // longest an entry waits before its batch is sent (default 1s)
	BatchSize  int           // entries per push at most (default 1000)
	BatchBytes int           // bytes of log lines per push at most (default 1 MiB)
	Buffer     int           // entries held while Loki is slow or down; past it they are dropped (default 5000)
	Retries    int           // attempts after the first for one batch (default 5)
	MinBackoff time.Duration // first retry delay, growing with jitter up to MaxBackoff (defaults 250ms, 5s)
	MaxBackoff time.Duration
	Timeout    time.Duration // per push (default 5s)
}

// maxRetryAfter caps how long a Retry-After answer may hold a batch back: meanwhile new lines
// queue in the bounded buffer, and past it they are dropped.
const maxRetryAfter = 30 * time.Second

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
	done    chan struct{}
	// ctx ends every push in flight when Close runs out of time; stopping, a child of it,
	// ends when Close begins, which stops waiting between retries.
	ctx       context.Context
	cancel    context.CancelFunc
	stopping  context.Context
	beginStop context.CancelFunc
	// raw and body are reused from batch to batch by the single sending goroutine, so
	// steady-state shipping allocates no new buffers. A push's body may still be read by the
	// transport after Do returns, so a buffer is written again only once every request that
	// read it has closed its body (see sentBody).
	raw, body []byte

	shipped prometheus.Counter
	dropped *prometheus.CounterVec
}

func newLokiShipper(cfg LokiConfig, labels map[string]string, reg prometheus.Registerer) (*lokiShipper, error) {
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("loki url %q: want an http(s) URL", cfg.URL)
	}
	setDefault(&cfg.BatchWait, time.Second)
	setDefault(&cfg.BatchSize, 1000)
	setDefault(&cfg.BatchBytes, 1<<20)
	setDefault(&cfg.Buffer, 5000)
	setDefault(&cfg.MinBackoff, 250*time.Millisecond)
	setDefault(&cfg.MaxBackoff, 5*time.Second)
	setDefault(&cfg.Timeout, 5*time.Second)
	if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopping, beginStop := context.WithCancel(ctx)
	s := &lokiShipper{
		cfg:    cfg,
		labels: labels,
		// A push is never redirected: a redirect means a wrong URL, and following it would
		// send the body again somewhere else.
		client: &http.Client{Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		entries:   make(chan lokiEntry, cfg.Buffer),
		flushes:   make(chan chan struct{}),
		done:      make(chan struct{}),
		ctx:       ctx,
		cancel:    cancel,
		stopping:  stopping,
		beginStop: beginStop,
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

// Close sends what is buffered, one attempt per batch, and stops the shipper. When ctx ends
// first, the push in flight is aborted and what was not sent is counted as dropped.
func (s *lokiShipper) Close(ctx context.Context) error {
	s.beginStop()
	select {
	case <-s.done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		<-s.done
		return fmt.Errorf("loki: flush on shutdown: %w", ctx.Err())
	}
}

func (s *lokiShipper) run() {
	defer close(s.done)
	batch := make([]lokiEntry, 0, s.cfg.BatchSize)
	bytes := 0
	timer := time.NewTimer(s.cfg.BatchWait)
	defer timer.Stop()
	flush := func(final bool) {
		if len(batch) > 0 {
			s.send(batch, final)
			batch, bytes = batch[:0], 0
		}
		timer.Reset(s.cfg.BatchWait)
	}
	add := func(e lokiEntry, final bool) {
		batch = append(batch, e)
		bytes += len(e.line)
		if len(batch) >= s.cfg.BatchSize || bytes >= s.cfg.BatchBytes {
			flush(final)
		}
	}
	// drain sends everything queued right now.
	drain := func(final bool) {
		for {
			select {
			case e := <-s.entries:
				add(e, final)
			default:
				flush(final)
				return
			}
		}
	}
	for {
		select {
		case e := <-s.entries:
			add(e, false)
		case <-timer.C:
			flush(false)
		case done := <-s.flushes:
			drain(false)
			close(done)
		case <-s.stopping.Done():
			drain(true)
			return
		}
	}
}

// send pushes one batch, retrying with exponential backoff and jitter on network errors, 429
// and 5xx, and waiting as long as a Retry-After answer asks (bounded). On shutdown (final) it
// makes a single attempt so that a dead Loki cannot hold the exit; a shutdown that begins
// while a batch waits for its next retry gives that batch one last attempt.
func (s *lokiShipper) send(batch []lokiEntry, final bool) {
	s.raw = appendPushRequest(s.raw[:0], s.streams(batch))
	s.body = snappy.Encode(s.body[:cap(s.body)], s.raw)
	var bodies sentBodies
	defer bodies.wait() // s.body is not written again before the transport is done reading it

	attempt := func() (struct{}, error) { return struct{}{}, s.push(s.ctx, bodies.track(s.body)) }
	var err error
	if final {
		_, err = attempt()
	} else {
		_, err = backoff.Retry(s.stopping, attempt,
			backoff.WithBackOff(&backoff.ExponentialBackOff{
				InitialInterval:     s.cfg.MinBackoff,
				RandomizationFactor: 0.5,
				Multiplier:          2,
				MaxInterval:         s.cfg.MaxBackoff,
			}),
			backoff.WithMaxTries(uint(1+s.cfg.Retries)),
			backoff.WithMaxElapsedTime(0))
		shuttingDown := s.stopping.Err() != nil && s.ctx.Err() == nil
		if err != nil && shuttingDown && isRetryable(err) {
			_, err = attempt()
		}
	}
	switch {
	case err == nil:
		s.shipped.Add(float64(len(batch)))
	case isRetryable(err):
		s.dropped.WithLabelValues("send_failed").Add(float64(len(batch)))
	default:
		s.dropped.WithLabelValues("rejected").Add(float64(len(batch)))
	}
}

// errRejected marks an answer that retrying cannot change (4xx other than 429).
var errRejected = errors.New("loki push rejected")

func isRetryable(err error) bool { return err != nil && !errors.Is(err, errRejected) }

// push makes one attempt. A 4xx other than 429 is permanent; 429 and 503 may say how long to
// wait with Retry-After.
func (s *lokiShipper) push(ctx context.Context, body io.Reader) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, body)
	if err != nil {
		return backoff.Permanent(fmt.Errorf("%w: %v", errRejected, err))
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("User-Agent", "pillars-loki-shipper")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		err := fmt.Errorf("loki push: %s: %s", resp.Status, msg)
		if wait, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return errors.Join(err, backoff.RetryAfter(int(min(wait, maxRetryAfter).Seconds())))
		}
		return err
	default:
		return backoff.Permanent(fmt.Errorf("%w: %s: %s", errRejected, resp.Status, msg))
	}
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// sentBodies tracks the request bodies made from one buffer, so that the buffer is reused
// only after the transport has closed every one of them. net/http may go on reading a body
// after Do returns (when the server answers before reading it all), and always closes it.
type sentBodies struct {
	closed []chan struct{}
}

func (b *sentBodies) track(buf []byte) io.ReadCloser {
	c := &sentBody{Reader: bytes.NewReader(buf), closed: make(chan struct{})}
	b.closed = append(b.closed, c.closed)
	return c
}

func (b *sentBodies) wait() {
	for _, c := range b.closed {
		<-c
	}
}

type sentBody struct {
	*bytes.Reader
	once   sync.Once
	closed chan struct{}
}

func (b *sentBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

// streams groups a batch by level: service and environment are the same for every entry, so
// a batch makes at most a handful of streams, and the stream count in Loki stays tiny. The
// batch is sorted by level in place (keeping each level's order), so that every stream is a
// slice of it rather than a copy.
func (s *lokiShipper) streams(batch []lokiEntry) []lokiStream {
	slices.SortStableFunc(batch, func(a, b lokiEntry) int { return cmp.Compare(a.level, b.level) })
	var out []lokiStream
	for start := 0; start < len(batch); {
		end := start + 1
		for end < len(batch) && batch[end].level == batch[start].level {
			end++
		}
		out = append(out, lokiStream{labels: s.labelString(levelName(batch[start].level)), entries: batch[start:end]})
		start = end
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
