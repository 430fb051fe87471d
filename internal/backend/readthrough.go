package backend

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/lru"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Values of the "cache" field of the backend's answers and of its logs.
const (
	cacheHit  = "hit"
	cacheMiss = "miss"
)

// readThrough puts a cache in front of a database call: hits answer from memory, concurrent
// misses of one key share one call, and only successful answers are kept (a 404 or an error
// is asked again next time, so a row created or a database recovered shows at once).
type readThrough[K comparable, V any] struct {
	cache   *lru.Cache[K, V]
	flights flightGroup[K, V]
	timeout time.Duration // of the shared database call
}

func newReadThrough[K comparable, V any](ttl time.Duration, size int, timeout time.Duration) *readThrough[K, V] {
	return &readThrough[K, V]{cache: lru.New[K, V](ttl, size), timeout: timeout}
}

// cached looks key up in the cache, counting and logging the lookup: subject ("user 123")
// names the key in the logs and id is its log attribute (empty when there is none).
//
// A miss goes on with loadShared. The two are apart so that a hit, the hot path, does not
// even build the closure that a load needs.
func cached[K comparable, V any](ctx context.Context, s *Service, rt *readThrough[K, V], key K,
	subject string, id slog.Attr) (V, bool) {
	start := time.Now()
	var v V
	ok := false
	bypassed := s.faults.ForRequest(ctx).CacheOff
	if !bypassed {
		v, ok = rt.cache.Get(key)
	}
	telemetry.Observe(ctx, s.metrics.cacheLookup, time.Since(start).Seconds())
	if ok {
		s.metrics.cacheHit.Inc() // the hot path: the lookup histogram carries the exemplar
		s.tel.Logger.InfoContext(ctx, "Cache hit for "+subject, id, "cache", cacheHit)
		return v, true
	}
	s.metrics.cacheMiss.Inc()
	if bypassed {
		s.faults.Annotate(ctx, attribute.Bool("pillars.fault.cache_off", true))
	}
	s.tel.Logger.InfoContext(ctx, "Cache miss for "+subject, id, "cache", cacheMiss)
	return v, false
}

// loadShared loads key after a miss, sharing the load with every concurrent miss of the same
// key, and caches a successful result. With the cache off (the cache_off fault) every request
// makes its own load and nothing is kept: the stampede a cache normally prevents.
func loadShared[K comparable, V any](ctx context.Context, s *Service, rt *readThrough[K, V], key K,
	load func(context.Context) (V, error)) (V, error) {
	if s.faults.ForRequest(ctx).CacheOff {
		lctx, cancel := context.WithTimeout(ctx, rt.timeout)
		defer cancel()
		return load(lctx)
	}
	v, shared, err := rt.flights.do(ctx, key, rt.timeout, func(ctx context.Context) (V, error) {
		// A load that ended between the caller's lookup and now has filled the cache already.
		if v, ok := rt.cache.Get(key); ok {
			return v, nil
		}
		v, err := load(ctx)
		if err == nil && !s.faults.Current().CacheOff {
			rt.cache.Add(key, v)
		}
		return v, err
	})
	if shared {
		// The database call belongs to the trace of the request that started it; this
		// trace says that it waited for that call instead of making its own.
		trace.SpanFromContext(ctx).SetAttributes(attribute.Bool("app.cache.shared_load", true))
	}
	return v, err
}

// callDB makes one database call, counting it by operation and outcome and logging it.
func callDB[V any](ctx context.Context, s *Service, op, subject string, id slog.Attr,
	call func(context.Context) (V, error)) (V, error) {
	s.tel.Logger.InfoContext(ctx, "Calling database for "+subject, id, "operation", op)
	v, err := call(ctx)
	o := telemetry.Classify(err)
	label := o.Label
	if calls := s.metrics.databaseCalls.WithLabelValues(op, label); err == nil {
		calls.Inc() // successes are many; the failures are what a trace link is for
	} else {
		telemetry.Inc(ctx, calls)
	}
	switch {
	case err == nil:
	case label == telemetry.CallNotFound:
		// A missing row is an answer, not a failure of the database.
		s.tel.Logger.InfoContext(ctx, "Database has no "+subject, id, "operation", op, "status", label)
	default:
		s.tel.Logger.ErrorContext(ctx, "Database call for "+subject+" failed", id,
			"operation", op, "status", label, "http_status", o.Status, "error", err.Error())
	}
	return v, err
}
