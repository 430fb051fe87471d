//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The alerts of deploy/prometheus/rules/alerts.yml wait minutes (`for: 5m`, 5-minute rates,
// an hour of history for the cache): too long for a scenario of the end-to-end tests. As the
// SLO rules have their committed time-scaled copy, the tests derive one of the alerts and of
// the recording rules they read, with every range, offset and `for` divided by the same
// factor, 30, so that an alert fires and resolves as the real one would, in 1/30 of the time.
// A range or a `for` is never shorter than 10 s: with scrapes every second, a shorter one
// would turn one slow scrape into an alert. Every rule carries timescale="30", and every
// recorded series is renamed (…_timescaled), so that the real rules never read the copies.

const (
	timescale      = "30"
	timescaleBy    = 30
	shortestWindow = 10 * time.Second
)

type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

type rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

var (
	rangeSelector = regexp.MustCompile(`\[([0-9a-z]+)\]`)
	offsetClause  = regexp.MustCompile(`offset ([0-9a-z]+)`)
)

// writeTimescaledRules writes time-scaled copies of recording.yml and alerts.yml from
// rulesDir into dir.
func writeTimescaledRules(rulesDir, dir string) error {
	files := map[string]*ruleFile{}
	records := map[string]string{} // recorded name → its time-scaled name
	for _, name := range []string{"recording.yml", "alerts.yml"} {
		b, err := os.ReadFile(filepath.Join(rulesDir, name))
		if err != nil {
			return err
		}
		var f ruleFile
		if err := yaml.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		files[name] = &f
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					records[r.Record] = r.Record + "_timescaled"
				}
			}
		}
	}
	// Longest names first, so that a name that is the start of another is not replaced inside it.
	names := make([]string, 0, len(records))
	for n := range records {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, f := range files {
		for gi := range f.Groups {
			g := &f.Groups[gi]
			g.Name += "-timescaled"
			for ri := range g.Rules {
				r := &g.Rules[ri]
				var err error
				if r.Expr, err = scaleExpr(r.Expr, names, records); err != nil {
					return fmt.Errorf("%s: %s%s: %w", name, r.Record, r.Alert, err)
				}
				if r.Record != "" {
					r.Record = records[r.Record]
				}
				if r.For != "" {
					d, err := time.ParseDuration(r.For)
					if err != nil {
						return fmt.Errorf("%s: %s: for %s: %w", name, r.Alert, r.For, err)
					}
					r.For = max(d/timescaleBy, shortestWindow).String()
				}
				if r.Labels == nil {
					r.Labels = map[string]string{}
				}
				r.Labels["timescale"] = timescale
			}
		}
		b, err := yaml.Marshal(f)
		if err != nil {
			return err
		}
		header := "# Time-scaled copy of deploy/prometheus/rules/" + name + " for the end-to-end tests (e2e/timescale_test.go).\n"
		if err := os.WriteFile(filepath.Join(dir, name), append([]byte(header), b...), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// scaleExpr divides the ranges and offsets of a PromQL expression by the factor and renames
// the recorded series it reads.
func scaleExpr(expr string, names []string, records map[string]string) (string, error) {
	var failed error
	scale := func(text string, floor time.Duration) string {
		d, err := time.ParseDuration(text)
		if err != nil {
			failed = fmt.Errorf("duration %q: %w", text, err)
			return text
		}
		return max(d/timescaleBy, floor).String()
	}
	expr = rangeSelector.ReplaceAllStringFunc(expr, func(m string) string {
		return "[" + scale(m[1:len(m)-1], shortestWindow) + "]"
	})
	expr = offsetClause.ReplaceAllStringFunc(expr, func(m string) string {
		return "offset " + scale(strings.TrimPrefix(m, "offset "), 0)
	})
	for _, n := range names {
		re := regexp.MustCompile(`(^|[^A-Za-z0-9_:])` + regexp.QuoteMeta(n) + `($|[^A-Za-z0-9_:])`)
		// Again until nothing changes: two names one character apart share that character,
		// and one pass sees only the first.
		for next := re.ReplaceAllString(expr, "${1}"+records[n]+"${2}"); next != expr; next = re.ReplaceAllString(expr, "${1}"+records[n]+"${2}") {
			expr = next
		}
	}
	return expr, failed
}
