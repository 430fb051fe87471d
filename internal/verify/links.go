package verify

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// linkChecks are the checks of the data sources' links between signals: for each link, the
// query Grafana would run when it is clicked is run against the stores, and must find the
// request's own data. They run after the signal checks, whose data they follow.
func (r *runner) linkChecks() []checkFunc {
	var checks []checkFunc
	for _, ds := range r.sources {
		for _, dest := range ds.JSONData.ExemplarTraceIDDestinations {
			checks = append(checks, func(ctx context.Context) Check { return r.exemplarLink(ctx, ds, dest) })
		}
		for _, f := range ds.JSONData.DerivedFields {
			checks = append(checks, func(ctx context.Context) Check { return r.derivedFieldLink(ctx, ds, f) })
		}
		if t := ds.JSONData.TracesToLogsV2; t != nil {
			checks = append(checks, func(ctx context.Context) Check { return r.tracesToLogsLink(ctx, ds, *t) })
		}
	}
	return checks
}

// linkTarget checks that a link points at a provisioned data source of the right kind.
func (r *runner) linkTarget(c Check, uid string, want func(dataSource) bool, what string) (Check, bool) {
	target, ok := sourceByUID(r.sources, uid)
	if !ok {
		c.Status, c.Detail = Fail, fmt.Sprintf("the link points at data source uid %q, which is not provisioned", uid)
		return c, false
	}
	if !want(target) {
		c.Status, c.Detail = Fail, fmt.Sprintf("the link points at %s, not at %s", target, what)
		return c, false
	}
	return c, true
}

// missRequest is the request whose signals the links follow.
func (r *runner) missRequest() *request { return r.requests[0] }

// exemplarLink: an exemplar of the latency histogram has the label the data source reads the
// trace id from, and that trace is in the trace store.
func (r *runner) exemplarLink(ctx context.Context, ds dataSource, dest exemplarDestination) Check {
	c := Check{Signal: SignalLinks, Name: fmt.Sprintf("exemplar → trace (%s: %s)", ds.Name, dest.Name)}
	if c, ok := r.needs(c, "metrics", "traces"); !ok {
		return c
	}
	if c, ok := r.linkTarget(c, dest.DatasourceUID, dataSource.isTraces, "a trace store"); !ok {
		return c
	}
	return r.poll(ctx, c, "the exemplar link", func(ctx context.Context) attempt {
		id, a := r.findExemplar(ctx, dest.Name)
		if !a.ok {
			// A label name that no exemplar has will not appear by waiting once exemplars exist.
			a.final = strings.Contains(a.detail, "no exemplar has the label")
			return a
		}
		if _, err := r.traces.Trace(ctx, id); err != nil {
			return notYet(displayName(string(r.traces.Kind()))+" trace "+id, err)
		}
		return attempt{ok: true, detail: fmt.Sprintf("exemplar label %s=%s opens a stored trace", dest.Name, id)}
	})
}

// derivedFieldLink: a stored line of the request yields, through the field's matcher, a value
// whose link query is the request's trace id, and the trace store has that trace.
func (r *runner) derivedFieldLink(ctx context.Context, ds dataSource, f derivedField) Check {
	req := r.missRequest()
	c, ok := forRequest(SignalLinks, fmt.Sprintf("log → trace (%s: %s)", ds.Name, f.Name), req)
	if !ok {
		return c
	}
	if c, ok = r.needs(c, "logs", "traces"); !ok {
		return c
	}
	if c, ok = r.linkTarget(c, f.DatasourceUID, dataSource.isTraces, "a trace store"); !ok {
		return c
	}
	match, err := newMatcher(f)
	if err != nil {
		c.Status, c.Detail = Fail, err.Error()
		return c
	}
	query := r.logs.TraceQuery(req.traceID)
	return r.poll(ctx, c, "the log → trace link", func(ctx context.Context) attempt {
		lines, err := r.logs.Query(ctx, query, r.started.Add(-time.Minute), time.Now().Add(time.Minute), 100)
		if err != nil {
			return notYet(query, err)
		}
		if len(lines) == 0 {
			return attempt{detail: "no stored line of the request yet", query: query}
		}
		value, ok := "", false
		for _, l := range lines {
			if value, ok = match(l); ok {
				break
			}
		}
		if !ok {
			return attempt{final: true, query: query, answer: lineList(lines),
				detail: fmt.Sprintf("the matcher (%s %q) finds nothing in the request's %d stored lines", matcherType(f), f.MatcherRegex, len(lines))}
		}
		linkQuery, err := expandLinkVars(f.URL, map[string]string{"__value.raw": value, "__value.text": value})
		if err != nil {
			return attempt{final: true, detail: err.Error()}
		}
		id, err := readback.NormalizeTraceID(linkQuery)
		if err != nil || id != req.traceID {
			return attempt{final: true, query: f.URL, answer: linkQuery,
				detail: fmt.Sprintf("the link would open trace %q, not the line's trace %s", linkQuery, req.traceID)}
		}
		if _, err := r.traces.Trace(ctx, linkQuery); err != nil {
			return notYet(displayName(string(r.traces.Kind()))+" trace "+linkQuery, err)
		}
		return attempt{ok: true, detail: fmt.Sprintf("%s %q of a stored line opens the request's trace", matcherType(f), f.MatcherRegex)}
	})
}

