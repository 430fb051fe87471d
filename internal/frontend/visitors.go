package frontend

import (
	"context"
	"crypto/rand"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pillars-o11y/pillars/internal/lru"
)

// visitorCookie identifies a visitor across requests: frontend_active_users counts distinct
// cookies seen in the last ActiveWindow. The traffic generator's simulated users each keep
// their own cookie jar, so they count like real browsers do.
const (
	visitorCookie       = "pillars_visitor"
	visitorCookieMaxAge = 30 * 24 * 60 * 60 // seconds
	maxVisitorIDLen     = 64
)

// visitorTracker counts the visitors seen within the window. It remembers a visitor only once
// it comes back with its cookie: a request without one is a new visitor, counted in a fixed
// ring of per-slot counts (arrivalCounter) and given a cookie that carries the time it was
// issued. A client that drops its cookie on every request (a load tool, a crawler, a script)
// then costs one increment each time and no memory; under wrk it was most of the frontend's
// live heap. Returning visitors are entries of the system's one bounded cache, refreshed on
// every request, whose time to live is the window; its size is bounded too, for clients that
// make up cookies.
type visitorTracker struct {
	window       time.Duration
	seenRecently *lru.Cache[string, struct{}]
	arrivals     arrivalCounter
}

func newVisitorTracker(window time.Duration, limit int) *visitorTracker {
	return &visitorTracker{window: window, seenRecently: lru.New[string, struct{}](window, limit),
		arrivals: arrivalCounter{width: max(window/arrivalSlots, time.Millisecond)}}
}

// arrive counts a new visitor now and returns the id of its cookie: the time it was issued
// (milliseconds, base 36), a dash, and 130 random bits.
func (t *visitorTracker) arrive() string {
	now := time.Now()
	t.arrivals.add(now, 1)
	return strconv.FormatInt(now.UnixMilli(), 36) + "-" + rand.Text()
}

// seen records a request of a visitor that sent its cookie. The first time a visitor comes
// back within the window of its arrival, it moves from the arrival count to the cache, so
// that it is counted once.
func (t *visitorTracker) seen(id string) {
	_, known := t.seenRecently.Get(id) // refreshed by the Add below: recency stays expiry order
	t.seenRecently.Add(id, struct{}{})
	if known {
		return
	}
	if issued, ok := issuedAt(id); ok && time.Since(issued) < t.window {
		t.arrivals.add(issued, -1)
	}
}

// active forgets the visitors not seen within the window and returns how many remain: the
// returning ones and the new ones that have not come back yet.
func (t *visitorTracker) active() int {
	return t.seenRecently.DropExpired() + t.arrivals.count(time.Now())
}

// issuedAt reads the time an id of arrive was issued; ids of another form (older cookies)
// have none.
func issuedAt(id string) (time.Time, bool) {
	i := strings.IndexByte(id, '-')
	if i <= 0 {
		return time.Time{}, false
	}
	ms, err := strconv.ParseInt(id[:i], 36, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// arrivalSlots is how many slots the window is cut into: the arrival count forgets a visitor
// between 59/60 and one window after it arrived.
const arrivalSlots = 60

// arrivalCounter counts events over the last arrivalSlots slots of width each, in a fixed
// ring: its size does not depend on how many events there are.
type arrivalCounter struct {
	width time.Duration
	mu    sync.Mutex
	slots [arrivalSlots]struct {
		at int64 // the slot's number since the epoch: time / width
		n  int
	}
}

// add adds delta to the slot of time at; a slot already reused for a later time takes no
// decrement (the visitor it counted was forgotten with it).
func (a *arrivalCounter) add(at time.Time, delta int) {
	k := at.UnixNano() / int64(a.width)
	a.mu.Lock()
	defer a.mu.Unlock()
	s := &a.slots[k%arrivalSlots]
	if s.at != k {
		if delta < 0 || s.at > k {
			return
		}
		s.at, s.n = k, 0
	}
	s.n = max(0, s.n+delta)
}

// count is the sum of the slots within the last arrivalSlots slots before now.
func (a *arrivalCounter) count(now time.Time) int {
	k := now.UnixNano() / int64(a.width)
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, s := range a.slots {
		if s.at > k-arrivalSlots && s.at <= k {
			n += s.n
		}
	}
	return n
}

// pruneEvery expires visitors periodically until ctx is done, so memory follows the active
// population even when nobody reads the gauge.
func (t *visitorTracker) pruneEvery(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.active()
		}
	}
}

// trackVisitor counts the request's visitor as active, giving a new visitor its cookie.
func (s *Service) trackVisitor(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := visitorID(r)
		if id != "" {
			s.visitors.seen(id)
		} else {
			http.SetCookie(w, &http.Cookie{
				Name:     visitorCookie,
				Value:    s.visitors.arrive(),
				Path:     "/",
				MaxAge:   visitorCookieMaxAge,
				HttpOnly: true,
				SameSite: http.SameSiteLaxMode,
			})
		}
		next(w, r)
	}
}

// visitorID returns the request's visitor cookie, or "" when it is missing or not one this
// service could have issued (the id is kept in memory, so its size and alphabet are bounded).
func visitorID(r *http.Request) string {
	c, err := r.Cookie(visitorCookie)
	if err != nil || len(c.Value) == 0 || len(c.Value) > maxVisitorIDLen {
		return ""
	}
	for i := 0; i < len(c.Value); i++ {
		switch b := c.Value[i]; {
		case 'A' <= b && b <= 'Z', 'a' <= b && b <= 'z', '0' <= b && b <= '9', b == '-', b == '_':
		default:
			return ""
		}
	}
	return c.Value
}
