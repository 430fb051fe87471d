// Package frontend is the pillars frontend service (:8001): the entry point of every trace.
// It answers GET /, /user/{id} and /product/{id} by calling the backend (JSON, or a page for a
// browser), maps the backend's failures to fitting 4xx/5xx answers, counts distinct active
// visitors, and hosts the traffic generator (package traffic) that makes the whole system
// produce realistic telemetry on its own, steered through /admin/traffic, the scenario runner,
// and the console at /console.
package frontend

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/pillars-o11y/pillars/internal/backend"
	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/scenarios"
	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/traffic"
)

// Config is the frontend's configuration, filled by cmd. Zero values take the defaults.
type Config struct {
	// BackendTimeout bounds each call to the backend (default 5s); past it the answer is 504.
	BackendTimeout time.Duration
	// ActiveWindow is how recently a visitor must have been seen to count in
	// frontend_active_users (default 1m).
	ActiveWindow time.Duration
	// MaxVisitors bounds the memory of the active-visitor tracker (default 100000); past it
	// the least recently seen visitor is forgotten.
	MaxVisitors int
	// MaxUserID and MaxProductID are the seeded id ranges (defaults 5000 and 1000), used for
	// the links of the home page.
	MaxUserID    int64
	MaxProductID int64
	// ContinueIncomingTraces makes the frontend continue a caller's W3C trace context instead
	// of starting a new trace linked to it: for a frontend behind a traced proxy of your own.
	ContinueIncomingTraces bool

	// BackendURL is where the backend is (http://127.0.0.1:8002).
	BackendURL string
	// SelfURL is the frontend's own URL, where its traffic generator sends; without it the
	// generator stays idle.
	SelfURL string
	// TrafficRate and TrafficUsers are the built-in traffic at start: requests per second
	// (0: idle until told otherwise) and simulated visitors (default 200).
	TrafficRate  float64
	TrafficUsers int
	// Faults are the faults at start (changed at runtime through /admin/faults).
	Faults faults.Frontend
	// RequestFaults lets one request break itself with the X-Pillars-Fault header.
	RequestFaults bool
	// Admin protects /admin/*; its token is also what the frontend sends to the other
	// services' admin APIs when it runs a scenario.
	Admin telemetry.AdminConfig

	// Scenarios is the library the frontend's scenario runner offers (/admin/scenarios); nil
	// serves no scenarios.
	Scenarios *scenarios.Library
	// DatabaseURL is where the database service is, for its admin API only (a scenario's
	// database faults): the frontend never reads data from it.
	DatabaseURL string
	// Scenario is started at once, by name ("" for none).
	Scenario string
	// Chaos starts a random scenario at this interval while none runs (0: off); ChaosBlind
	// runs them blind.
	Chaos      time.Duration
	ChaosBlind bool

	// TraceURLTemplate links the trace id on every page to a trace viewer: an http(s) URL
	// with {trace_id} where the id goes. Without one the pages show the command that prints
	// the trace.
	TraceURLTemplate string
}

// Defaults of Config, the seeded id ranges of the contract among them.
const (
	DefaultBackendTimeout = 5 * time.Second
	DefaultActiveWindow   = time.Minute
	DefaultMaxVisitors    = 100_000
	DefaultMaxUserID      = 5000
	DefaultMaxProductID   = 1000
)

func (c Config) withDefaults() Config {
	if c.BackendTimeout <= 0 {
		c.BackendTimeout = DefaultBackendTimeout
	}
	if c.ActiveWindow <= 0 {
		c.ActiveWindow = DefaultActiveWindow
	}
	if c.MaxVisitors <= 0 {
		c.MaxVisitors = DefaultMaxVisitors
	}
	if c.MaxUserID <= 0 {
		c.MaxUserID = DefaultMaxUserID
	}
	if c.MaxProductID <= 0 {
		c.MaxProductID = DefaultMaxProductID
	}
	return c
}

// Service is the frontend: its handlers, metrics and visitor tracker.
type Service struct {
	cfg       Config
	tel       *telemetry.Telemetry
	be        *backend.Client
	faults    *faults.Switch[faults.Frontend]
	guard     *telemetry.AdminGuard
	metrics   *metrics
	visitors  *visitorTracker
	health    *telemetry.Health
	pages     pages
	links     traceLinks
	homeLinks homeLinks
	console   *console

	handler func() http.Handler

	stopPruner context.CancelFunc
	prunerDone chan struct{}

	traffic     *traffic.Generator
	trafficMu   sync.Mutex
	stopTraffic func()

	runner *scenarios.Runner // nil without a library
}

