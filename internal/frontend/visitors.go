package frontend

import (
	"context"
	"crypto/rand"
	"net/http"
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

// visitorTracker remembers the visitors seen within the window, in the system's one bounded
// cache: a visitor is an entry refreshed on every request, whose time to live is the window.
// Its size is bounded: a client that drops its cookie on every request creates a visitor each
// time, and memory must not follow it.
type visitorTracker struct {
	seenRecently *lru.Cache[string, struct{}]
}

func newVisitorTracker(window time.Duration, limit int) *visitorTracker {
	return &visitorTracker{seenRecently: lru.New[string, struct{}](window, limit)}
}

// seen records a request of visitor id now.
func (t *visitorTracker) seen(id string) { t.seenRecently.Add(id, struct{}{}) }

// active forgets the visitors not seen within the window and returns how many remain.
func (t *visitorTracker) active() int { return t.seenRecently.DropExpired() }

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
