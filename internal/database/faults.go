package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/pillars-o11y/pillars/internal/faults"
)

// errInjected marks a failure made on purpose by the error-rate knob.
var errInjected = errors.New("injected fault")

// inject applies the latency and error knobs in effect for the request to one query: it waits
// the added latency (plus jitter), or less if ctx ends first, then fails the query with the
// configured probability.
func (s *Service) inject(ctx context.Context) error {
	f := s.faults.ForRequest(ctx)
	if f.Latency == 0 && f.Jitter == 0 && f.ErrorRate == 0 {
		return nil
	}
	if d := f.Latency.D() + jitter(f.Jitter.D()); d > 0 {
		s.faults.Annotate(ctx, attribute.Int64("pillars.fault.latency_ms", d.Milliseconds()))
		if err := faults.Sleep(ctx, d); err != nil {
			return err
		}
	}
	if faults.Happens(f.ErrorRate) {
		s.faults.Annotate(ctx, attribute.Bool("pillars.fault.error", true))
		return s.faults.Unlabel(fmt.Errorf("%w: query failed on purpose (error_rate %s)", errInjected,
			strconv.FormatFloat(float64(f.ErrorRate), 'g', -1, 64)), "query failed: I/O error")
	}
	return nil
}

// jitter is uniform in [0, max).
func jitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return rand.N(max)
}

// applyFaults does what a change of the service's faults needs beyond a read: start or stop
// the lock holder, drop or rebuild the index, resize the pool. It runs serialised, after each
// change.
func (s *Service) applyFaults(old, now faults.Database) {
	ctx := context.Background()
	if now.PoolSize != old.PoolSize {
		size := now.PoolSize
		if size == 0 {
			size = s.cfg.MaxOpenConns
		}
		s.db.SetMaxOpenConns(size)
		s.db.SetMaxIdleConns(size)
	}
	if now.MissingIndex != old.MissingIndex {
		if err := s.setIndexMissing(ctx, now.MissingIndex); err != nil {
			s.tel.Logger.ErrorContext(ctx, "Index change failed", "missing_index", now.MissingIndex, "error", err.Error())
		}
	}
	if now.LockHold != old.LockHold {
		s.locker.hold(now.LockHold.D())
	}
}

// faultyIndex is the index the missing_index fault drops: the one every user lookup and
// user_orders use. Without it both scan the whole orders table. Both statements are the same
// in SQLite and PostgreSQL.
const (
	faultyIndex       = "orders_user"
	faultyIndexCreate = "CREATE INDEX IF NOT EXISTS orders_user ON orders (user_id, created_at)"
)

// setIndexMissing drops or rebuilds faultyIndex, then plans every statement again so that
// query_planning records the plan the store now really uses. Prepared statements are planned
// again by the store itself on their next run (the schema changed). On PostgreSQL the index
// is gone for every replica sharing the database; theirs replan at their next refresh.
func (s *Service) setIndexMissing(ctx context.Context, missing bool) error {
	stmt := faultyIndexCreate
	if missing {
		stmt = "DROP INDEX IF EXISTS " + faultyIndex
	}
	if _, err := s.db.ExecContext(ctx, stmt); err != nil {
		return err
	}
	if err := s.stmts.replan(ctx); err != nil {
		return err
	}
	msg := "Index " + faultyIndex + " rebuilt"
	if missing {
		msg = "Index " + faultyIndex + " dropped"
	}
	if s.faults.Labelled() { // in a drill, the index is found missing from the plans, not told
		s.tel.Logger.InfoContext(ctx, msg, "index", faultyIndex)
	}
	return nil
}

// lockHolder is a real writer for the lock_hold fault: it takes the store's lock for the hold,
// lets go for a moment, and takes it again, until told to stop (see the stores' holdLock).
type lockHolder struct {
	db    *sql.DB
	store store
	log   func(msg string, args ...any)

	mu   sync.Mutex
	stop context.CancelFunc
	done chan struct{}
	on   bool
}

// lockPause is how long the holder lets go between two holds: a few requests get through.
const lockPause = 100 * time.Millisecond

// claim is the statement a request's transaction runs to wait for the held lock: "" when the
// fault is off, or when the store's readers wait for the holder without one.
func (l *lockHolder) claim() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.on {
		return ""
	}
	return l.store.claimLock()
}

// hold starts holding the lock for d at a time (0 stops).
func (l *lockHolder) hold(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stop != nil {
		l.stop()
		<-l.done
		l.stop, l.on = nil, false
	}
	if d <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.stop, l.done, l.on = cancel, make(chan struct{}), true
	go func() {
		defer close(l.done)
		for ctx.Err() == nil {
			if err := l.store.holdLock(ctx, l.db, d); err != nil && ctx.Err() == nil {
				l.log("Lock holder failed", "error", err.Error())
			}
			_ = faults.Sleep(ctx, lockPause)
		}
	}()
}
