package telemetry

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Dependency is something a service needs to answer requests, checked by /health.
type Dependency struct {
	Name  string
	Check func(ctx context.Context) error
}

// Health serves the three probes every service has:
//   - /healthz: the process is alive (always 200 while it can answer at all);
//   - /ready: this service can serve traffic (503 before start-up finished and while shutting down);
//   - /health: the seed's health document, with version and the state of each dependency.
//
// Readiness deliberately ignores dependencies: a frontend whose backend is down should still
// answer (with a 502) rather than be taken out of rotation and hide the failure.
type Health struct {
	t     *Telemetry
	deps  []Dependency
	ready atomic.Bool
}

// NewHealth returns probes that report not ready until SetReady(true).
func (t *Telemetry) NewHealth(deps ...Dependency) *Health {
	return &Health{t: t, deps: deps}
}

// SetReady flips /ready.
func (h *Health) SetReady(ready bool) { h.ready.Store(ready) }

// Register adds the probe routes to mux.
func (h *Health) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "alive", "service": h.t.Service})
	})
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, r *http.Request) {
		if !h.ready.Load() {
			WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "service": h.t.Service})
			return
		}
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ready", "service": h.t.Service})
	})
	mux.HandleFunc("GET /health", h.serveHealth)
}

type healthDoc struct {
	Status       string            `json:"status"`
	Service      string            `json:"service"`
	Version      string            `json:"version"`
	Environment  string            `json:"environment"`
	Dependencies map[string]string `json:"dependencies"`
}

// serveHealth answers 200 "healthy" when every dependency answers, 200 "degraded" when some
// don't (the service itself still runs), and 503 "unavailable" when it is not ready.
func (h *Health) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	doc := healthDoc{
		Status:       "healthy",
		Service:      h.t.Service,
		Version:      h.t.CurrentVersion(),
		Environment:  h.t.Environment,
		Dependencies: map[string]string{},
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, d := range h.deps {
		wg.Go(func() {
			state := "ok"
			if err := d.Check(ctx); err != nil {
				state = "error: " + err.Error()
			}
			mu.Lock()
			doc.Dependencies[d.Name] = state
			if state != "ok" {
				doc.Status = "degraded"
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	status := http.StatusOK
	if !h.ready.Load() {
		doc.Status, status = "unavailable", http.StatusServiceUnavailable
	}
	WriteJSON(w, status, doc)
}

// CheckURL is a Dependency check that GETs url (a /healthz) with a plain client: health
// checks are not traced, they would be noise in the trace store.
func CheckURL(client *http.Client, url string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return &HTTPError{Status: resp.StatusCode, Err: errStatus(resp.Status)}
		}
		return nil
	}
}

type errStatus string

func (e errStatus) Error() string { return string(e) }
