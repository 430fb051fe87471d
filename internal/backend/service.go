// Package backend is the backend service of pillars: the API the frontend calls
// (/api/data, /api/user/{id}, /api/product/{id}). It validates ids, answers from a TTL and
// size-bounded cache whose concurrent misses share one database call, applies the pricing
// rules to products, and maps every database failure to the fitting 4xx/5xx JSON error. Each
// request is one SERVER span with validate_user_id / apply_pricing_rules and the CLIENT
// spans of its database calls as children.
package backend

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Config is the backend's configuration, filled by cmd. Zero values take the defaults.
type Config struct {
	DatabaseURL     string        // where the database service is (http://127.0.0.1:8003)
	CacheTTL        time.Duration // how long a successful answer is served from memory (default 30s)
	CacheSize       int           // entries per cache, users and products each (default 10000)
	DatabaseTimeout time.Duration // bound on each call to the database (default 2s)

	Faults        faults.Backend        // at start; changed at runtime through /admin/faults
	RequestFaults bool                  // one request may break itself with X-Pillars-Fault
	Admin         telemetry.AdminConfig // protects /admin/*
}

// Defaults of Config.
const (
	DefaultCacheTTL        = 30 * time.Second
	DefaultCacheSize       = 10000
	DefaultDatabaseTimeout = 2 * time.Second
)

func (c *Config) setDefaults() error {
	if c.CacheTTL < 0 || c.CacheSize < 0 || c.DatabaseTimeout < 0 {
		return fmt.Errorf("backend: negative setting in %+v", *c)
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = DefaultCacheTTL
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.DatabaseTimeout == 0 {
		c.DatabaseTimeout = DefaultDatabaseTimeout
	}
	return nil
}

// Service is the backend.
type Service struct {
	cfg     Config
	tel     *telemetry.Telemetry
	db      *database.Client
	metrics *metrics
	health  *telemetry.Health
	faults  *faults.Switch[faults.Backend]
	guard   *telemetry.AdminGuard
	leak    *memoryLeak

	users    *readThrough[int64, database.User]
	products *readThrough[int64, database.Product]
	data     *readThrough[struct{}, DataResponse]

	handler func() http.Handler
}

// New returns a backend that calls the database at cfg.DatabaseURL. It starts no goroutine
// and keeps nothing from ctx; it is ready to serve when it returns.
func New(ctx context.Context, cfg Config, tel *telemetry.Telemetry) (*Service, error) {
	if tel == nil || cfg.DatabaseURL == "" {
		return nil, errors.New("backend: telemetry and the database's URL are required")
	}
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Service{
		cfg:      cfg,
		tel:      tel,
		guard:    tel.Guard(cfg.Admin),
		leak:     &memoryLeak{},
		metrics:  newMetrics(tel.Registry),
		users:    newReadThrough[int64, database.User](cfg.CacheTTL, cfg.CacheSize, cfg.DatabaseTimeout),
		products: newReadThrough[int64, database.Product](cfg.CacheTTL, cfg.CacheSize, cfg.DatabaseTimeout),
		// One overview, one entry.
		data: newReadThrough[struct{}, DataResponse](cfg.CacheTTL, 1, cfg.DatabaseTimeout),
	}
	sw, err := faults.NewSwitch("backend", cfg.Faults, s.applyFaults,
		faults.WithChoices("routes", routeTemplates()), faults.WithRegistry(tel.Registry), faults.WithErrorWriter(tel.WriteError))
	if err != nil {
		return nil, fmt.Errorf("backend: %w", err)
	}
	s.faults = sw
	s.db = database.NewClient(cfg.DatabaseURL, tel.NewClient(telemetry.WithTransport(func(rt http.RoundTripper) http.RoundTripper {
		return faults.Transport(rt, sw)
	})))
	// Health checks use a plain client: they are not traced (a span per probe would be noise)
	// and must answer quickly even when the database hangs.
	s.health = tel.NewHealth(telemetry.Dependency{
		Name:  "database",
		Check: telemetry.CheckURL(&http.Client{Timeout: time.Second}, s.db.Healthz()),
	})
	s.handler = sync.OnceValue(s.routes)
	s.health.SetReady(true)
	return s, nil
}

// applyFaults does what a change of the faults needs beyond a read: the cache is emptied when
// it is turned off (so that turning it on again starts cold), leaked memory is let go when
// the leak is cleared, and the reported version follows the version knob.
func (s *Service) applyFaults(old, now faults.Backend) {
	if now.CacheOff && !old.CacheOff {
		s.users.cache.Clear()
		s.products.cache.Clear()
		s.data.cache.Clear()
		// A flushed cache is worth a line: it explains the database's load that follows.
		if s.faults.Labelled() { // in a drill, the flush shows in the hit ratio, not a line
			s.tel.Logger.Warn("Cache emptied and bypassed: every lookup goes to the database", "fault", "cache_off")
		}
	}
	if now.MemoryLeak == 0 && old.MemoryLeak != 0 {
		s.leak.release()
	}
	if now.Version != old.Version {
		if err := s.tel.SetVersion(context.Background(), now.Version); err != nil {
			s.tel.Logger.Error("Version change failed", "version", now.Version, "error", err.Error())
		}
	}
}

// SetReady flips /ready, for start-up and graceful shutdown.
func (s *Service) SetReady(ready bool) { s.health.SetReady(ready) }

// Close reports not ready and waits for the database calls still in flight, which end at
// their timeout at the latest. Call it once the HTTP server has stopped.
func (s *Service) Close() error {
	s.health.SetReady(false)
	s.users.flights.wait()
	s.products.flights.wait()
	s.data.flights.wait()
	return nil
}
