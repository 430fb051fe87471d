package frontend

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
)

// TrafficConfig sets up the built-in traffic generator.
type TrafficConfig struct {
	Rate    float64 // requests per second; 0 turns the generator off
	Users   int     // simulated visitors, each with its own cookie jar (default 200)
	BaseURL string  // the frontend's own URL, e.g. http://127.0.0.1:8001

	// The seeded id ranges the ids are drawn from (defaults 5000 and 1000).
	MaxUserID    int64
	MaxProductID int64

	// MaxInFlight caps concurrent requests (default: one second's worth, between 4 and 256).
	// When the frontend is slower than the rate, ticks are skipped rather than piling up.
	MaxInFlight int
}

// The request mix, in percent: home, user and product pages, and requests that must fail.
const (
	homeShare    = 10
	userShare    = 50
	productShare = 35
	// badShare is the rest: 5
)

const (
	defaultTrafficUsers   = 200
	trafficRequestTimeout = 30 * time.Second
	trafficSummaryEvery   = time.Minute
	trafficUserAgent      = "pillars-traffic/1"
	// zipfS skews id popularity: with s=1.1 over 5000 users the hottest id gets about 15% of
	// the requests and most ids a handful, so the backend cache sees both hits and misses.
	zipfS = 1.1
)

func (c TrafficConfig) withDefaults() TrafficConfig {
	if c.Users <= 0 {
		c.Users = defaultTrafficUsers
	}
	if c.MaxUserID <= 0 {
		c.MaxUserID = DefaultMaxUserID
	}
	if c.MaxProductID <= 0 {
		c.MaxProductID = DefaultMaxProductID
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = min(max(int(c.Rate), 4), 256)
	}
	return c
}

// RunTraffic sends a realistic mix of requests to the frontend at cfg.Rate until ctx is
// cancelled, then waits for the requests in flight and returns nil. With Rate 0 it only waits
// for ctx. The requests are real HTTP requests, so each becomes a full trace; client must be
// a plain client (no tracing transport) so that the frontend's span is the trace's root. A nil
// client means a plain one; a nil logger discards.
func RunTraffic(ctx context.Context, cfg TrafficConfig, client *http.Client, logger *slog.Logger) error {
	return runTraffic(ctx, cfg, client, logger, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))
}

func runTraffic(ctx context.Context, cfg TrafficConfig, client *http.Client, logger *slog.Logger, rng *rand.Rand) error {
	if cfg.Rate < 0 {
		return errors.New("traffic: rate must not be negative")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Rate == 0 {
		<-ctx.Done()
		return nil
	}
	if !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return errors.New("traffic: base URL must be http(s)://host:port, got " + strconv.Quote(cfg.BaseURL))
	}
	cfg = cfg.withDefaults()
	if client == nil {
		client = &http.Client{}
	}
	g := &trafficGenerator{
		base:  strings.TrimSuffix(cfg.BaseURL, "/"),
		users: newSimulatedUsers(cfg.Users, client),
		mix:   newTrafficMix(rng, cfg.MaxUserID, cfg.MaxProductID),
		log:   logger,
	}
	logger.InfoContext(ctx, "Traffic generator started", "rate", cfg.Rate, "users", cfg.Users,
		"base_url", g.base, "max_in_flight", cfg.MaxInFlight)
	g.run(ctx, tickInterval(cfg.Rate), cfg.MaxInFlight)
	g.summarise(ctx, "Traffic generator stopped")
	return nil
}

// tickInterval is the time between two requests, never zero (a ticker panics on it).
func tickInterval(rate float64) time.Duration {
	return max(time.Duration(float64(time.Second)/rate), time.Microsecond)
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
func (g *trafficGenerator) idleUser() *simulatedUser {
	n := len(g.users)
	start := g.mix.rng.IntN(n)
	for i := range n {
		if u := g.users[(start+i)%n]; u.busy.CompareAndSwap(false, true) {
			return u
		}
	}
	return nil
}

type trafficGenerator struct {
	base  string
	users []*simulatedUser
	mix   *trafficMix // used by the pacing loop only: one goroutine, no lock
	log   *slog.Logger

	// counts since the last summary
	sent, ok, clientErrors, serverErrors, failed, skipped atomic.Int64
}

// run paces requests with a ticker: each tick starts one request if fewer than maxInFlight
// are running and some visitor is idle, and is skipped otherwise, so a slow frontend gets a
// bounded load, not a queue.
func (g *trafficGenerator) run(ctx context.Context, every time.Duration, maxInFlight int) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	summary := time.NewTicker(trafficSummaryEvery)
	defer summary.Stop()
	slots := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-summary.C:
			g.summarise(ctx, "Traffic generator summary")
		case <-tick.C:
			// A tick and the cancellation can be ready together; stopping wins.
			if ctx.Err() != nil {
				return
			}
			path, accept := g.mix.next()
			select {
			case slots <- struct{}{}:
			default:
				g.skipped.Add(1)
				continue
			}
			user := g.idleUser()
			if user == nil {
				<-slots
				g.skipped.Add(1)
				continue
			}
			g.sent.Add(1)
			wg.Go(func() {
				defer func() { user.busy.Store(false); <-slots }()
				g.send(ctx, user.client, path, accept)
			})
		}
	}
}

