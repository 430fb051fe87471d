package checks

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

var promql = parser.NewParser(parser.Options{})

func parseRules(t *testing.T, file string) *rulefmt.RuleGroups {
	t.Helper()
	groups, errs := rulefmt.ParseFile(file, false, model.UTF8Validation, promql, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if len(errs) > 0 {
		t.Fatalf("%s: %v", file, errs)
	}
	return groups
}

// query is one PromQL or LogQL expression and where it was found, for error messages.
type query struct {
	where string
	expr  string
	// exemplar is whether a dashboard query asks for exemplars.
	exemplar bool
}

// ruleQueries returns every rule expression, and the names the recording rules define.
func ruleQueries(t *testing.T) (queries []query, recorded map[string]bool) {
	t.Helper()
	recorded = map[string]bool{}
	for _, f := range allRuleFiles(t) {
		for _, g := range parseRules(t, f).Groups {
			for _, r := range g.Rules {
				name := r.Record
				if name == "" {
					name = "alert " + r.Alert
				} else {
					recorded[r.Record] = true
				}
				queries = append(queries, query{where: fmt.Sprintf("%s: %s", filepath.Base(f), name), expr: r.Expr})
			}
		}
	}
	return queries, recorded
}

// dashboardFiles returns the generated dashboards, decoded.
func dashboardFiles(t *testing.T) map[string]any {
	t.Helper()
	files, err := filepath.Glob(path(t, "deploy", "grafana", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in deploy/grafana/dashboards: %v", err)
	}
	out := map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d any
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = d
	}
	return out
}

// dashboardQueries walks a dashboard and returns its queries by data source uid. A target
// without its own data source uses its panel's.
func dashboardQueries(name string, d any) map[string][]query {
	out := map[string][]query{}
	var walk func(v any, ds, title string)
	walk = func(v any, ds, title string) {
		switch v := v.(type) {
		case map[string]any:
			if uid := datasourceUID(v["datasource"]); uid != "" {
				ds = uid
			}
			if t, ok := v["title"].(string); ok {
				title = t
			}
			if expr, ok := v["expr"].(string); ok {
				ex, _ := v["exemplar"].(bool)
				out[ds] = append(out[ds], query{where: fmt.Sprintf("%s: panel %q", name, title), expr: expr, exemplar: ex})
			}
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(v[k], ds, title)
			}
		case []any:
			for _, e := range v {
				walk(e, ds, title)
			}
		}
	}
	walk(d, "", "")
	return out
}

func datasourceUID(v any) string {
	if m, ok := v.(map[string]any); ok {
		if uid, ok := m["uid"].(string); ok {
			return uid
		}
	}
	return ""
}

// datasourceQueries returns the PromQL that the Tempo data source runs for trace -> metrics
// links. Grafana unescapes $$ and fills $__tags with the mapped span tags (job="...").
func datasourceQueries(t *testing.T) []query {
	t.Helper()
	var queries []query
	for _, ds := range provisionedDatasources(t) {
		var j struct {
			TracesToMetrics struct {
				Queries []struct {
					Name  string `yaml:"name"`
					Query string `yaml:"query"`
				} `yaml:"queries"`
			} `yaml:"tracesToMetrics"`
		}
		remarshal(t, ds.JSONData, &j)
		for _, q := range j.TracesToMetrics.Queries {
			expr := strings.ReplaceAll(q.Query, "$$", "$")
			expr = strings.ReplaceAll(expr, "$__tags", `job="frontend"`)
			queries = append(queries, query{where: fmt.Sprintf("data source %s: tracesToMetrics %q", ds.UID, q.Name), expr: expr})
		}
	}
	return queries
}

// grafanaVariables stand in for what Grafana substitutes before a query reaches Prometheus.
var grafanaVariables = strings.NewReplacer(
	"$__rate_interval", "1m",
	"${__rate_interval}", "1m",
	"$__interval", "15s",
	"${__interval}", "15s",
	"$__range", "1h",
	"${__range}", "1h",
)

// metricNames parses a PromQL expression and returns the metric names it selects. A selector
// without a literal name (a __name__ regex) is an error: it would hide names from this check.
func metricNames(expr string) ([]string, error) {
	e, err := promql.ParseExpr(grafanaVariables.Replace(expr))
	if err != nil {
		return nil, err
	}
	var names []string
	var selErr error
	parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if name == "" {
			for _, m := range vs.LabelMatchers {
				if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
					name = m.Value
				}
			}
		}
		if name == "" {
			selErr = fmt.Errorf("selector %s names no metric", vs)
		}
		names = append(names, name)
		return nil
	})
	return names, selErr
}

// Every PromQL query in the rules, the dashboards and the data sources parses, and names only
// metrics that exist: produced by the services, Prometheus or Tempo (metrics/known.txt), or
// recorded by a rule.
func TestQueriesParseAndUseKnownMetrics(t *testing.T) {
	known := knownMetrics(t)
	queries, recorded := ruleQueries(t)
	for name, d := range dashboardFiles(t) {
		queries = append(queries, dashboardQueries(name, d)["prometheus"]...)
	}
	queries = append(queries, datasourceQueries(t)...)

	used := map[string]bool{}
	for _, q := range queries {
		names, err := metricNames(q.expr)
		if err != nil {
			t.Errorf("%s: %v\n%s", q.where, err, q.expr)
			continue
		}
		for _, n := range names {
			used[n] = true
			if known[n] == "" && !recorded[n] {
				t.Errorf("%s: metric %s is neither in metrics/known.txt nor recorded by a rule", q.where, n)
			}
		}
	}
	for name := range recorded {
		if known[name] != "" {
			t.Errorf("%s is both recorded by a rule and listed in known.txt", name)
		}
	}
	if len(queries) < 50 {
		t.Errorf("found only %d queries; the walk over rules and dashboards missed some", len(queries))
	}
	t.Logf("%d queries checked, %d distinct metrics", len(queries), len(used))
}

