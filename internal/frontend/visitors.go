package frontend

import (
	"container/list"
	"context"
	"crypto/rand"
	"net/http"
	"sync"
	"time"
)

// visitorCookie identifies a visitor across requests: frontend_active_users counts distinct
// cookies seen in the last ActiveWindow. The traffic generator's simulated users each keep
// their own cookie jar, so they count like real browsers do.
const (
	visitorCookie       = "pillars_visitor"
	visitorCookieMaxAge = 30 * 24 * 60 * 60 // seconds
	maxVisitorIDLen     = 64
)

// visitorTracker remembers when each visitor was last seen, most recent first, so that
// expiring and evicting both take from the back of one list. Its size is bounded: a client
// that drops its cookie on every request creates a visitor each time, and memory must not
// follow it.
type visitorTracker struct {
	window time.Duration
	limit  int

	mu    sync.Mutex
	byID  map[string]*list.Element // of *visit
	order *list.List               // front: most recently seen
}

type visit struct {
	id   string
	seen time.Time
}

func newVisitorTracker(window time.Duration, limit int) *visitorTracker {
	return &visitorTracker{
		window: window,
		limit:  limit,
		byID:   make(map[string]*list.Element),
		order:  list.New(),
	}
}

// seen records a request of visitor id now. The clock is read under the lock so the list
// stays ordered by time even when requests race.
func (t *visitorTracker) seen(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if e, ok := t.byID[id]; ok {
		e.Value.(*visit).seen = now
		t.order.MoveToFront(e)
		return
	}
	if t.order.Len() >= t.limit {
		t.removeLocked(t.order.Back())
	}
	t.byID[id] = t.order.PushFront(&visit{id: id, seen: now})
}

// active forgets the visitors not seen within the window and returns how many remain.
func (t *visitorTracker) active() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	cutoff := time.Now().Add(-t.window)
	for e := t.order.Back(); e != nil && !e.Value.(*visit).seen.After(cutoff); e = t.order.Back() {
		t.removeLocked(e)
	}
	return t.order.Len()
}

func (t *visitorTracker) removeLocked(e *list.Element) {
	delete(t.byID, e.Value.(*visit).id)
	t.order.Remove(e)
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
		if id == "" {
			id = rand.Text()
			http.SetCookie(w, &http.Cookie{
				Name:     visitorCookie,
				Value:    id,
				Path:     "/",
				MaxAge:   visitorCookieMaxAge,
				HttpOnly: true,
				SameSite: http.SameSiteLaxMode,
			})
		}
		s.visitors.seen(id)
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
