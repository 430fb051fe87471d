package backend

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/faults"
)

// flightGroup collapses concurrent loads of the same key into one: the first caller starts
// the load, later callers wait for its result. (golang.org/x/sync/singleflight does the
// collapsing too, but runs the load on the first caller's goroutine and context, so that
// caller hanging up would fail everyone waiting with it.)
//
// Here the load runs in its own goroutine, bounded by a timeout of its own, under a context
// that keeps the first caller's trace (the database call shows in that trace) but neither its
// cancellation nor the faults that request set for itself (X-Pillars-Fault): the load is
// made for every caller attached to it. Each caller stops waiting when its own context is
// done; the load carries on for the others and, through the caller's load function, fills
// the cache. A caller that joins links its span to the span of the caller that started the
// load, so that its trace shows where its data came from.
type flightGroup[K comparable, V any] struct {
	mu      sync.Mutex
	flights map[K]*flight[V]
	running sync.WaitGroup
}

type flight[V any] struct {
	done    chan struct{}
	value   V
	err     error
	waiters int               // callers attached, the first included; read by tests
	loader  trace.SpanContext // the span of the caller that started the load
}

// attrSharedWith is the number of callers that joined a load, on the span of the caller that
// started it.
const attrSharedWith = attribute.Key("app.cache.load_shared_with")

// do returns the result of load for key, running load only when no load of key is already
// in flight. shared reports that the caller joined a load started by another caller.
func (g *flightGroup[K, V]) do(ctx context.Context, key K, timeout time.Duration, load func(context.Context) (V, error)) (value V, shared bool, err error) {
	g.mu.Lock()
	if g.flights == nil {
		g.flights = make(map[K]*flight[V])
	}
	f, shared := g.flights[key]
	if shared {
		f.waiters++
	} else {
		f = &flight[V]{done: make(chan struct{}), waiters: 1, loader: trace.SpanContextFromContext(ctx)}
		g.flights[key] = f
		g.running.Add(1)
		go g.run(faults.WithoutRequestFaults(context.WithoutCancel(ctx)), key, f, timeout, load)
	}
	g.mu.Unlock()
	if shared && f.loader.IsValid() {
		trace.SpanFromContext(ctx).AddLink(trace.Link{SpanContext: f.loader})
	}

	select {
	case <-f.done:
		return f.value, shared, f.err
	case <-ctx.Done():
		var zero V
		return zero, shared, ctx.Err()
	}
}

func (g *flightGroup[K, V]) run(ctx context.Context, key K, f *flight[V], timeout time.Duration, load func(context.Context) (V, error)) {
	defer g.running.Done()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer func() {
		cancel()
		// A panicking load must not take the process down: this goroutine is outside the
		// HTTP server's recovery, so the panic becomes the waiters' error instead.
		if v := recover(); v != nil {
			f.err = fmt.Errorf("panic while loading: %v", v)
		}
		g.mu.Lock()
		delete(g.flights, key)
		joined := f.waiters - 1
		g.mu.Unlock()
		if joined > 0 {
			// Noted before the waiters are released: the first caller's span is still open
			// unless that caller left.
			trace.SpanFromContext(ctx).SetAttributes(attrSharedWith.Int(joined))
		}
		close(f.done)
	}()
	f.value, f.err = load(ctx)
}

// waiting returns how many callers wait for the load of key (0 when none is in flight).
func (g *flightGroup[K, V]) waiting(key K) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.flights[key]; ok {
		return f.waiters
	}
	return 0
}

// wait blocks until every load in flight has finished; loads end at their timeout at the
// latest.
func (g *flightGroup[K, V]) wait() { g.running.Wait() }
