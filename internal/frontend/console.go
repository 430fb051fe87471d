package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/scenarios"
	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/traffic"
)

// The console (GET /console) is the page of someone running a demo or practising incidents:
// what runs (the built-in traffic, the scenario, each service's faults), the controls, the
// last requests of the traffic with their traces, and live figures from the services' own
// metrics. The page holds no admin data itself: its script reads the frontend's admin API
// with the admin token, as the command line does. The backend's and the database's admin
// APIs are other origins, which a page cannot call, so the frontend fans out to them here.
//
//	GET  /admin/console/state         everything the console shows, in one answer
//	POST /admin/console/clear-faults  every service's faults off
//
// Scenarios and traffic are steered through their own endpoints (/admin/scenario,
// /admin/traffic).

// console is what the console's endpoints read: the services' faults and metrics.
type console struct {
	faults  []faultsSource
	figures *liveFigures
}

// faultsSource is one service's fault switch, here or behind its admin API.
type faultsSource struct {
	service string
	read    func(context.Context) ([]byte, error)
	clear   func(context.Context) error
	// remote services are read through their admin API only when their metrics say a knob
	// is on, and then at most every faultsRefresh while the same knobs stay on: an open
	// console must not fill the other services' traces and request metrics with its reads.
	remote bool
	cache  *faultsCache
}

// faultsRefresh is how long a remote service's knob values are shown without reading them
// again, while the knobs that are on stay the same.
const faultsRefresh = 15 * time.Second

// faultsCache is the last admin read of a remote service's faults.
type faultsCache struct {
	mu     sync.Mutex
	knobs  []string // on at the time, by the metrics
	active []faults.Setting
	at     time.Time
}

func (c *faultsCache) get(knobs []string, now time.Time) ([]faults.Setting, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.active, c.active != nil && slices.Equal(c.knobs, knobs) && now.Sub(c.at) < faultsRefresh
}

func (c *faultsCache) put(knobs []string, active []faults.Setting, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.knobs, c.active, c.at = knobs, active, now
}

// consoleTimeout bounds the calls to the other services for one answer of the console.
const consoleTimeout = 2 * time.Second

// clearTimeout bounds a clear of every service's faults: turning missing_index off rebuilds
// the index, which takes seconds on a busy machine, and a clear cut short leaves a fault on.
const clearTimeout = 20 * time.Second

func (s *Service) newConsole(cfg Config) *console {
	// Plain clients: the console's reads are not part of any visitor's trace.
	client := &http.Client{Timeout: consoleTimeout}
	c := &console{faults: []faultsSource{{
		service: "frontend",
		read:    func(context.Context) ([]byte, error) { return json.Marshal(s.faults.Current()) },
		clear: func(context.Context) error {
			_, err := s.faults.Replace(strings.NewReader("{}"), 0)
			return err
		},
	}}}
	var targets []figuresTarget
	if cfg.SelfURL != "" {
		targets = append(targets, figuresTarget{"frontend", strings.TrimSuffix(cfg.SelfURL, "/") + "/metrics"})
	}
	for _, svc := range []struct{ name, url string }{{"backend", cfg.BackendURL}, {"database", cfg.DatabaseURL}} {
		if svc.url == "" {
			continue
		}
		admin := faults.NewAdminClient(svc.url, cfg.Admin.Token, client)
		// Reads are bounded by the client's short timeout, a clear only by clearTimeout.
		clearer := faults.NewAdminClient(svc.url, cfg.Admin.Token, &http.Client{})
		c.faults = append(c.faults, faultsSource{
			service: svc.name,
			read: func(ctx context.Context) ([]byte, error) {
				var doc json.RawMessage
				return doc, admin.Do(ctx, http.MethodGet, "/admin/faults", nil, &doc)
			},
			clear:  func(ctx context.Context) error { return clearer.Replace(ctx, map[string]any{}) },
			remote: true,
			cache:  &faultsCache{},
		})
		targets = append(targets, figuresTarget{svc.name, admin.URL() + "/metrics"})
	}
	c.figures = newLiveFigures(client, targets)
	return c
}

// consoleRoutes adds the console's page, its assets and its admin endpoints.
func (s *Service) consoleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		s.renderPage(w, r, "console", "Console", nil)
	})
	mux.HandleFunc("GET /assets/{file}", s.serveAsset)
	mux.Handle("GET /admin/console/state", s.guard.Wrap(http.HandlerFunc(s.serveConsoleState)))
	mux.Handle("POST /admin/console/clear-faults", s.guard.Wrap(http.HandlerFunc(s.serveClearFaults)))
}

// ConsoleState is what GET /admin/console/state answers.
type ConsoleState struct {
	Traffic traffic.Status `json:"traffic"`
	// Scenario is the running scenario, or the last one; null when this frontend offers none.
	Scenario *scenarios.Status `json:"scenario"`
	Faults   []ServiceFaults   `json:"faults"`
	Figures  []ServiceFigures  `json:"figures"`
	Recent   []RecentRequest   `json:"recent"`
	// TraceLinks says whether trace ids link to a trace viewer (a template is configured).
	TraceLinks bool `json:"trace_links"`
	// Drill is set while a drill runs (labels off): the faults and the scenario are hidden,
	// since the point of a drill is to find them from their symptoms.
	Drill bool `json:"drill,omitempty"`
}

