package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/traffic"
)

// FaultTarget changes one service's faults under a lease: a *faults.AdminClient for a service
// elsewhere, or SwitchTarget for the service that hosts the runner. A leased change lasts while
// the runner renews it within each ttl; when the runner is gone (killed, restarted), the
// service puts back its base faults, those it had before the scenario, by itself.
type FaultTarget interface {
	PatchLeased(ctx context.Context, knobs map[string]any, ttl time.Duration) error
	ReplaceLeased(ctx context.Context, knobs map[string]any, ttl time.Duration) error
	Renew(ctx context.Context, ttl time.Duration) error
	// Release ends the lease, so that the base faults come back, and says whether one was held.
	Release(ctx context.Context) (bool, error)
}

// TrafficTarget is the traffic generator a runner steers (*traffic.Generator).
type TrafficTarget interface {
	Lasting() traffic.Settings
	Status() traffic.Status
	Apply(traffic.Change) (traffic.Status, error)
}

// SwitchTarget drives a service's own fault switch, in the process that hosts the runner.
func SwitchTarget[T any](sw *faults.Switch[T]) FaultTarget { return switchTarget[T]{sw} }

type switchTarget[T any] struct{ sw *faults.Switch[T] }

func (s switchTarget[T]) PatchLeased(_ context.Context, knobs map[string]any, ttl time.Duration) error {
	b, err := json.Marshal(knobs)
	if err == nil {
		_, err = s.sw.Patch(bytes.NewReader(b), ttl)
	}
	return err
}

func (s switchTarget[T]) ReplaceLeased(_ context.Context, knobs map[string]any, ttl time.Duration) error {
	b, err := json.Marshal(knobs)
	if err == nil {
		_, err = s.sw.Replace(bytes.NewReader(b), ttl)
	}
	return err
}

func (s switchTarget[T]) Renew(_ context.Context, ttl time.Duration) error { return s.sw.Renew(ttl) }

func (s switchTarget[T]) Release(context.Context) (bool, error) {
	released, _ := s.sw.Release()
	return released, nil
}

// RunnerConfig is what a runner drives.
type RunnerConfig struct {
	Library *Library
	// Faults are the services' fault switches, by service name (frontend, backend,
	// database). A scenario that needs a service missing here cannot start.
	Faults map[string]FaultTarget
	// Traffic is the frontend's traffic generator; nil refuses scenarios that change it.
	Traffic TrafficTarget
	// Logger gets a line when a scenario starts, steps and ends; nil discards.
	Logger *slog.Logger
	// Registry gets pillars_scenario_active{scenario}; nil registers nothing.
	Registry prometheus.Registerer
	// StepRetry is how long a step keeps trying a service that cannot be reached yet
	// (default 10s): a scenario started with the services may find one still starting.
	StepRetry time.Duration
	// Lease is the time to live of the faults a scenario sets (default 15s), renewed every
	// third of it: the longest a scenario's faults outlive a runner that is gone.
	Lease time.Duration
}

// DefaultLease is the time to live of a scenario's faults between renewals.
const DefaultLease = 15 * time.Second

// hidden is the name a blind scenario goes by until it is revealed.
const hidden = "hidden"

// Runner runs one scenario at a time against the services, and chaos mode when asked.
type Runner struct {
	cfg   RunnerConfig
	log   *slog.Logger
	gauge *prometheus.GaugeVec

	// leftovers serialises a stop that ends leases no run of this runner holds (a runner
	// that is gone left them) with the first leased change of a run starting meanwhile.
	leftovers sync.Mutex

	mu        sync.Mutex
	rng       *rand.Rand
	active    *run
	last      *run // the last one that ended
	lastBlind *run // the last blind one, active or not: what reveal shows
	closed    bool
	chaos     *chaosLoop
}

// run is one scenario run.
type run struct {
	sc        *Scenario
	blind     bool
	revealed  bool
	timescale float64
	started   time.Time
	ends      time.Time
	stepsDone int
	events    []Event
	outcome   string
	ended     time.Time
	cancel    context.CancelFunc
	done      chan struct{}
	// released and unreached are what ending its faults found, set by finish.
	released, unreached []string
}