// New builds the frontend, calling the backend at cfg.BackendURL. It starts the background
// pruner of the visitor tracker, which runs until Close or until ctx is cancelled, and leaves
// the service ready.
func New(ctx context.Context, cfg Config, tel *telemetry.Telemetry) (*Service, error) {
	if tel == nil || cfg.BackendURL == "" {
		return nil, errors.New("frontend: telemetry and the backend's URL are required")
	}
	cfg = cfg.withDefaults()
	if err := CheckTraceURLTemplate(cfg.TraceURLTemplate); err != nil {
		return nil, fmt.Errorf("frontend: %w", err)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	// The frontend is the edge: the request faults that travel inward are the ones it
	// admitted from X-Pillars-Fault, never a client's own pillars.fault baggage.
	sw, err := faults.NewSwitch("frontend", cfg.Faults, nil, faults.AtEdge(),
		faults.WithChoices("routes", routeTemplates()), faults.WithRegistry(tel.Registry), faults.WithErrorWriter(tel.WriteError))
	if err != nil {
		return nil, fmt.Errorf("frontend: %w", err)
	}
	be := backend.NewClient(cfg.BackendURL, tel.NewClient(telemetry.WithTransport(func(rt http.RoundTripper) http.RoundTripper {
		return faults.Transport(rt, sw)
	})))
	s := &Service{
		cfg:       cfg,
		tel:       tel,
		be:        be,
		faults:    sw,
		guard:     tel.Guard(cfg.Admin),
		visitors:  newVisitorTracker(cfg.ActiveWindow, cfg.MaxVisitors),
		pages:     pages,
		links:     traceLinks{template: cfg.TraceURLTemplate},
		homeLinks: newHomeLinks(cfg.MaxUserID, cfg.MaxProductID),
		// Health checks use a plain client: probing the backend every few seconds must not
		// fill the trace store.
		health: tel.NewHealth(telemetry.Dependency{
			Name:  "backend",
			Check: telemetry.CheckURL(&http.Client{Timeout: time.Second}, be.Healthz()),
		}),
		prunerDone: make(chan struct{}),
	}
	s.metrics = newMetrics(tel.Registry, s.visitors)
	s.traffic, err = traffic.New(traffic.Config{
		BaseURL:      cfg.SelfURL,
		Users:        cfg.TrafficUsers,
		MaxUserID:    cfg.MaxUserID,
		MaxProductID: cfg.MaxProductID,
		Initial:      traffic.Defaults(cfg.TrafficRate),
		// A plain client: the frontend's span must be the root of every generated trace.
		Client:   &http.Client{Timeout: 10 * time.Second},
		Logger:   tel.Logger,
		Registry: tel.Registry,
	})
	if err != nil {
		return nil, fmt.Errorf("frontend: %w", err)
	}
	if cfg.Scenarios != nil {
		if s.runner, err = s.newRunner(cfg, sw); err != nil {
			return nil, fmt.Errorf("frontend: %w", err)
		}
	}
	s.console = s.newConsole(cfg)
	s.handler = sync.OnceValue(s.routes)
	pctx, cancel := context.WithCancel(ctx)
	s.stopPruner = cancel
	go func() {
		defer close(s.prunerDone)
		s.visitors.pruneEvery(pctx, pruneInterval(cfg.ActiveWindow))
	}()
	s.health.SetReady(true)
	return s, nil
}

// pruneInterval frees forgotten visitors a few times per window, so memory follows the
// active population even when nobody scrapes the gauge.
func pruneInterval(window time.Duration) time.Duration {
	return max(window/6, time.Second)
}

// SetReady flips /ready (false while shutting down).
func (s *Service) SetReady(ready bool) { s.health.SetReady(ready) }

// StartTraffic starts the built-in traffic generator, which sends as its settings say (idle
// at rate 0) until StopTraffic. Call it once the frontend serves.
func (s *Service) StartTraffic() {
	s.trafficMu.Lock()
	defer s.trafficMu.Unlock()
	if s.stopTraffic != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.traffic.Run(ctx)
	}()
	s.stopTraffic = func() { cancel(); <-done }
}

// StopTraffic stops the traffic generator and waits for its requests in flight: the first
// step of a shutdown, so that the frontend drains without feeding itself.
func (s *Service) StopTraffic() {
	s.trafficMu.Lock()
	stop := s.stopTraffic
	s.stopTraffic = nil
	s.trafficMu.Unlock()
	if stop != nil {
		stop()
	}
}

// Close stops the traffic generator, the scenario runner (clearing the faults of a scenario
// still running, while the services behind are still up) and the background pruner.
func (s *Service) Close() error {
	s.StopTraffic()
	if s.runner != nil {
		s.runner.Close()
	}
	s.stopPruner()
	<-s.prunerDone
	return nil
}
