package drill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/scenarios"
)

// Config is what a desk needs, filled by cmd/pillars.
type Config struct {
	// StateDir keeps the episode, its key and the results (0700/0600).
	StateDir string
	// Admin are the admin clients of the services, by name (frontend, backend, database),
	// with the admin token: drill mode needs one.
	Admin map[string]*faults.AdminClient
	// Stores are where the symptoms are looked for (Prometheus for the metric items).
	Stores scenarios.Stores
	// Timescale > 1 runs the episode's timing (fault start, distractors) that many times
	// faster; the symptoms still take their real time to show (default 1).
	Timescale float64
	// ManifestWithin bounds the wait for the symptoms after the fault (default 4m); past it
	// the episode is void.
	ManifestWithin time.Duration
	// Poll is how often the symptoms and the state file are read (default 5s).
	Poll time.Duration
	// MaxDuration ends an episode nobody answers (default 30m).
	MaxDuration time.Duration
	Logger      *slog.Logger
}

// Desk runs one drill episode at a time against a deployment and keeps its key and results
// in the state directory. Its answers (Status, Answer, Reveal, Score) never hold the key
// before the episode is answered.
type Desk struct {
	cfg   Config
	store store
	wg    sync.WaitGroup
	// mu serialises the read-change-write of the state file within this process (the run,
	// an answer, a stop): an answer is never overwritten by the run's own update.
	mu sync.Mutex
}

// ErrNoEpisode: nothing was started yet.
var ErrNoEpisode = errors.New("no drill episode yet: start one with `pillars drill start`")

// ErrBusy: an episode is running.
var ErrBusy = errors.New("a drill episode is running: answer it first (or stop it)")