// Outcomes of a run.
const (
	Running   = "running"
	Completed = "completed"
	Stopped   = "stopped"
)

// Event is one thing that happened during a run: a step applied (or failed).
type Event struct {
	At    faults.Duration `json:"at"` // since the start
	Step  int             `json:"step"`
	Say   string          `json:"say,omitempty"`
	Did   string          `json:"did,omitempty"`
	Error string          `json:"error,omitempty"`
}

// NewRunner returns an idle runner; every scenario of the library (and "hidden") is exported
// at 0 in pillars_scenario_active.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if cfg.Library == nil {
		return nil, errors.New("scenarios: a runner needs a library")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.StepRetry <= 0 {
		cfg.StepRetry = 10 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	r := &Runner{cfg: cfg, log: cfg.Logger, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	if cfg.Registry != nil {
		r.gauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pillars_scenario_active",
			Help: `1 while the scenario of that name runs ("hidden": a blind one, until revealed), 0 otherwise.`,
		}, []string{"scenario"})
		for _, name := range append(cfg.Library.Names(), hidden) {
			r.gauge.WithLabelValues(name)
		}
		if err := cfg.Registry.Register(r.gauge); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Library is the scenarios the runner knows.
func (r *Runner) Library() *Library { return r.cfg.Library }

// StartRequest asks for a scenario: by name, or a random one (Blind without a name), hidden
// until revealed when Blind. Timescale > 1 runs the steps that many times faster (for tests
// against time-scaled alert rules; 1, or 0 when left out, is real time).
type StartRequest struct {
	Name      string  `json:"name,omitempty"`
	Blind     bool    `json:"blind,omitempty"`
	Timescale float64 `json:"timescale,omitempty"`
}

// MaxTimescale bounds the speed-up: a scenario of 25 minutes lasts 15 s at most speed.
const MaxTimescale = 100

// Errors of Start, for the admin API's status codes.
var (
	ErrBusy   = errors.New("a scenario is running")
	ErrClosed = errors.New("the runner is shutting down")
)

// Start starts a scenario and returns its status at once; the steps follow on their own.
func (r *Runner) Start(req StartRequest) (Status, error) {
	if req.Timescale != 0 && (req.Timescale < 1 || req.Timescale > MaxTimescale) {
		return Status{}, &RequestError{fmt.Sprintf("timescale %v: want 1 (real time) to %d times faster; a scenario never runs slower than real time",
			req.Timescale, MaxTimescale)}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return Status{}, ErrClosed
	case r.active != nil:
		return r.statusOf(r.active), fmt.Errorf("%w (%s): stop it first", ErrBusy, r.nameOf(r.active))
	}
	var sc *Scenario
	if req.Name == "" {
		if !req.Blind {
			return Status{}, &RequestError{`name a scenario, or ask for a blind one: {"blind": true}`}
		}
		list := r.cfg.Library.List()
		sc = list[r.rng.IntN(len(list))]
	} else {
		var err error
		if sc, err = r.cfg.Library.Get(req.Name); err != nil {
			return Status{}, err
		}
	}
	if err := r.canRun(sc); err != nil {
		return Status{}, err
	}
	timescale := max(req.Timescale, 1)
	ctx, cancel := context.WithCancel(context.Background())
	now := time.Now()
	ru := &run{sc: sc, blind: req.Blind, timescale: timescale, started: now,
		ends: now.Add(scaled(sc.Duration.D(), timescale)), outcome: Running, cancel: cancel, done: make(chan struct{})}
	r.active = ru
	if ru.blind {
		r.lastBlind = ru
	}
	r.setGauge(ru, 1)
	r.log.Info("Scenario started", "scenario", r.nameOf(ru), "title", r.titleOf(ru), "duration", ru.ends.Sub(now).String(),
		"steps", len(sc.Steps), "blind", ru.blind, "timescale", timescale)
	go r.execute(ctx, ru)
	return r.statusOf(ru), nil
}

// RequestError is a start request that cannot be served as asked.
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return e.Msg }

