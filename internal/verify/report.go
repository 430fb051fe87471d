package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/internal/termtext"
)

// Status is a check's outcome.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Skip is a check that could not run because something it needs failed first (the
	// failure is reported by that other check).
	Skip Status = "skip"
)

// Signal groups checks by what they are about.
const (
	SignalRequests     = "requests"
	SignalTraces       = "traces"
	SignalLogs         = "logs"
	SignalMetrics      = "metrics"
	SignalServiceGraph = "service graph"
	SignalLinks        = "links"
)

// Check is one line of the checklist.
type Check struct {
	Signal  string `json:"signal"`
	Name    string `json:"name"`
	Status  Status `json:"status"`
	TraceID string `json:"trace_id,omitempty"`
	// Detail says what was found, or why the check failed or was skipped.
	Detail string `json:"detail"`
	// Query is what was asked of a backend, and Answer an excerpt of what it answered, for a
	// check that failed on an answer.
	Query   string  `json:"query,omitempty"`
	Answer  string  `json:"answer,omitempty"`
	Seconds float64 `json:"seconds"`
}

// Backend is one store verify talked to.
type Backend struct {
	Role string `json:"role"` // frontend, metrics, traces, logs, data sources
	Kind string `json:"kind"`
	URL  string `json:"url"`
}

// Report is the whole outcome of a run.
type Report struct {
	Passed   bool      `json:"passed"`
	Started  time.Time `json:"started"`
	Backends []Backend `json:"backends"`
	Checks   []Check   `json:"checks"`
	Counts   struct {
		Passed  int `json:"passed"`
		Failed  int `json:"failed"`
		Skipped int `json:"skipped"`
	} `json:"counts"`
}

// Failed lists the checks that failed.
func (r Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c)
		}
	}
	return out
}

func (r *Report) finish() {
	r.Counts.Passed, r.Counts.Failed, r.Counts.Skipped = 0, 0, 0
	for _, c := range r.Checks {
		switch c.Status {
		case Pass:
			r.Counts.Passed++
		case Fail:
			r.Counts.Failed++
		default:
			r.Counts.Skipped++
		}
	}
	r.Passed = r.Counts.Failed == 0 && r.Counts.Passed > 0
}

// WriteJSON writes the report as one indented JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the checklist for a person: one line per check, and under a failed one
// the query that failed and what came back.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString("pillars verify\n")
	for _, be := range r.Backends {
		fmt.Fprintf(&b, "  %-12s %-26s %s\n", be.Role, be.Kind, be.URL)
	}
	b.WriteString("\n")
	nameWidth := 0
	for _, c := range r.Checks {
		nameWidth = max(nameWidth, len(c.Name))
	}
	for _, c := range r.Checks {
		indent := strings.Repeat(" ", 4+2+13+2+nameWidth+2)
		detail := strings.ReplaceAll(c.Detail, "\n", "\n"+indent)
		fmt.Fprintf(&b, "%-4s  %-13s  %-*s  %s", strings.ToUpper(string(c.Status)), c.Signal, nameWidth, c.Name, detail)
		if c.TraceID != "" {
			fmt.Fprintf(&b, "  [trace %s]", c.TraceID)
		}
		b.WriteString("\n")
		if c.Status == Fail && c.Query != "" {
			fmt.Fprintf(&b, "%squery:  %s\n", indent, c.Query)
		}
		if c.Status == Fail && c.Answer != "" {
			fmt.Fprintf(&b, "%sanswer: %s\n", indent, c.Answer)
		}
	}
	verdict := "all checks passed"
	if !r.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "\n%s: %d of %d checks passed; %d failed, %d skipped\n",
		verdict, r.Counts.Passed, len(r.Checks), r.Counts.Failed, r.Counts.Skipped)
	// Details and answers quote what the stores and the frontend answered, which any client
	// could have put there: control characters are shown as escapes, the layout's newlines kept.
	_, err := io.WriteString(w, termtext.EscapeText(b.String()))
	return err
}
