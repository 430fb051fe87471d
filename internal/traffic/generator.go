// Package traffic is the frontend's built-in traffic generator: simulated visitors, each with
// its own cookie, loading the frontend's pages over real HTTP, so that every request becomes a
// full trace with its logs and metrics, marked as synthetic (baggage synthetic_request=true). It always exists, idle at rate 0, and is steered at
// runtime: the rate, the mix of requests, a pause, and shapes (steady, ramp, spike, wave) for
// a while or for good, through GET/PUT/PATCH /admin/traffic or by scenarios. What it sent is
// counted by outcome in pillars_traffic_requests_total.
//
// It knows nothing of the frontend but its URL; it imports faults (for its duration type)
// and telemetry only.
package traffic

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Config sets up a generator.
type Config struct {
	// BaseURL is where the frontend is, e.g. http://127.0.0.1:8001. Without it the generator
	// can only be idle.
	BaseURL string
	// Users is the number of simulated visitors (default 200).
	Users int
	// The seeded id ranges the ids are drawn from (defaults 5000 and 1000).
	MaxUserID    int64
	MaxProductID int64
	// MaxInFlight caps concurrent requests (default: one second's worth at the current rate,
	// between 4 and 256). When the frontend is slower than the rate, requests are skipped
	// rather than piling up.
	MaxInFlight int
	// Initial are the settings at start (Defaults(rate) for a rate).
	Initial Settings
	// Client sends the requests; it must be plain (no tracing transport) so that the
	// frontend's span is the trace's root. Nil means one with a 10 s timeout.
	Client *http.Client
	// Logger gets a line per change and a summary a minute; nil discards.
	Logger *slog.Logger
	// Registry gets pillars_traffic_*; nil registers nothing.
	Registry prometheus.Registerer
}

const (
	defaultUsers        = 200
	defaultMaxUserID    = 5000
	defaultMaxProductID = 1000
	requestTimeout      = 30 * time.Second
	summaryEvery        = time.Minute
	userAgent           = "pillars-traffic/1"
	// idlePoll is the longest the pacing loop sleeps without looking at the settings again:
	// a temporary change ends, or a shape rises from 0, within this much.
	idlePoll = 250 * time.Millisecond
)

// Generator is the traffic generator. Its settings may change at any time; Run sends.
type Generator struct {
	cfg   Config
	base  string
	users []*simulatedUser
	log   *slog.Logger

	mu      sync.Mutex
	current plan
	changed chan struct{} // wakes the pacing loop after a change

	running  atomic.Bool
	inFlight atomic.Int64
	counts   outcomeCounts
	metrics  *metrics
	recent   recentRing
}

// plan is settings in effect since a time, and what comes back after a temporary change.
type plan struct {
	settings Settings
	since    time.Time // shapes count from here
	until    time.Time // zero: for good
	then     *plan     // in effect again at until
}

// New returns an idle generator (Run starts the sending) with cfg.Initial in effect.
func New(cfg Config) (*Generator, error) {
	if cfg.Users <= 0 {
		cfg.Users = defaultUsers
	}
	if cfg.MaxUserID <= 0 {
		cfg.MaxUserID = defaultMaxUserID
	}
	if cfg.MaxProductID <= 0 {
		cfg.MaxProductID = defaultMaxProductID
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BaseURL != "" && !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return nil, errors.New("traffic: base URL must be http(s)://host:port, got " + strconv.Quote(cfg.BaseURL))
	}
	initial := cfg.Initial
	if initial.Mix == (Mix{}) {
		initial.Mix = DefaultMix
	}
	if err := initial.Check(); err != nil {
		return nil, errors.New("traffic: " + err.Error())
	}
	if initial.Rate > 0 && cfg.BaseURL == "" {
		return nil, errors.New("traffic: a rate needs the frontend's URL")
	}
	g := &Generator{
		cfg:     cfg,
		base:    strings.TrimSuffix(cfg.BaseURL, "/"),
		users:   newSimulatedUsers(cfg.Users, cfg.Client),
		log:     cfg.Logger,
		current: plan{settings: initial, since: time.Now()},
		changed: make(chan struct{}, 1),
	}
	if cfg.Registry != nil {
		m, err := newMetrics(cfg.Registry, g.TargetRate)
		if err != nil {
			return nil, err
		}
		g.metrics = m
	}
	return g, nil
}