// canRun checks that every service and the traffic the scenario changes can be reached.
func (r *Runner) canRun(sc *Scenario) error {
	for _, st := range sc.Steps {
		if st.Traffic != nil && r.cfg.Traffic == nil {
			return &RequestError{"scenario " + sc.Name + " changes the traffic, and this runner has no traffic generator"}
		}
		if st.Service != "" && r.cfg.Faults[st.Service] == nil {
			return &RequestError{fmt.Sprintf("scenario %s changes the %s's faults, and this frontend does not know where the %s is (--%s-url)",
				sc.Name, st.Service, st.Service, st.Service)}
		}
	}
	return nil
}

// execute applies the steps at their times, waits for the end (or a stop), then clears. Every
// fault it sets is leased, and renewed while it runs.
func (r *Runner) execute(ctx context.Context, ru *run) {
	outcome := Completed
	defer func() { r.finish(ru, outcome) }()
	var saved *traffic.Settings
	if r.cfg.Traffic != nil {
		s := r.cfg.Traffic.Lasting()
		saved = &s
	}
	defer func() {
		if saved != nil {
			if _, err := r.cfg.Traffic.Apply(traffic.Change{Settings: *saved}); err != nil {
				r.log.Error("Scenario could not restore the traffic", "scenario", r.nameOf(ru), "error", err.Error())
			}
		}
	}()
	stopRenewing := r.renewLeases(ctx, ru)
	defer stopRenewing()
	r.leftovers.Lock()     // a stop ending leftover leases finishes first, not on this run's
	r.clearFaults(ctx, ru) // a scenario starts from a clean system; each service keeps its own faults as base
	r.leftovers.Unlock()
	for i, st := range ru.sc.Steps {
		if !sleepUntil(ctx, ru.started.Add(scaled(st.At.D(), ru.timescale))) {
			outcome = Stopped
			return
		}
		err := r.apply(ctx, ru, st)
		r.record(ru, i+1, st, err)
	}
	if !sleepUntil(ctx, ru.ends) {
		outcome = Stopped
	}
}

// apply makes one step's change, trying a service that cannot be reached for a while.
func (r *Runner) apply(ctx context.Context, ru *run, st Step) error {
	if st.Traffic != nil {
		cur := r.cfg.Traffic.Status().Settings
		doc, err := json.Marshal(scaleTraffic(st.Traffic, ru.timescale))
		if err != nil {
			return err
		}
		c, err := traffic.DecodeChange(bytes.NewReader(doc), &cur)
		if err != nil {
			return err
		}
		_, err = r.cfg.Traffic.Apply(c)
		return err
	}
	services := []string{st.Service}
	if st.Clear && st.Service == "" {
		services = r.services()
	}
	var errs []error
	for _, svc := range services {
		target := r.cfg.Faults[svc]
		errs = append(errs, retry(ctx, r.cfg.StepRetry, func(ctx context.Context) error {
			switch {
			case st.Patch != nil:
				return target.PatchLeased(ctx, st.Patch, r.cfg.Lease)
			case st.Put != nil:
				return target.ReplaceLeased(ctx, st.Put, r.cfg.Lease)
			}
			return target.ReplaceLeased(ctx, map[string]any{}, r.cfg.Lease)
		}))
	}
	return errors.Join(errs...)
}

// services lists the services the runner can reach, callers first.
func (r *Runner) services() []string {
	var out []string
	for _, svc := range faults.Tiers() {
		if r.cfg.Faults[svc] != nil {
			out = append(out, svc)
		}
	}
	return out
}

// clearFaults turns every fault off on every service at the start of a run, under the run's
// lease: each service keeps what it had as its base, which comes back when the run ends.
func (r *Runner) clearFaults(ctx context.Context, ru *run) {
	for _, svc := range r.services() {
		err := retry(ctx, r.cfg.StepRetry, func(ctx context.Context) error {
			return r.cfg.Faults[svc].ReplaceLeased(ctx, map[string]any{}, r.cfg.Lease)
		})
		if err != nil && ctx.Err() == nil {
			r.log.Error("Scenario could not clear the faults", "scenario", r.nameOf(ru), "service", svc, "error", err.Error())
		}
	}
}

