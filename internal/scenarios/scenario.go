// Package scenarios turns incidents into files: each scenario says what a user lives through
// (its story), what is broken and when (timed steps: faults on a service, the traffic's
// shape, a clear), and how the incident shows (its signature: the PromQL that crosses a
// threshold, the span that fails or carries an attribute, the log lines that appear, the
// alerts that fire).
//
// It reads and validates the files (YAML, every mistake named by file and line), runs a
// scenario against a deployment through the services' admin APIs (the frontend hosts the
// runner: /admin/scenarios, /admin/scenario, chaos and blind modes), and checks a
// signature against the telemetry backends through package readback: the same code
// `pillars scenario check` and the end-to-end tests use.
package scenarios

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
)

// Scenario is one incident on demand.
type Scenario struct {
	Name     string          `json:"name"`
	Title    string          `json:"title"`
	Story    string          `json:"story"`
	Duration faults.Duration `json:"duration"`
	Steps    []Step          `json:"steps"`
	// Signature is how the incident shows in the telemetry.
	Signature Signature `json:"signature"`
	// File is where the scenario was read from.
	File string `json:"file"`
}

// Step is one change at a time into the scenario. Exactly one of Patch, Put, Traffic and
// Clear is set.
type Step struct {
	At faults.Duration `json:"at"`
	// Say is what happens now, in the words of the story: shown while the scenario runs.
	Say string `json:"say,omitempty"`
	// Service is the one whose faults change (frontend, backend, database); for Clear, empty
	// means every service.
	Service string `json:"service,omitempty"`
	// Patch changes the knobs given (PATCH /admin/faults); Put makes them the service's only
	// faults (PUT).
	Patch map[string]any `json:"patch,omitempty"`
	Put   map[string]any `json:"put,omitempty"`
	// Traffic changes the frontend's traffic (as PATCH /admin/traffic takes it).
	Traffic map[string]any `json:"traffic,omitempty"`
	// Clear turns faults off: of Service, or of every service.
	Clear bool `json:"clear,omitempty"`

	line int
}

// Describe says what the step does, for progress lines and logs.
func (s Step) Describe() string {
	switch {
	case s.Patch != nil:
		return s.Service + ": " + knobsText(s.Patch)
	case s.Put != nil:
		if len(s.Put) == 0 {
			return s.Service + ": no faults"
		}
		return s.Service + ": only " + knobsText(s.Put)
	case s.Traffic != nil:
		return "traffic: " + knobsText(s.Traffic)
	case s.Service != "":
		return s.Service + ": faults cleared"
	}
	return "every service: faults cleared"
}

// knobsText writes a document as "latency=300ms, error_rate=0.2", keys sorted.
func knobsText(doc map[string]any) string {
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := doc[k]
		if m, ok := v.(map[string]any); ok {
			parts[i] = k + "={" + knobsText(m) + "}"
			continue
		}
		b, _ := json.Marshal(v)
		parts[i] = k + "=" + strings.Trim(string(b), `"`)
	}
	return strings.Join(parts, ", ")
}

// Signature is how an incident shows, one item per signal. Every item is something a broken
// build would not show: the checks want each observed while the scenario runs and none in a
// clean baseline.
type Signature struct {
	Metrics []MetricItem `json:"metrics"`
	Traces  []TraceItem  `json:"traces"`
	Logs    []LogItem    `json:"logs"`
	Alerts  []AlertItem  `json:"alerts"`
}

// MetricItem is a PromQL query whose value must cross a threshold: some sample of the
// result above Above, or below Below (exactly one is set).
type MetricItem struct {
	Name  string   `json:"name"`
	Query string   `json:"query"`
	Above *float64 `json:"above,omitempty"`
	Below *float64 `json:"below,omitempty"`
}

// Crossed reports whether v is past the threshold.
func (m MetricItem) Crossed(v float64) bool {
	if m.Above != nil {
		return v > *m.Above
	}
	return v < *m.Below
}

// Threshold writes the comparison: "> 0.25".
func (m MetricItem) Threshold() string {
	if m.Above != nil {
		return "> " + fmt.Sprint(*m.Above)
	}
	return "< " + fmt.Sprint(*m.Below)
}

// TraceItem is a span that must appear: of Service, named Span, with an error status
// (Error) and/or carrying Attribute (equal to Value, or containing Contains, when given).
type TraceItem struct {
	Service   string `json:"service"`
	Span      string `json:"span"`
	Error     bool   `json:"error,omitempty"`
	Attribute string `json:"attribute,omitempty"`
	Value     string `json:"value,omitempty"`
	Contains  string `json:"contains,omitempty"`
}

// LogItem is log lines that must appear: of Service, at Level, whose message contains
// Message.
type LogItem struct {
	Service string `json:"service"`
	Level   string `json:"level"`
	Message string `json:"message"`
}

// AlertItem is an alert that must fire, with at least these labels. The time-scaled rules
// of the tests carry the same names with timescale="30" added (see CheckOptions).
type AlertItem struct {
	Alert  string            `json:"alert"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Items counts the signature's items.
func (s Signature) Items() int {
	return len(s.Metrics) + len(s.Traces) + len(s.Logs) + len(s.Alerts)
}

// scaled is d divided by timescale (1 or more).
func scaled(d time.Duration, timescale float64) time.Duration {
	if timescale <= 1 {
		return d
	}
	return time.Duration(float64(d) / timescale)
}