// Status is what GET /admin/traffic answers: the settings in effect, the rate they ask for at
// this moment, and, during a temporary change, when it ends and what comes back then.
type Status struct {
	Settings
	TargetRate float64    `json:"target_rate"`
	Running    bool       `json:"running"`
	Until      *time.Time `json:"until,omitempty"`
	Then       *Settings  `json:"then,omitempty"`
}

// Status returns the settings in effect now.
func (g *Generator) Status() Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	p := g.planAt(now)
	st := Status{Settings: p.settings, TargetRate: p.rateAt(now), Running: g.running.Load()}
	if !p.until.IsZero() {
		until := p.until
		st.Until = &until
		then := p.then.settings
		st.Then = &then
	}
	return st
}

// Lasting returns the settings that hold for good: those in effect, or during a temporary
// change the ones that come back after it.
func (g *Generator) Lasting() Settings {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.planAt(time.Now())
	if p.then != nil {
		return p.then.settings
	}
	return p.settings
}

// TargetRate is the rate the settings ask for now, in requests per second.
func (g *Generator) TargetRate() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	return g.planAt(now).rateAt(now)
}

// Apply puts a checked change into effect (see DecodeChange): for good, or for its duration,
// after which the settings in effect before it come back.
func (g *Generator) Apply(c Change) (Status, error) {
	if c.Rate > 0 || c.Peak > 0 {
		if g.base == "" {
			return Status{}, invalid("this frontend does not know its own URL, so it cannot send traffic")
		}
	}
	g.mu.Lock()
	now := time.Now()
	prev := g.planAt(now)
	s := c.Settings
	if s.Shape == Ramp && s.From == nil {
		from := prev.rateAt(now)
		s.From = &from
	}
	next := plan{settings: s, since: now}
	if d := c.Duration.D(); d > 0 {
		next.until = now.Add(d)
		back := prev
		if prev.then != nil { // a temporary change replaced by another: the lasting one comes back
			back = *prev.then
		}
		back.until, back.then = time.Time{}, nil
		next.then = &back
	}
	g.current = next
	g.mu.Unlock()
	select {
	case g.changed <- struct{}{}:
	default:
	}
	g.log.Info("Traffic changed", "traffic", s.Describe(), "duration", c.Duration.D().String())
	return g.Status(), nil
}

// planAt returns the plan in effect at now, ending a temporary change whose time is up. The
// caller holds mu.
func (g *Generator) planAt(now time.Time) plan {
	if p := g.current; !p.until.IsZero() && !now.Before(p.until) {
		g.current = *p.then
		g.log.Info("Traffic back to its lasting settings", "traffic", g.current.settings.Describe())
	}
	return g.current
}

func (p plan) rateAt(now time.Time) float64 { return p.settings.rateAt(now.Sub(p.since)) }

// Run sends requests as the settings say until ctx is cancelled, then waits for the requests
// in flight and returns. Requests are real HTTP requests, so each becomes a full trace.
func (g *Generator) Run(ctx context.Context) {
	if !g.running.CompareAndSwap(false, true) {
		return
	}
	defer g.running.Store(false)
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	g.run(ctx, newRequestDraw(rng, g.cfg.MaxUserID, g.cfg.MaxProductID), rng)
}