// renewLeases renews every service's lease a few times per time to live until the returned
// function is called (which waits for the renewer to stop). A service that lost its lease (it
// restarted) is told once in the log.
func (r *Runner) renewLeases(ctx context.Context, ru *run) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(r.cfg.Lease / 3)
		defer tick.Stop()
		lost := map[string]bool{}
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for _, svc := range r.services() {
				rctx, rcancel := context.WithTimeout(ctx, r.cfg.Lease/3)
				err := r.cfg.Faults[svc].Renew(rctx, r.cfg.Lease)
				rcancel()
				if err != nil && ctx.Err() == nil && !lost[svc] {
					lost[svc] = true
					r.log.Warn("Scenario could not renew its faults' lease", "scenario", r.nameOf(ru), "service", svc, "error", err.Error())
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// releaseLeases ends the scenario faults' lease on every service, each tried once: their base
// faults come back. It returns the services that held one, and those that could not be
// reached (whose leases end on their own within the time to live).
func (r *Runner) releaseLeases(ctx context.Context, scenario string) (released, unreached []string) {
	for _, svc := range r.services() {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		held, err := r.cfg.Faults[svc].Release(cctx)
		cancel()
		switch {
		case err != nil:
			unreached = append(unreached, svc+": "+err.Error())
			r.log.Error("Scenario could not release its faults; they end when their lease expires", "scenario", scenario,
				"service", svc, "lease", r.cfg.Lease.String(), "error", err.Error())
		case held:
			released = append(released, svc)
		}
	}
	return released, unreached
}

// retry calls fn until it succeeds, the service answers (an answer is not a reason to try
// again), or patience runs out.
func retry(ctx context.Context, patience time.Duration, fn func(context.Context) error) error {
	deadline := time.Now().Add(patience)
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := fn(cctx)
		cancel()
		if err == nil || !unreachable(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		if !sleepUntil(ctx, time.Now().Add(500*time.Millisecond)) {
			return err
		}
	}
}

// unreachable reports whether err is a service that could not be reached (as opposed to one
// that answered with an error).
func unreachable(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, context.DeadlineExceeded)
}

// record notes a step in the run's events and the log.
func (r *Runner) record(ru *run, i int, st Step, err error) {
	r.mu.Lock()
	ev := Event{At: faults.Duration(time.Since(ru.started).Round(time.Millisecond)), Step: i, Say: st.Say, Did: st.Describe()}
	if err != nil {
		ev.Error = err.Error()
	}
	ru.events = append(ru.events, ev)
	ru.stepsDone = i
	name := r.nameOf(ru)
	blindNow := ru.blind && !ru.revealed
	r.mu.Unlock()
	attrs := []any{"scenario", name, "step", i, "of", len(ru.sc.Steps), "at", ev.At.D().String()}
	if !blindNow {
		attrs = append(attrs, "did", ev.Did, "say", ev.Say)
	}
	if err != nil {
		r.log.Error("Scenario step failed", append(attrs, "error", err.Error())...)
		return
	}
	r.log.Info("Scenario step", attrs...)
}

// finish ends a run: every service's base faults back, the gauge down, the run kept as the
// last one. Each service is tried once: at a shutdown the services behind are still up
// (callers stop first), and one that is gone has no faults left to clear.
func (r *Runner) finish(ru *run, outcome string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	released, unreached := r.releaseLeases(ctx, r.nameOf(ru))
	r.mu.Lock()
	ru.outcome, ru.ended = outcome, time.Now()
	ru.released, ru.unreached = released, unreached
	r.setGauge(ru, 0)
	r.active, r.last = nil, ru
	name := r.nameOf(ru)
	r.mu.Unlock()
	r.log.Info("Scenario ended", "scenario", name, "outcome", outcome, "elapsed", ru.ended.Sub(ru.started).Round(time.Millisecond).String())
	close(ru.done)
}

// Stop stops the running scenario and returns its final status, saying on which services its
// faults ended. With none running it still ends any scenario faults the services hold (a
// runner that was killed, or restarted, left them), and says so.
func (r *Runner) Stop() Status {
	if ru := r.running(); ru != nil {
		return r.stopRun(ru)
	}
	r.leftovers.Lock()
	if ru := r.running(); ru != nil { // started meanwhile
		r.leftovers.Unlock()
		return r.stopRun(ru)
	}
	defer r.leftovers.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	released, unreached := r.releaseLeases(ctx, "")
	if len(released) > 0 {
		r.log.Info("Scenario faults left by a runner that is gone were ended", "services", strings.Join(released, ","))
	}
	st := r.Status()
	st.Released, st.Unreached = released, unreached
	return st
}

func (r *Runner) running() *run {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active
}

// stopRun ends ru and returns its final status.
func (r *Runner) stopRun(ru *run) Status {
	ru.cancel()
	<-ru.done
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.statusOf(ru)
	st.Released, st.Unreached = ru.released, ru.unreached
	return st
}

// Close stops chaos mode and the running scenario, and refuses new ones: for shutdown, while
// the other services still serve.
func (r *Runner) Close() {
	r.mu.Lock()
	r.closed = true
	chaos := r.chaos
	r.chaos = nil
	r.mu.Unlock()
	if chaos != nil {
		chaos.stop()
	}
	if ru := r.running(); ru != nil {
		r.stopRun(ru)
	}
}

// Status is what GET /admin/scenario answers: the running scenario, or the last one.
type Status struct {
	Active bool `json:"active"`
	// Scenario is the name, "hidden" for a blind run until it is revealed.
	Scenario  string          `json:"scenario,omitempty"`
	Title     string          `json:"title,omitempty"`
	Blind     bool            `json:"blind,omitempty"`
	Timescale float64         `json:"timescale,omitempty"`
	Started   *time.Time      `json:"started,omitempty"`
	Ends      *time.Time      `json:"ends,omitempty"`
	Elapsed   faults.Duration `json:"elapsed"`
	Remaining faults.Duration `json:"remaining"`
	StepsDone int             `json:"steps_done"`
	Steps     int             `json:"steps"`
	Events    []Event         `json:"events,omitempty"`
	Outcome   string          `json:"outcome,omitempty"`
	// Chaos is the interval of chaos mode, when it is on.
	Chaos faults.Duration `json:"chaos,omitempty"`
	// Released are the services whose scenario faults a stop ended (their base faults back);
	// Unreached, those it could not reach, with why (their faults end with their lease).
	Released  []string `json:"released,omitempty"`
	Unreached []string `json:"unreached,omitempty"`
}

// Status returns the running scenario's status, or the last one's (Active false).
func (r *Runner) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	ru := r.active
	if ru == nil {
		ru = r.last
	}
	st := Status{}
	if ru != nil {
		st = r.statusOf(ru)
	}
	if r.chaos != nil {
		st.Chaos = faults.Duration(r.chaos.every)
	}
	return st
}