// NewDesk returns a desk over cfg.
func NewDesk(cfg Config) (*Desk, error) {
	if cfg.StateDir == "" {
		return nil, errors.New("drill: a state directory is needed")
	}
	if cfg.Timescale < 1 {
		cfg.Timescale = 1
	}
	if cfg.ManifestWithin <= 0 {
		cfg.ManifestWithin = 4 * time.Minute
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	if cfg.MaxDuration <= 0 {
		cfg.MaxDuration = 30 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Desk{cfg: cfg, store: store{cfg.StateDir}}
	return d, d.store.init()
}

// Status is what anyone may know of the current episode: never its family, key or seed.
type Status struct {
	ID      string    `json:"id"`
	State   string    `json:"state"`
	Started time.Time `json:"started"`
	// Ready says the symptoms were seen: diagnose now.
	Ready bool `json:"ready"`
	// VoidReason says why an episode is void (its fault never showed).
	VoidReason string `json:"void_reason,omitempty"`
	Hint       string `json:"hint"`
}

func statusOf(r *record) Status {
	st := Status{ID: r.ID, State: r.State, Started: r.Started, Ready: r.State == StateReady, VoidReason: r.VoidReason}
	switch r.State {
	case StateStarting:
		st.Hint = "the episode is under way; it is ready to diagnose once it says so"
	case StateReady:
		st.Hint = `diagnose from the symptoms, then answer {"service", "kind", "component"}; {"service":"none","kind":"none"} if nothing is wrong`
	case StateVoid:
		st.Hint = "void: the fault never showed, so it is not scored"
	default:
		st.Hint = "over: reveal shows what it was"
	}
	return st
}

// Start begins the episode of seed: labels off on every service, then the fault and the
// distractors at their times, watched until the symptoms show (or the episode is void). It
// returns at once; Wait waits for the episode to end.
func (d *Desk) Start(ctx context.Context, seed int64) (Status, error) {
	if cur, err := d.store.load(); err == nil && cur.active() {
		return Status{}, ErrBusy
	}
	if err := d.noScenario(ctx); err != nil {
		return Status{}, err
	}
	ep := Generate(seed)
	rec := &record{ID: newID(), Episode: ep, Timescale: d.cfg.Timescale, State: StateStarting, Started: time.Now().UTC()}
	if fe := d.cfg.Admin[Frontend]; fe != nil {
		var traffic json.RawMessage
		if err := fe.Do(ctx, http.MethodGet, "/admin/traffic", nil, &traffic); err == nil {
			rec.Traffic = traffic
		}
	}
	if err := d.setLabels(ctx, false); err != nil {
		_ = d.setLabels(context.WithoutCancel(ctx), true)
		return Status{}, fmt.Errorf("drill mode: %w", err)
	}
	if err := d.store.save(rec); err != nil {
		return Status{}, err
	}
	d.cfg.Logger.Info("Drill episode started", "id", rec.ID)
	st := statusOf(rec)
	d.wg.Go(func() { d.run(context.WithoutCancel(ctx), rec) })
	return st, nil
}

// noScenario refuses a drill while the frontend runs a scenario: its faults would mix with the
// episode's, and its status would name them.
func (d *Desk) noScenario(ctx context.Context) error {
	fe := d.cfg.Admin[Frontend]
	if fe == nil {
		return nil
	}
	var st struct {
		Active bool `json:"active"`
	}
	if err := fe.Do(ctx, http.MethodGet, "/admin/scenario", nil, &st); err == nil && st.Active {
		return errors.New("a scenario is running: stop it first (pillars scenario stop)")
	}
	return nil
}

// Wait waits for the episodes this desk started to end.
func (d *Desk) Wait() { d.wg.Wait() }

// Status is the current (or last) episode's public state.
func (d *Desk) Status(ctx context.Context) (Status, error) {
	rec, err := d.store.load()
	if err != nil {
		return Status{}, err
	}
	return statusOf(rec), nil
}

// AnswerResult is what an answer gets: the grade, and the reveal that comes with it.
type AnswerResult struct {
	ID     string `json:"id"`
	Grade  Grade  `json:"grade"`
	Reveal Reveal `json:"reveal"`
}

// Reveal says what an episode was, after its answer.
type Reveal struct {
	Seed        int64    `json:"seed"`
	Key         Key      `json:"key"`
	Family      string   `json:"family"`
	Magnitude   string   `json:"magnitude,omitempty"`
	Distractors []string `json:"distractors,omitempty"`
	Summary     string   `json:"summary"`
}

func revealOf(ep Episode) Reveal {
	r := Reveal{Seed: ep.Seed, Key: ep.Key, Family: ep.Family, Magnitude: ep.Magnitude, Summary: ep.Describe()}
	if r.Family == "" {
		r.Family = NoIncident
	}
	for _, x := range ep.Distractors {
		r.Distractors = append(r.Distractors, x.Name)
	}
	return r
}

// ErrNotReady: an answer before the symptoms showed.
var ErrNotReady = errors.New("the episode is not ready: its symptoms have not shown yet (see status)")

// Answer grades a diagnosis document of the current episode, stores the result, ends the
// episode and reveals it. A bad document is a *FieldError.
func (d *Desk) Answer(ctx context.Context, body io.Reader) (AnswerResult, error) {
	diag, err := ParseDiagnosis(body)
	if err != nil {
		return AnswerResult{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	rec, err := d.store.load()
	if err != nil {
		return AnswerResult{}, err
	}
	switch rec.State {
	case StateStarting:
		return AnswerResult{}, ErrNotReady
	case StateVoid:
		return AnswerResult{}, errors.New("the episode is void (" + rec.VoidReason + "): it is not scored")
	case StateAnswered, StateAbandoned:
		return AnswerResult{}, errors.New("the episode is over: start another")
	}
	g := GradeDiagnosis(rec.Episode.Key, diag, rec.Ready, time.Now())
	res := resultOf(rec)
	res.Diagnosis, res.Grade = &diag, &g
	rec.State, rec.Result = StateAnswered, &res
	if err := d.store.appendResult(res); err != nil {
		return AnswerResult{}, err
	}
	if err := d.store.save(rec); err != nil {
		return AnswerResult{}, err
	}
	d.cleanUp(context.WithoutCancel(ctx), rec)
	return AnswerResult{ID: rec.ID, Grade: g, Reveal: revealOf(rec.Episode)}, nil
}

// Reveal shows the key of the last episode once it is over (answered, void or stopped).
func (d *Desk) Reveal(ctx context.Context) (Reveal, error) {
	rec, err := d.store.load()
	if err != nil {
		return Reveal{}, err
	}
	if rec.active() {
		return Reveal{}, errors.New("the episode is still running: answer first (or stop it, which scores nothing)")
	}
	return revealOf(rec.Episode), nil
}

// Stop abandons the running episode: faults cleared, labels on, nothing scored.
func (d *Desk) Stop(ctx context.Context) (Status, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec, err := d.store.load()
	if err != nil {
		return Status{}, err
	}
	if rec.active() {
		rec.State = StateAbandoned
		if err := d.store.save(rec); err != nil {
			return Status{}, err
		}
	}
	d.cleanUp(ctx, rec)
	return statusOf(rec), nil
}

func resultOf(rec *record) Result {
	res := Result{ID: rec.ID, Seed: rec.Episode.Seed, Family: rec.Episode.Family, Key: rec.Episode.Key, Started: rec.Started, At: time.Now().UTC()}
	for _, x := range rec.Episode.Distractors {
		res.Distractors = append(res.Distractors, x.Name)
	}
	return res
}

// Stores are where the desk reads the symptoms from.
func (d *Desk) Stores() scenarios.Stores { return d.cfg.Stores }

// Results are every stored result, oldest first.
func (d *Desk) Results() ([]Result, error) { return d.store.results() }

// Score is the scoreboard of every result stored so far.
func (d *Desk) Score(ctx context.Context) (Scoreboard, error) {
	res, err := d.store.results()
	if err != nil {
		return Scoreboard{}, err
	}
	return Tally(res), nil
}

func newID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "ep-" + hex.EncodeToString(b)
}
