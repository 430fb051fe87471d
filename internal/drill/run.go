package drill

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/scenarios"
)

// run drives one episode: distractors and the fault at their (scaled) times, then the
// manifestation watch, then waits for the answer (another process may give it: the state file
// is read again) and cleans up.
func (d *Desk) run(ctx context.Context, rec *record) {
	ep := rec.Episode
	var wg sync.WaitGroup
	for _, x := range ep.Distractors {
		wg.Go(func() { d.distract(ctx, rec, x) })
	}
	defer wg.Wait()
	if !d.sleepUntil(ctx, rec, rec.Started.Add(d.scaled(ep.FaultAt))) {
		return
	}
	faultStart := time.Now().UTC()
	for _, st := range ep.Fault {
		if err := d.apply(ctx, st); err != nil {
			d.void(rec, "the fault could not be applied: "+err.Error())
			d.cleanUp(ctx, rec)
			return
		}
	}
	rec.Episode.Key.Start = faultStart
	if !ep.Incident() {
		if !d.sleepUntil(ctx, rec, time.Now().Add(d.scaled(ep.QuietFor))) {
			d.cleanUp(ctx, rec)
			return
		}
		rec.State, rec.Ready = StateReady, time.Now().UTC()
	} else if !d.manifest(ctx, rec, faultStart) {
		d.cleanUp(ctx, rec)
		return
	}
	if err := d.lockedUpdate(rec); err != nil {
		return
	}
	d.cfg.Logger.Info("Drill episode ready", "id", rec.ID)
	deadline := rec.Started.Add(d.cfg.MaxDuration)
	for {
		cur, err := d.store.load()
		if err != nil || cur.ID != rec.ID || !cur.active() || time.Now().After(deadline) {
			break
		}
		if !sleep(ctx, d.cfg.Poll) {
			break
		}
	}
	d.cleanUp(ctx, rec)
}

// manifest watches the symptoms until every item is seen (ready) or ManifestWithin passes
// (void, with what was not seen).
func (d *Desk) manifest(ctx context.Context, rec *record, from time.Time) bool {
	deadline := from.Add(d.cfg.ManifestWithin)
	for {
		results := scenarios.Check(ctx, rec.Episode.Signature, d.cfg.Stores, scenarios.CheckOptions{Since: from})
		rec.Manifest = results
		if all(results) {
			rec.State, rec.Ready = StateReady, time.Now().UTC()
			return true
		}
		if time.Now().After(deadline) || !sleep(ctx, d.cfg.Poll) {
			d.void(rec, "symptoms not seen within "+d.cfg.ManifestWithin.String()+": "+missing(results))
			return false
		}
		if cur, err := d.store.load(); err != nil || cur.ID != rec.ID || !cur.active() {
			return false // stopped meanwhile
		}
	}
}

func all(results []scenarios.Result) bool {
	for _, r := range results {
		if !r.Observed {
			return false
		}
	}
	return len(results) > 0
}

func missing(results []scenarios.Result) string {
	var parts []string
	for _, r := range results {
		if !r.Observed {
			parts = append(parts, r.String())
		}
	}
	return strings.Join(parts, "; ")
}

// void records the episode as void, with its reason, among the results (never scored).
func (d *Desk) void(rec *record, reason string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if cur, err := d.store.load(); err == nil && cur.ID == rec.ID && !cur.active() {
		return // stopped meanwhile: nothing to void
	}
	rec.State, rec.VoidReason = StateVoid, reason
	res := resultOf(rec)
	res.Void, res.VoidReason = true, reason
	rec.Result = &res
	d.cfg.Logger.Warn("Drill episode void", "id", rec.ID, "reason", reason)
	_ = d.store.appendResult(res)
	_ = d.store.save(rec)
}

func (d *Desk) lockedUpdate(rec *record) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.update(rec)
}

// update saves rec unless the state file moved on (answered or stopped by another process).
func (d *Desk) update(rec *record) error {
	if cur, err := d.store.load(); err == nil && cur.ID == rec.ID && !cur.active() && rec.active() {
		*rec = *cur
		return errStale
	}
	return d.store.save(rec)
}

var errStale = errorString("the episode ended meanwhile")

type errorString string

func (e errorString) Error() string { return string(e) }

func (d *Desk) distract(ctx context.Context, rec *record, x Distractor) {
	if !d.sleepUntil(ctx, rec, rec.Started.Add(d.scaled(x.At))) {
		return
	}
	_ = d.apply(ctx, x.Do)
	if x.Undo == nil {
		return
	}
	if d.sleepUntil(ctx, rec, time.Now().Add(d.scaled(x.For))) {
		_ = d.apply(ctx, *x.Undo)
	}
}

func (d *Desk) apply(ctx context.Context, st Step) error {
	if st.Traffic != nil {
		return d.cfg.Admin[Frontend].Do(ctx, http.MethodPatch, "/admin/traffic", st.Traffic, nil)
	}
	c := d.cfg.Admin[st.Service]
	if c == nil {
		return errorString("no admin client for " + st.Service)
	}
	return c.Patch(ctx, st.Patch)
}

// cleanUp ends an episode on the services: every fault off, the traffic as it was, labels on.
func (d *Desk) cleanUp(ctx context.Context, rec *record) {
	for _, svc := range []string{Frontend, Backend, Database} {
		if c := d.cfg.Admin[svc]; c != nil {
			if err := c.Replace(ctx, map[string]any{}); err != nil {
				d.cfg.Logger.Error("Drill could not clear the faults", "service", svc, "error", err.Error())
			}
		}
	}
	if fe := d.cfg.Admin[Frontend]; fe != nil && len(rec.Traffic) > 0 {
		_ = fe.Do(ctx, http.MethodPut, "/admin/traffic", settingsOf(rec.Traffic), nil)
	}
	if err := d.setLabels(ctx, true); err != nil {
		d.cfg.Logger.Error("Drill could not turn labels back on", "error", err.Error())
	}
}

// settingsOf keeps the settings fields of a traffic status (PUT takes settings only).
func settingsOf(status []byte) map[string]any {
	var m map[string]any
	_ = jsonUnmarshal(status, &m)
	for _, k := range []string{"target_rate", "running", "until", "then"} {
		delete(m, k)
	}
	return m
}

func (d *Desk) setLabels(ctx context.Context, on bool) error {
	var errs []error
	for _, svc := range []string{Frontend, Backend, Database} {
		if c := d.cfg.Admin[svc]; c != nil {
			if err := c.Do(ctx, http.MethodPut, "/admin/labels", faults.LabelsState{Labels: on}, nil); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return joinErrs(errs)
}

func (d *Desk) scaled(x time.Duration) time.Duration {
	return time.Duration(float64(x) / d.cfg.Timescale)
}

// sleepUntil waits until t, or less when the episode ended meanwhile (false).
func (d *Desk) sleepUntil(ctx context.Context, rec *record, t time.Time) bool {
	for {
		left := time.Until(t)
		if left <= 0 {
			return true
		}
		if cur, err := d.store.load(); err != nil || cur.ID != rec.ID || !cur.active() {
			return false
		}
		if !sleep(ctx, min(left, d.cfg.Poll)) {
			return false
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func joinErrs(errs []error) error { return errors.Join(errs...) }
