package slo

import (
	"fmt"
	"os"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// alertWindows is sloth's AlertWindows document (apiVersion sloth.slok.dev/v1): the SLO period
// and the short and long window of each multi-window, multi-burn-rate alert. Only what this
// package reads or rescales is typed; sloth validates the rest.
type alertWindows struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Spec       struct {
		SLOPeriod model.Duration `yaml:"sloPeriod"`
		Page      severity       `yaml:"page"`
		Ticket    severity       `yaml:"ticket"`
	} `yaml:"spec"`
}

type severity struct {
	Quick window `yaml:"quick"`
	Slow  window `yaml:"slow"`
}

type window struct {
	ErrorBudgetPercent float64        `yaml:"errorBudgetPercent"`
	ShortWindow        model.Duration `yaml:"shortWindow"`
	LongWindow         model.Duration `yaml:"longWindow"`
}

func readWindows(path string) (alertWindows, error) {
	var w alertWindows
	b, err := os.ReadFile(path)
	if err != nil {
		return w, err
	}
	if err := yaml.Unmarshal(b, &w); err != nil {
		return w, fmt.Errorf("%s: %w", path, err)
	}
	if w.Kind != "AlertWindows" || w.Spec.SLOPeriod == 0 {
		return w, fmt.Errorf("%s: not an AlertWindows document with a sloPeriod", path)
	}
	return w, nil
}

// durations lists every duration of the document, for rescaling and for the file header.
func (w *alertWindows) durations() []*model.Duration {
	s := &w.Spec
	return []*model.Duration{
		&s.SLOPeriod,
		&s.Page.Quick.ShortWindow, &s.Page.Quick.LongWindow,
		&s.Page.Slow.ShortWindow, &s.Page.Slow.LongWindow,
		&s.Ticket.Quick.ShortWindow, &s.Ticket.Quick.LongWindow,
		&s.Ticket.Slow.ShortWindow, &s.Ticket.Slow.LongWindow,
	}
}

// scaled divides the period and every window by factor. Burn rates depend only on the ratio of
// a window to the period, so they stay the same. Every result must be a whole number of
// seconds, Prometheus's finest range that a rule file can name readably.
func (w alertWindows) scaled(factor int) (alertWindows, error) {
	if factor < 1 {
		return w, fmt.Errorf("time scale %d: must be 1 or more", factor)
	}
	for _, d := range w.durations() {
		long := time.Duration(*d)
		if long%(time.Duration(factor)*time.Second) != 0 {
			return w, fmt.Errorf("time scale %d: %s is not a whole number of seconds once divided", factor, *d)
		}
		*d = model.Duration(long / time.Duration(factor))
	}
	return w, nil
}

func (w alertWindows) write(path string) error {
	b, err := yaml.Marshal(w)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// summary names the windows as a reader of a rule file looks for them.
func (w alertWindows) summary() string {
	s := w.Spec
	return fmt.Sprintf("period %s; page %s/%s and %s/%s; ticket %s/%s and %s/%s (short/long)",
		s.SLOPeriod,
		s.Page.Quick.ShortWindow, s.Page.Quick.LongWindow, s.Page.Slow.ShortWindow, s.Page.Slow.LongWindow,
		s.Ticket.Quick.ShortWindow, s.Ticket.Quick.LongWindow, s.Ticket.Slow.ShortWindow, s.Ticket.Slow.LongWindow)
}