// ServiceFaults are the knobs that are on in one service; Error says why they are not known.
type ServiceFaults struct {
	Service string           `json:"service"`
	Active  []faults.Setting `json:"active"`
	Error   string           `json:"error,omitempty"`
}

// RecentRequest is one request of the built-in traffic, with where to see its trace.
type RecentRequest struct {
	traffic.Sent
	TraceURL     string `json:"trace_url,omitempty"`
	TraceCommand string `json:"trace_command,omitempty"`
}

func (s *Service) serveConsoleState(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), consoleTimeout)
	defer cancel()
	st := ConsoleState{Traffic: s.traffic.Status(), TraceLinks: s.links.template != ""}
	if s.runner != nil {
		sc := s.runner.Status()
		st.Scenario = &sc
	}
	now := time.Now()
	st.Figures = s.console.figures.figures(ctx, now)
	var wg sync.WaitGroup
	st.Faults = make([]ServiceFaults, len(s.console.faults))
	if st.Drill = !s.faults.Labelled(); st.Drill { // hidden while a drill runs: not even read
		st.Faults, st.Scenario = []ServiceFaults{}, nil
	}
	for i, src := range s.console.faults[:len(st.Faults)] {
		wg.Go(func() { st.Faults[i] = s.console.readFaults(ctx, src, now) })
	}
	recent := s.traffic.Recent()
	// Newest first by the time each was sent (the ring keeps them as they were answered).
	slices.SortStableFunc(recent, func(a, b traffic.Sent) int { return b.At.Compare(a.At) })
	st.Recent = make([]RecentRequest, len(recent))
	for i, sent := range recent {
		st.Recent[i] = RecentRequest{Sent: sent}
		if sent.TraceID != "" {
			l := s.links.of(sent.TraceID)
			st.Recent[i].TraceURL, st.Recent[i].TraceCommand = l.URL, l.Command
		}
	}
	wg.Wait()
	w.Header().Set("Cache-Control", "no-store")
	telemetry.WriteJSON(w, http.StatusOK, st)
}

// readFaults reads the knobs that are on in one service. A remote service whose scrape just
// said which knobs are on is read through its admin API only for their values.
func (c *console) readFaults(ctx context.Context, src faultsSource, now time.Time) ServiceFaults {
	out := ServiceFaults{Service: src.service, Active: []faults.Setting{}}
	var knobs []string
	if src.remote {
		var known bool
		if knobs, known = c.figures.activeKnobs(src.service); known {
			if len(knobs) == 0 {
				return out
			}
			if active, ok := src.cache.get(knobs, now); ok {
				out.Active = active
				return out
			}
		}
	}
	doc, err := src.read(ctx)
	if err == nil {
		out.Active, err = faults.Active(src.service, doc)
	}
	if err != nil {
		out.Error = err.Error()
		return out
	}
	if src.remote && knobs != nil {
		src.cache.put(knobs, out.Active, now)
	}
	return out
}

// ClearedFaults is what POST /admin/console/clear-faults answers.
type ClearedFaults struct {
	Cleared []string `json:"cleared"`
}

// serveClearFaults turns every service's faults off, each tried once. It wants a JSON
// request, as the console sends: a cross-site form cannot send one without the browser
// asking this origin first, so another page cannot clear the faults in a visitor's name.
func (s *Service) serveClearFaults(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.tel.WriteError(w, r, http.StatusUnsupportedMediaType, errors.New("send the request as JSON (Content-Type: application/json), as the console does"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), clearTimeout)
	defer cancel()
	errs := make([]error, len(s.console.faults))
	// The next state reads every service again, whatever the metrics said before.
	for _, src := range s.console.faults {
		if src.cache != nil {
			src.cache.put(nil, nil, time.Time{})
		}
	}
	var wg sync.WaitGroup
	for i, src := range s.console.faults {
		wg.Go(func() { errs[i] = src.clear(ctx) })
	}
	wg.Wait()
	var done ClearedFaults
	var failed []string
	for i, src := range s.console.faults {
		if errs[i] != nil {
			failed = append(failed, src.service+": "+errs[i].Error())
			continue
		}
		done.Cleared = append(done.Cleared, src.service)
	}
	s.tel.Logger.LogAttrs(r.Context(), slog.LevelInfo, "Faults cleared from the console",
		slog.String("cleared", strings.Join(done.Cleared, ",")), slog.Int("failed", len(failed)))
	if len(failed) > 0 {
		s.tel.WriteError(w, r, http.StatusBadGateway, errors.New("faults cleared on "+orNone(done.Cleared)+"; not on "+strings.Join(failed, "; ")))
		return
	}
	telemetry.WriteJSON(w, http.StatusOK, done)
}

func orNone(services []string) string {
	if len(services) == 0 {
		return "no service"
	}
	return strings.Join(services, ", ")
}