func matcherType(f derivedField) string {
	if f.MatcherType == "" {
		return "regex"
	}
	return f.MatcherType
}

// newMatcher returns what the derived field reads from a line.
func newMatcher(f derivedField) (func(readback.LogLine) (string, bool), error) {
	switch matcherType(f) {
	case "label":
		return func(l readback.LogLine) (string, bool) {
			v, ok := l.Get(f.MatcherRegex)
			return v, ok && v != ""
		}, nil
	case "regex":
		re, err := regexp.Compile(f.MatcherRegex)
		if err != nil {
			return nil, fmt.Errorf("derived field %q: matcherRegex %q: %v", f.Name, f.MatcherRegex, err)
		}
		return func(l readback.LogLine) (string, bool) {
			m := re.FindStringSubmatch(l.Line)
			if len(m) < 2 {
				return "", false
			}
			return m[1], m[1] != ""
		}, nil
	}
	return nil, fmt.Errorf("derived field %q: matcherType %q: want label or regex", f.Name, f.MatcherType)
}

// linkVar matches Grafana's ${name} interpolation in a link (after provisioning's own $$).
var linkVar = regexp.MustCompile(`\$\{([^}]*)\}|\$(__[A-Za-z_.]+)`)

// expandLinkVars substitutes the variables Grafana fills for a link; any other variable is an
// error, since what Grafana would put there cannot be known here.
func expandLinkVars(s string, vars map[string]string) (string, error) {
	var unknown []string
	out := linkVar.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.Trim(m, "${}")
		if v, ok := vars[name]; ok {
			return v
		}
		unknown = append(unknown, m)
		return m
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("%q uses %s, which verify cannot fill in", s, strings.Join(unknown, ", "))
	}
	return out, nil
}

