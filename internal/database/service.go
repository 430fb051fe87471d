// Package database is the pillars database service: the last hop of every request. It keeps
// its data in a real embedded SQLite file (pure Go, modernc.org/sqlite) or, given a URL, in a
// PostgreSQL database (pgx) that several replicas share; either is seeded on first start with
// the same data. It answers /db/user/{id}, /db/product/{id} and a fixed list of named queries, each inside a
// real read transaction whose steps (begin, planning, execution, commit) are spans, whose
// queries are counted and timed per table, and whose slow queries are logged with their trace.
//
// The package also holds the wire types (api.go) and the typed client (client.go) the backend
// uses to call it, so the API contract lives next to the handlers that serve it.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// The seeded id ranges: ids outside them are 404s. The frontend's traffic generator draws its
// ids from them.
const (
	MaxUserID    = 5000
	MaxProductID = 1000
)

// Defaults for the zero values of Config.
const (
	DefaultSlowQueryThreshold = 100 * time.Millisecond
	DefaultTableSizeInterval  = 15 * time.Second
)

// DefaultMaxOpenConns is the pool's size unless configured: two connections per core, at
// least four. A query is CPU work in this process (SQLite) or a short round trip
// (PostgreSQL); more connections than that queue in SQLite or the server anyway and only
// cost memory (each SQLite connection about 1.5 MB).
func DefaultMaxOpenConns() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// Config is filled by cmd; zero values take the defaults above.
type Config struct {
	// URL, when set, is the PostgreSQL database (postgres://user:password@host:5432/db): it
	// is given its schema and seeded on first start, by one replica while the others wait,
	// and used as it is afterwards. Path is then unused.
	URL string
	// Path is the SQLite file, when URL is empty. It is created, given its schema and seeded
	// on first start; an already seeded file is used as it is.
	Path string
	// SlowQueryThreshold: a query slower than this counts in database_slow_queries_total and
	// logs "Slow query detected".
	SlowQueryThreshold time.Duration
	// Faults are the faults at start (changed at runtime through /admin/faults).
	Faults faults.Database
	// RequestFaults lets one request break itself with the X-Pillars-Fault header.
	RequestFaults bool
	// Admin protects /admin/*.
	Admin telemetry.AdminConfig
	// TableSizeInterval is how often database_table_size_bytes is recomputed.
	TableSizeInterval time.Duration
	// MaxOpenConns bounds the connection pool (SQLite in WAL mode serves readers concurrently;
	// on PostgreSQL each is a server connection, counted against its max_connections).
	MaxOpenConns int
}

func (c Config) withDefaults() Config {
	if c.SlowQueryThreshold <= 0 {
		c.SlowQueryThreshold = DefaultSlowQueryThreshold
	}
	if c.TableSizeInterval <= 0 {
		c.TableSizeInterval = DefaultTableSizeInterval
	}
	if c.MaxOpenConns <= 0 {
		c.MaxOpenConns = DefaultMaxOpenConns()
	}
	return c
}

// Service is one running database service.
type Service struct {
	cfg     Config
	tel     *telemetry.Telemetry
	store   store
	system  attribute.KeyValue // db.system.name of every span
	call    storeCall          // the kind and attributes of a call to the store
	db      *sql.DB
	health  *telemetry.Health
	metrics *metrics
	faults  *faults.Switch[faults.Database]
	guard   *telemetry.AdminGuard
	locker  *lockHolder
	stmts   *statements
	queries namedQueries

	handlerOnce sync.Once
	handler     http.Handler

	stopSizes context.CancelFunc
	sizesDone chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// New opens the store (creating and seeding the database when needed), prepares every
// statement the service runs, and starts the background refresh of table sizes and plans. It
// returns a ready service. A PostgreSQL server that cannot be reached is an error here: the
// service does not start without its data.
func New(ctx context.Context, cfg Config, tel *telemetry.Telemetry) (*Service, error) {
	cfg = cfg.withDefaults()
	st, err := newStore(cfg)
	if err != nil {
		return nil, err
	}
	db, err := st.open(cfg.MaxOpenConns)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, tel: tel, store: st, system: st.system(), call: newStoreCall(st), db: db, guard: tel.Guard(cfg.Admin),
		locker: &lockHolder{db: db, store: st, log: tel.Logger.Warn}}
	if err := s.start(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Service) start(ctx context.Context) error {
	seeded, err := ensureSeeded(ctx, s.db, s.store)
	if err != nil {
		return err
	}
	where := append([]any{"store", s.store.name()}, s.store.location()...)
	if seeded {
		s.tel.Logger.InfoContext(ctx, "Database created and seeded", append(where,
			"users", MaxUserID, "products", MaxProductID, "orders", seedOrders)...)
	} else {
		s.tel.Logger.InfoContext(ctx, "Database opened", where...)
	}
	if s.stmts, err = prepareStatements(ctx, s.db, s.store); err != nil {
		return err
	}
	// An index a fault dropped in an earlier run that could not rebuild it is rebuilt now.
	if _, err := s.db.ExecContext(ctx, faultyIndexCreate); err != nil {
		return fmt.Errorf("database: rebuild index %s: %w", faultyIndex, err)
	}
	// The faults come after the statements: dropping an index plans them again.
	if s.faults, err = faults.NewSwitch("database", s.cfg.Faults, s.applyFaults,
		faults.WithRegistry(s.tel.Registry), faults.WithErrorWriter(s.tel.WriteError)); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	s.queries = newNamedQueries(s.stmts)
	if s.metrics, err = newMetrics(s.tel.Registry, s.db, s.store.name()); err != nil {
		return err
	}
	// Sizes once synchronously, so the gauge is right from the first scrape, then sizes and
	// plans in the background.
	s.refreshTableSizes(ctx)
	sizesCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopSizes, s.sizesDone = stop, make(chan struct{})
	go func() {
		defer close(s.sizesDone)
		every(sizesCtx, s.cfg.TableSizeInterval, s.refresh)
	}()

	s.health = s.tel.NewHealth(telemetry.Dependency{Name: s.store.name(), Check: s.checkStore})
	s.health.SetReady(true)
	return nil
}

// checkStore is the /health check of the store: it reads the seed marker, which needs a
// connection, the schema and a page of the data (a plain ping runs "SELECT 1" and reads
// nothing).
func (s *Service) checkStore(ctx context.Context) error {
	var version int
	return s.db.QueryRowContext(ctx, "SELECT version FROM pillars_seed").Scan(&version)
}

// SetReady flips /ready, e.g. to false while shutting down.
func (s *Service) SetReady(ready bool) { s.health.SetReady(ready) }

// Close stops the background work and closes the database. Call it after the HTTP server has
// finished its in-flight requests.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.health.SetReady(false)
		s.locker.hold(0)
		s.stopSizes()
		<-s.sizesDone
		s.closeErr = errors.Join(s.stmts.close(), s.db.Close())
	})
	return s.closeErr
}