// statusOf describes ru; the caller holds mu.
func (r *Runner) statusOf(ru *run) Status {
	started, ends := ru.started, ru.ends
	now := time.Now()
	st := Status{
		Active: ru.outcome == Running, Scenario: r.nameOf(ru), Title: r.titleOf(ru), Blind: ru.blind,
		Timescale: ru.timescale, Started: &started, Ends: &ends, StepsDone: ru.stepsDone, Steps: len(ru.sc.Steps),
		Outcome: ru.outcome,
	}
	end := now
	if !st.Active {
		end = ru.ended
	}
	st.Elapsed = faults.Duration(end.Sub(started).Round(time.Second))
	if st.Active {
		st.Remaining = faults.Duration(max(ends.Sub(now), 0).Round(time.Second))
	}
	for _, ev := range ru.events {
		if ru.blind && !ru.revealed {
			ev.Say, ev.Did = "", ""
			if ev.Error != "" {
				ev.Error = "the step failed; the frontend's log says why"
			}
		}
		st.Events = append(st.Events, ev)
	}
	return st
}

func (r *Runner) nameOf(ru *run) string {
	if ru.blind && !ru.revealed {
		return hidden
	}
	return ru.sc.Name
}

func (r *Runner) titleOf(ru *run) string {
	if ru.blind && !ru.revealed {
		return ""
	}
	return ru.sc.Title
}