// tracesToLogsLink: the trace, found by search as a person would find it, opens its logs with
// the data source's query over the data source's time window, and the query finds the lines
// of that trace from every one of its services.
func (r *runner) tracesToLogsLink(ctx context.Context, ds dataSource, t tracesToLogs) Check {
	req := r.missRequest()
	c, ok := forRequest(SignalLinks, fmt.Sprintf("trace → logs (%s)", ds.Name), req)
	if !ok {
		return c
	}
	if c, ok = r.needs(c, "traces", "logs"); !ok {
		return c
	}
	if c, ok = r.linkTarget(c, t.DatasourceUID, dataSource.isLogs, "a log store"); !ok {
		return c
	}
	target, _ := sourceByUID(r.sources, t.DatasourceUID)
	if !t.CustomQuery {
		c.Status, c.Detail = Skip, "not checked: only a custom query (customQuery: true) can be run as Grafana would"
		return c
	}
	startShift, err1 := parseShift(t.SpanStartTimeShift)
	endShift, err2 := parseShift(t.SpanEndTimeShift)
	if err1 != nil || err2 != nil {
		c.Status, c.Detail = Fail, fmt.Sprintf("time shifts %q, %q: want durations like -5m and 5m", t.SpanStartTimeShift, t.SpanEndTimeShift)
		return c
	}
	search := readback.TraceSearch{Service: req.shape[0].service, SpanName: req.shape[0].server, Limit: 100}
	return r.poll(ctx, c, "the trace → logs link", func(ctx context.Context) attempt {
		search.Start, search.End = r.started.Add(-time.Minute), time.Now().Add(time.Minute)
		found, a := r.searchTrace(ctx, search, req.traceID)
		if !a.ok {
			return a
		}
		// Open the trace by the id the search answered, as the UI does.
		tr, err := r.traces.Trace(ctx, found.AnsweredID)
		if err != nil {
			return notYet(displayName(string(r.traces.Kind()))+" trace "+found.AnsweredID, err)
		}
		root := tr.ByName(req.shape[0].server)
		if len(root) == 0 {
			return attempt{detail: "the trace has no span " + req.shape[0].server + " yet"}
		}
		query, err := expandLinkVars(t.Query, map[string]string{
			"__trace.traceId": tr.ID, "__span.traceId": tr.ID, "__span.spanId": root[0].SpanID,
		})
		if err != nil {
			return attempt{final: true, detail: err.Error(), query: t.Query}
		}
		run, err := r.logQueryFor(target, query)
		if err != nil {
			return attempt{final: true, detail: err.Error(), query: query}
		}
		start, end := tr.Window()
		lines, err := r.logs.Query(ctx, run, start.Add(startShift), end.Add(endShift), 1000)
		if err != nil {
			return notYet(run, err)
		}
		if why := linesOfTrace(lines, tr); why != "" {
			return attempt{detail: why, query: run, answer: lineList(lines)}
		}
		detail := fmt.Sprintf("%d lines of the trace from %s", len(lines), strings.Join(lineServices(lines), ", "))
		if found.AnsweredID != tr.ID {
			detail += fmt.Sprintf(" (search answered the id as %s)", found.AnsweredID)
		}
		return attempt{ok: true, detail: detail}
	})
}

// searchTrace finds the trace with id among the search hits, comparing normalised ids.
func (r *runner) searchTrace(ctx context.Context, q readback.TraceSearch, id string) (readback.TraceSummary, attempt) {
	query := fmt.Sprintf("%s search service=%s span=%s", displayName(string(r.traces.Kind())), q.Service, q.SpanName)
	hits, err := r.traces.Search(ctx, q)
	if err != nil {
		return readback.TraceSummary{}, notYet(query, err)
	}
	for _, h := range hits {
		if h.TraceID == id {
			return h, attempt{ok: true}
		}
	}
	return readback.TraceSummary{}, attempt{detail: fmt.Sprintf("search does not find trace %s yet (%d hits)", id, len(hits)), query: query}
}

// logQueryFor turns the link's query into the log store's language: LogQL runs on Loki as it
// is, and is translated for VictoriaLogs.
func (r *runner) logQueryFor(target dataSource, query string) (string, error) {
	switch {
	case target.Type == "loki" && r.logs.Kind() == readback.LogsLoki:
		return query, nil
	case target.Type == "loki" && r.logs.Kind() == readback.LogsVictoriaLogs:
		q, err := readback.LogsQLFromLogQL(query)
		if err != nil {
			return "", fmt.Errorf("the link's LogQL cannot run on VictoriaLogs: %v", err)
		}
		return q, nil
	case target.Type == "victoriametrics-logs-datasource" && r.logs.Kind() == readback.LogsVictoriaLogs:
		return query, nil
	}
	return "", fmt.Errorf("the link queries %s, but the log store is %s", target, displayName(string(r.logs.Kind())))
}

// linesOfTrace says what is missing from the lines a trace's link found.
func linesOfTrace(lines []readback.LogLine, tr readback.Trace) string {
	if len(lines) == 0 {
		return "the query finds no lines"
	}
	for _, l := range lines {
		if l.TraceID() != tr.ID {
			return fmt.Sprintf("the query also finds lines of other traces (%s)", l)
		}
	}
	have := lineServices(lines)
	for _, s := range tr.Services() {
		if !slices.Contains(have, s) {
			return "no line from " + s + " yet"
		}
	}
	return ""
}

// parseShift reads a Grafana time shift such as "-5m" or "1h"; empty is none.
func parseShift(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return time.ParseDuration(s)
}