// run paces requests: each one is due one interval (at the rate asked for now) after the
// previous one. A due request starts if fewer than the cap are in flight and some visitor is
// idle, and is skipped otherwise, so that a slow frontend gets a bounded load, not a queue.
func (g *Generator) run(ctx context.Context, draw *requestDraw, rng *rand.Rand) {
	st := g.Status()
	g.log.InfoContext(ctx, "Traffic generator started", "traffic", st.Describe(), "users", len(g.users), "base_url", g.base)
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		g.summarise(ctx, "Traffic generator stopped")
	}()
	summary := time.NewTicker(summaryEvery)
	defer summary.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last time.Time // when the previous request was due; zero while idle
	for {
		now := time.Now()
		rate := g.TargetRate()
		wait := idlePoll
		var due time.Time
		if rate > 0 && g.base != "" {
			if last.IsZero() {
				last = now
			}
			due = last.Add(interval(rate))
			if due.Before(now) {
				due = now // far behind (a slow loop or a higher rate): no burst to catch up
			}
			wait = min(due.Sub(now), idlePoll)
		} else {
			last = time.Time{}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-g.changed:
			continue
		case <-summary.C:
			g.summarise(ctx, "Traffic generator summary")
			continue
		case <-timer.C:
		}
		// A due request and the cancellation can be ready together; stopping wins.
		if ctx.Err() != nil {
			return
		}
		if due.IsZero() || time.Now().Before(due) || g.TargetRate() <= 0 {
			continue // woke up to look at the settings again, or paused meanwhile
		}
		last = due
		g.start(ctx, &wg, draw, rng, rate)
	}
}

// interval is the time between two requests at rate, never zero.
func interval(rate float64) time.Duration {
	return max(time.Duration(float64(time.Second)/rate), time.Microsecond)
}

// start sends the next request, unless the cap of requests in flight is reached or every
// visitor is busy: then the request is skipped.
func (g *Generator) start(ctx context.Context, wg *sync.WaitGroup, draw *requestDraw, rng *rand.Rand, rate float64) {
	g.mu.Lock()
	mix := g.current.settings.Mix
	g.mu.Unlock()
	path, accept := draw.next(mix)
	limit := int64(g.cfg.MaxInFlight)
	if limit <= 0 {
		limit = int64(min(max(int(rate), 4), 256))
	}
	if g.inFlight.Add(1) > limit {
		g.inFlight.Add(-1)
		g.count(outcomeSkipped)
		return
	}
	user := g.idleUser(rng)
	if user == nil {
		g.inFlight.Add(-1)
		g.count(outcomeSkipped)
		return
	}
	wg.Go(func() {
		defer func() { user.busy.Store(false); g.inFlight.Add(-1) }()
		g.count(g.send(ctx, user.client, path, accept))
	})
}

// send makes one request and reads the answer through, so the connection is reused.
// Stopping the generator does not cancel a request in flight: like a visitor whose page is
// loading, it waits for the answer, so a graceful shutdown shows no cancelled requests.
func (g *Generator) send(ctx context.Context, user *http.Client, path, accept string) outcome {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base+path, nil)
	if err != nil {
		return outcomeFailed
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", userAgent)
	telemetry.MarkSynthetic(req.Header) // a person's requests can be told apart from these
	start := time.Now()
	resp, err := user.Do(req)
	if err != nil {
		g.log.DebugContext(ctx, "Traffic request failed", "path", path, "error", err.Error())
		g.recent.add(sent(start, path, nil, outcomeFailed))
		return outcomeFailed
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	o := outcomeOf(resp.StatusCode)
	g.recent.add(sent(start, path, resp, o))
	return o
}

// simulatedUser is one visitor: a client sharing the generator's transport (one connection
// pool) but with its own cookie jar, so the frontend tells visitors apart by their cookie as it
// would browsers. Like a person, a visitor loads one page at a time: that also keeps its first
// requests from racing for two different cookies.
type simulatedUser struct {
	client *http.Client
	busy   atomic.Bool
}

func newSimulatedUsers(n int, client *http.Client) []*simulatedUser {
	users := make([]*simulatedUser, n)
	for i := range users {
		jar, _ := cookiejar.New(nil) // never fails without options
		c := *client
		c.Jar = jar
		users[i] = &simulatedUser{client: &c}
	}
	return users
}

// idleUser picks a random visitor that has no request in flight, nil when all are busy.
func (g *Generator) idleUser(rng *rand.Rand) *simulatedUser {
	n := len(g.users)
	start := rng.IntN(n)
	for i := range n {
		if u := g.users[(start+i)%n]; u.busy.CompareAndSwap(false, true) {
			return u
		}
	}
	return nil
}