func TestKnownMetricsFileIsWellFormed(t *testing.T) {
	sections := map[string]int{}
	for name, section := range knownMetrics(t) {
		sections[section]++
		if !model.LegacyValidation.IsValidMetricName(name) {
			t.Errorf("known.txt: %q is not a valid metric name", name)
		}
		if (section == "services" || section == "pending") && !regexp.MustCompile(`^(frontend|backend|database|pillars|go|process|http_server)_`).MatchString(name) {
			t.Errorf("known.txt: %s in [%s] does not start with a service's prefix", name, section)
		}
		if section == "tempo" && !strings.HasPrefix(name, "traces_") {
			t.Errorf("known.txt: %s in [tempo] is not a traces_* metric", name)
		}
	}
	for _, s := range []string{"services", "prometheus", "tempo"} {
		if sections[s] == 0 {
			t.Errorf("known.txt has no [%s] section", s)
		}
	}
	// [pending] is optional: it empties as the services catch up with the contract.
	for s := range sections {
		if !slices.Contains([]string{"services", "prometheus", "tempo", "pending"}, s) {
			t.Errorf("known.txt: unknown section [%s]; the sections are services, prometheus, tempo and pending", s)
		}
	}
}

// Latency is shown with exemplars: every dashboard query on a histogram's buckets asks for
// them, so a slow dot opens the slow request's trace.
func TestLatencyPanelsShowExemplars(t *testing.T) {
	n := 0
	for name, d := range dashboardFiles(t) {
		for _, q := range dashboardQueries(name, d)["prometheus"] {
			if strings.Contains(q.expr, "histogram_quantile") && strings.Contains(q.expr, "_bucket") {
				n++
				if !q.exemplar {
					t.Errorf("%s: latency query without exemplars: %s", q.where, q.expr)
				}
			}
		}
	}
	if n == 0 {
		t.Error("no latency queries found")
	}
}

// The services' latency histograms are native histograms as well as classic ones: a
// dashboard quantile of one reads the native series first and falls back on _bucket (for
// metrics pushed over OTLP, or a Prometheus that scrapes no native histograms).
func TestLatencyPanelsPreferNativeHistograms(t *testing.T) {
	native := []string{"frontend_request_duration_seconds", "backend_request_duration_seconds",
		"database_request_duration_seconds", "backend_processing_time_seconds", "database_query_duration_seconds"}
	seen := map[string]bool{}
	for name, d := range dashboardFiles(t) {
		for _, q := range dashboardQueries(name, d)["prometheus"] {
			if !strings.Contains(q.expr, "histogram_quantile") {
				continue
			}
			for _, h := range native {
				usesClassic := strings.Contains(q.expr, h+"_bucket[")
				usesNative := strings.Contains(q.expr, "rate("+h+"[")
				if usesClassic && !usesNative {
					t.Errorf("%s: reads %s_bucket but not the native %s: %s", q.where, h, h, q.expr)
				}
				if usesNative && !usesClassic {
					t.Errorf("%s: reads the native %s without the classic fallback: %s", q.where, h, q.expr)
				}
				seen[h] = seen[h] || usesNative
			}
		}
	}
	for _, h := range native {
		if !seen[h] {
			t.Errorf("no dashboard shows a quantile of the native %s", h)
		}
	}
}

// The services ship logs with the stream labels service, level and environment (contract);
// a LogQL selector on any other label would match nothing.
func TestLogQueriesSelectShippedStreams(t *testing.T) {
	shipped := []string{"service", "level", "environment"}
	var queries []query
	for name, d := range dashboardFiles(t) {
		queries = append(queries, dashboardQueries(name, d)["loki"]...)
	}
	for _, ds := range provisionedDatasources(t) {
		var j struct {
			TracesToLogsV2 struct {
				Query string `yaml:"query"`
			} `yaml:"tracesToLogsV2"`
		}
		remarshal(t, ds.JSONData, &j)
		if j.TracesToLogsV2.Query != "" {
			queries = append(queries, query{where: "data source " + ds.UID + ": tracesToLogsV2", expr: j.TracesToLogsV2.Query})
		}
	}
	if len(queries) < 4 {
		t.Fatalf("found only %d LogQL queries", len(queries))
	}
	for _, q := range queries {
		end := strings.Index(q.expr, "}")
		if !strings.HasPrefix(q.expr, "{") || end < 0 {
			t.Errorf("%s: %q does not start with a stream selector", q.where, q.expr)
			continue
		}
		matchers, err := promql.ParseMetricSelector(q.expr[:end+1])
		if err != nil {
			t.Errorf("%s: stream selector: %v", q.where, err)
			continue
		}
		for _, m := range matchers {
			if !slices.Contains(shipped, m.Name) {
				t.Errorf("%s: selects on label %q, but streams carry only %v", q.where, m.Name, shipped)
			}
			if m.Name == "service" && !slices.ContainsFunc(pillarsServices, func(svc struct{ name, port, addrVar string }) bool {
				return m.Matches(svc.name)
			}) {
				t.Errorf("%s: service matcher %s matches none of the services", q.where, m)
			}
		}
	}
}