func (r *Runner) setGauge(ru *run, v float64) {
	if r.gauge != nil {
		r.gauge.WithLabelValues(r.nameOf(ru)).Set(v)
	}
}

// Revealed is what GET /admin/scenario/reveal answers: the blind scenario's name and story.
type Revealed struct {
	Scenario string     `json:"scenario"`
	Title    string     `json:"title"`
	Story    string     `json:"story"`
	Active   bool       `json:"active"`
	Started  time.Time  `json:"started"`
	Ended    *time.Time `json:"ended,omitempty"`
}

// ErrNothingToReveal is a reveal without a blind scenario to reveal.
var ErrNothingToReveal = errors.New(`no blind scenario has run yet: start one with {"blind": true}`)

// Reveal names the blind scenario, running or the last one. A running one is named from now
// on: in its status, its logs and pillars_scenario_active.
func (r *Runner) Reveal() (Revealed, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ru := r.lastBlind
	if ru == nil {
		return Revealed{}, ErrNothingToReveal
	}
	if !ru.revealed {
		active := ru.outcome == Running
		if active {
			r.setGauge(ru, 0)
		}
		ru.revealed = true
		if active {
			r.setGauge(ru, 1)
		}
		r.log.Info("Scenario revealed", "scenario", ru.sc.Name, "active", active)
	}
	rv := Revealed{Scenario: ru.sc.Name, Title: ru.sc.Title, Story: ru.sc.Story, Active: ru.outcome == Running, Started: ru.started}
	if !rv.Active {
		ended := ru.ended
		rv.Ended = &ended
	}
	return rv, nil
}

// chaosLoop starts a random scenario every interval while none runs.
type chaosLoop struct {
	every time.Duration
	stop  func()
}

// StartChaos turns chaos mode on: every interval a random scenario starts (blind ones when
// blind), unless one is running then. It replaces chaos mode already on; 0 turns it off.
func (r *Runner) StartChaos(every time.Duration, blind bool) {
	r.mu.Lock()
	old := r.chaos
	r.chaos = nil
	if every > 0 && !r.closed {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		r.chaos = &chaosLoop{every: every, stop: func() { cancel(); <-done }}
		go func() {
			defer close(done)
			r.chaosLoop(ctx, every, blind)
		}()
	}
	r.mu.Unlock()
	if old != nil {
		old.stop()
	}
	if every > 0 {
		r.log.Info("Chaos mode on: a random scenario at every interval", "interval", every.String(), "blind", blind)
	}
}

func (r *Runner) chaosLoop(ctx context.Context, every time.Duration, blind bool) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r.mu.Lock()
		busy := r.active != nil
		var name string
		if !busy {
			list := r.cfg.Library.List()
			name = list[r.rng.IntN(len(list))].Name
		}
		r.mu.Unlock()
		if busy {
			continue
		}
		if _, err := r.Start(StartRequest{Name: name, Blind: blind}); err != nil && !errors.Is(err, ErrBusy) && !errors.Is(err, ErrClosed) {
			r.log.Error("Chaos mode could not start a scenario", "error", err.Error())
		}
	}
}

// scaleTraffic divides the durations of a traffic change (duration, period, width) by the
// timescale, so that a shape keeps its place in the scenario.
func scaleTraffic(doc map[string]any, timescale float64) map[string]any {
	if timescale <= 1 {
		return doc
	}
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		out[k] = v
		s, ok := v.(string)
		if !ok || !slices.Contains([]string{"duration", "period", "width"}, k) {
			continue
		}
		if d, err := time.ParseDuration(strings.TrimSpace(s)); err == nil {
			d = scaled(d, timescale)
			if k == "period" {
				d = max(d, traffic.MinPeriod) // the shortest period a shape may have
			}
			out[k] = d.String()
		}
	}
	return out
}

// sleepUntil waits until t, or returns false when ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
