package faults

import (
	"strings"
	"testing"
)

// Check reads a knobs document as the admin API would, for a service named by its tier.
func TestCheck(t *testing.T) {
	for _, c := range []struct {
		tier, doc, want string // want: "" for valid, else part of the error
	}{
		{"database", `{"latency": "300ms", "missing_index": true}`, ""},
		{"backend", `{"version": "2.0.0", "route": "/api/product/{id}", "route_error_rate": 0.5}`, ""},
		{"frontend", `{"retries": 3}`, ""},
		{"database", `{"latency": "3 minutes"}`, "knob latency"},
		{"database", `{"cache_off": true}`, `unknown knob "cache_off": the database's knobs are latency`},
		{"frontend", `{"retries": 9}`, "from 0 to 5"},
		{"cache", `{}`, `unknown service "cache"`},
		{"backend", `[]`, "one JSON object"},
	} {
		err := Check(c.tier, []byte(c.doc))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("Check(%s, %s): %v", c.tier, c.doc, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("Check(%s, %s): %v, want an error containing %q", c.tier, c.doc, err, c.want)
		}
	}
	knobs, err := KnobsOf("backend")
	if err != nil || len(knobs) < 10 {
		t.Fatalf("KnobsOf(backend): %d knobs, %v", len(knobs), err)
	}
}