// send makes one request and reads the answer through, so the connection is reused.
// Stopping the generator does not cancel a request in flight: like a visitor whose page is
// loading, it waits for the answer, so a graceful shutdown shows no cancelled requests.
func (g *trafficGenerator) send(ctx context.Context, user *http.Client, path, accept string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), trafficRequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base+path, nil)
	if err != nil {
		g.failed.Add(1)
		return
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", trafficUserAgent)
	resp, err := user.Do(req)
	if err != nil {
		if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			g.failed.Add(1)
			g.log.DebugContext(ctx, "Traffic request failed", "path", path, "error", err.Error())
		}
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	switch {
	case resp.StatusCode < 400:
		g.ok.Add(1)
	case resp.StatusCode < 500:
		g.clientErrors.Add(1)
	default:
		g.serverErrors.Add(1)
	}
}

// summarise logs what was sent since the last summary: one line a minute instead of one per
// request (each request is already logged, with its trace, by the services).
func (g *trafficGenerator) summarise(ctx context.Context, msg string) {
	g.log.InfoContext(context.WithoutCancel(ctx), msg,
		"sent", g.sent.Swap(0),
		"ok", g.ok.Swap(0),
		"client_errors", g.clientErrors.Swap(0),
		"server_errors", g.serverErrors.Swap(0),
		"failed", g.failed.Swap(0),
		"skipped", g.skipped.Swap(0))
}

// trafficMix draws the next request: the page kind by the shares above, ids from a Zipf
// distribution over the seeded ranges (a few hot ids, a long tail), and a small share of
// requests that must fail (ids past the ranges, zero, negative, not numbers).
type trafficMix struct {
	rng                 *rand.Rand
	users, products     idDraw
	maxUser, maxProduct int64
}

func newTrafficMix(rng *rand.Rand, maxUser, maxProduct int64) *trafficMix {
	return &trafficMix{
		rng:        rng,
		users:      newIDDraw(rng, maxUser),
		products:   newIDDraw(rng, maxProduct),
		maxUser:    maxUser,
		maxProduct: maxProduct,
	}
}

const (
	acceptJSON    = "application/json"
	acceptBrowser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
)

// next returns the path and Accept header of the next request.
func (m *trafficMix) next() (path, accept string) {
	switch p := m.rng.IntN(100); {
	case p < homeShare:
		// Some visitors are browsers: the home page's HTML variant gets traffic too.
		if m.rng.IntN(3) == 0 {
			return "/", acceptBrowser
		}
		return "/", acceptJSON
	case p < homeShare+userShare:
		return "/user/" + strconv.FormatInt(m.users.next(), 10), acceptJSON
	case p < homeShare+userShare+productShare:
		return "/product/" + strconv.FormatInt(m.products.next(), 10), acceptJSON
	}
	return m.bad(), acceptJSON
}

// bad returns a path the services must refuse: mostly ids that do not exist (404), some that
// are not valid ids at all (400).
func (m *trafficMix) bad() string {
	switch p := m.rng.IntN(10); {
	case p < 4:
		return "/user/" + strconv.FormatInt(m.maxUser+1+m.rng.Int64N(1000), 10)
	case p < 7:
		return "/product/" + strconv.FormatInt(m.maxProduct+1+m.rng.Int64N(1000), 10)
	case p < 8:
		return "/user/" + [...]string{"abc", "12abc", "1.5", "one"}[m.rng.IntN(4)]
	case p < 9:
		return "/product/" + [...]string{"xyz", "0x10", "7e3"}[m.rng.IntN(3)]
	}
	return [...]string{"/user/0", "/user/-1", "/product/0", "/product/-42"}[m.rng.IntN(4)]
}

// idDraw draws ids 1..n with Zipf popularity. The popularity rank is spread over the range by a
// stride coprime with n, so the hot ids are not simply 1, 2, 3 (which would look staged).
type idDraw struct {
	zipf   *rand.Zipf
	n      int64
	stride int64
}

func newIDDraw(rng *rand.Rand, n int64) idDraw {
	d := idDraw{n: n, stride: 1}
	if n > 1 {
		d.zipf = rand.NewZipf(rng, zipfS, 1, uint64(n-1))
		for s := n*5/8 + 1; s < 2*n; s++ {
			if gcd(s, n) == 1 {
				d.stride = s
				break
			}
		}
	}
	return d
}

func (d idDraw) next() int64 {
	if d.zipf == nil {
		return 1
	}
	rank := int64(d.zipf.Uint64()) // 0 is the most popular
	return 1 + (rank+1)*d.stride%d.n
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
