package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/traffic"
)

// Bounds of a scenario: long enough for a page to fire with the real alert windows, short
// enough to be an exercise and not an outage.
const (
	MinDuration = 10 * time.Second
	MaxDuration = 6 * time.Hour
)

var (
	validName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	levels    = []string{"debug", "info", "warn", "error"}
)

// Parse reads one scenario file. file names it in messages; every mistake is reported as
// file:line: what is wrong, all of them at once.
func Parse(file string, data []byte) (*Scenario, error) {
	p := &parser{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("%s:1: empty file: a scenario has a name, a title, a story, a duration, steps and a signature", file)
	}
	sc := p.scenario(doc.Content[0])
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	sc.File = file
	return sc, nil
}

// parser collects the mistakes of one file.
type parser struct {
	file string
	errs []error
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.file, n.Line, fmt.Sprintf(format, args...)))
}

// fields reads a mapping whose keys must be among allowed (unknown and repeated keys are
// mistakes) and returns the value node of each key given. what names the mapping.
func (p *parser) fields(n *yaml.Node, what string, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s: want a mapping of %s", what, strings.Join(allowed, ", "))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(allowed, k.Value):
			p.errorf(k, "unknown key %q in %s: the keys are %s", k.Value, what, strings.Join(allowed, ", "))
		case out[k.Value] != nil:
			p.errorf(k, "%s: %s given twice", what, k.Value)
		default:
			out[k.Value] = v
		}
	}
	return out
}

func (p *parser) require(n *yaml.Node, f map[string]*yaml.Node, what string, keys ...string) bool {
	ok := true
	for _, k := range keys {
		if f[k] == nil {
			p.errorf(n, "%s: %s is missing", what, k)
			ok = false
		}
	}
	return ok
}

func (p *parser) str(n *yaml.Node, what string) string {
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s: want text", what)
		return ""
	}
	return n.Value
}

func (p *parser) duration(n *yaml.Node, what string) time.Duration {
	if n == nil {
		return 0
	}
	d, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		p.errorf(n, "%s: %q is not a duration: write it like 90s, 15m or 1h30m", what, n.Value)
		return 0
	}
	if d < 0 {
		p.errorf(n, "%s: %s is negative", what, d)
	}
	return d
}

func (p *parser) number(n *yaml.Node, what string) float64 {
	v, err := strconv.ParseFloat(n.Value, 64)
	if n.Kind != yaml.ScalarNode || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		p.errorf(n, "%s: %q is not a number", what, n.Value)
		return 0
	}
	return v
}

func (p *parser) boolean(n *yaml.Node, what string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		p.errorf(n, "%s: want true or false, got %q", what, n.Value)
	}
	return b
}

func (p *parser) list(n *yaml.Node, what string) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s: want a list", what)
		return nil
	}
	return n.Content
}

func (p *parser) scenario(n *yaml.Node) *Scenario {
	f := p.fields(n, "the scenario", "name", "title", "story", "duration", "steps", "signature")
	p.require(n, f, "the scenario", "name", "title", "story", "duration", "steps", "signature")
	sc := &Scenario{
		Name:     p.str(f["name"], "name"),
		Title:    strings.TrimSpace(p.str(f["title"], "title")),
		Story:    strings.TrimSpace(p.str(f["story"], "story")),
		Duration: faults.Duration(p.duration(f["duration"], "duration")),
	}
	if f["name"] != nil && !validName.MatchString(sc.Name) {
		p.errorf(f["name"], "name %q: use lower-case letters, digits and dashes, like slow-database", sc.Name)
	}
	if d := sc.Duration.D(); f["duration"] != nil && (d < MinDuration || d > MaxDuration) {
		p.errorf(f["duration"], "duration %s: want %s to %s", d, MinDuration, MaxDuration)
	}
	if f["title"] != nil && sc.Title == "" {
		p.errorf(f["title"], "the title is empty")
	}
	if f["story"] != nil && sc.Story == "" {
		p.errorf(f["story"], "the story is empty: say what a user lives through")
	}
	if f["steps"] != nil {
		steps := p.list(f["steps"], "steps")
		if len(steps) == 0 && f["steps"].Kind == yaml.SequenceNode {
			p.errorf(f["steps"], "no steps: a scenario breaks something")
		}
		var prev time.Duration
		for i, sn := range steps {
			st := p.step(sn, i+1)
			if st == nil {
				continue
			}
			switch at := st.At.D(); {
			case at < prev:
				p.errorf(sn, "step %d at %s comes before the step above it (at %s): list steps in time order", i+1, at, prev)
			case sc.Duration > 0 && at >= sc.Duration.D():
				p.errorf(sn, "step %d at %s is not within the scenario's duration %s", i+1, at, sc.Duration.D())
			default:
				prev = at
			}
			sc.Steps = append(sc.Steps, *st)
		}
	}
	if f["signature"] != nil {
		sc.Signature = p.signature(f["signature"])
	}
	return sc
}

var stepKeys = []string{"at", "say", "service", "patch", "put", "traffic", "clear"}

func (p *parser) step(n *yaml.Node, i int) *Step {
	what := fmt.Sprintf("step %d", i)
	f := p.fields(n, what, stepKeys...)
	if n.Kind != yaml.MappingNode || !p.require(n, f, what, "at") {
		return nil
	}
	st := &Step{At: faults.Duration(p.duration(f["at"], what+": at")), Say: strings.TrimSpace(p.str(f["say"], what+": say")), line: n.Line}
	if f["service"] != nil {
		st.Service = p.str(f["service"], what+": service")
		if !slices.Contains(faults.Tiers(), st.Service) {
			p.errorf(f["service"], "%s: unknown service %q: the services are %s", what, st.Service, strings.Join(faults.Tiers(), ", "))
			return nil
		}
	}
	var actions []string
	for _, k := range []string{"patch", "put", "traffic", "clear"} {
		if f[k] != nil {
			actions = append(actions, k)
		}
	}
	if len(actions) != 1 {
		p.errorf(n, "%s: want exactly one of patch, put, traffic or clear, got %d", what, len(actions))
		return nil
	}
	switch actions[0] {
	case "patch", "put":
		if st.Service == "" {
			p.errorf(n, "%s: %s needs the service whose faults change", what, actions[0])
			return nil
		}
		doc := p.knobs(f[actions[0]], st.Service, what)
		if actions[0] == "patch" {
			st.Patch = doc
		} else {
			st.Put = doc
		}
	case "traffic":
		if st.Service != "" {
			p.errorf(f["service"], "%s: traffic belongs to the frontend's generator, not to a service's faults: drop service", what)
		}
		st.Traffic = p.traffic(f["traffic"], what)
	case "clear":
		st.Clear = p.boolean(f["clear"], what+": clear")
		if !st.Clear {
			p.errorf(f["clear"], "%s: clear: false does nothing: drop the step", what)
		}
	}
	return st
}

// knobs reads a document of a service's knobs and checks it as the service's admin API would.
func (p *parser) knobs(n *yaml.Node, service, what string) map[string]any {
	doc, data := p.document(n, what)
	if doc == nil {
		return nil
	}
	if err := faults.Check(service, data); err != nil {
		at := n
		if ke, ok := errors.AsType[*faults.KnobError](err); ok {
			at = keyNode(n, ke.Knob, n)
		} else if i := strings.Index(err.Error(), "unknown knob "); i >= 0 {
			if name, err := strconv.QuotedPrefix(err.Error()[i+len("unknown knob "):]); err == nil {
				name, _ = strconv.Unquote(name)
				at = keyNode(n, name, n)
			}
		}
		p.errorf(at, "%s: %s", what, err)
		return nil
	}
	return doc
}

// traffic reads a traffic change and checks it as PATCH /admin/traffic would.
func (p *parser) traffic(n *yaml.Node, what string) map[string]any {
	doc, data := p.document(n, what)
	if doc == nil {
		return nil
	}
	base := traffic.Defaults(0)
	if _, err := traffic.DecodeChange(bytes.NewReader(data), &base); err != nil {
		p.errorf(n, "%s: traffic: %s", what, err)
		return nil
	}
	return doc
}

// document turns a YAML mapping into the JSON object an admin API takes.
func (p *parser) document(n *yaml.Node, what string) (map[string]any, []byte) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s: want a mapping, like {latency: 300ms}", what)
		return nil, nil
	}
	var doc map[string]any
	if err := n.Decode(&doc); err != nil {
		p.errorf(n, "%s: %s", what, err)
		return nil, nil
	}
	if doc == nil {
		doc = map[string]any{}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		p.errorf(n, "%s: %s", what, err)
		return nil, nil
	}
	return doc, data
}

// keyNode finds the key named name in mapping n, or returns def.
func keyNode(n *yaml.Node, name string, def *yaml.Node) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == name {
			return n.Content[i]
		}
	}
	return def
}

func (p *parser) signature(n *yaml.Node) Signature {
	f := p.fields(n, "the signature", "metrics", "traces", "logs", "alerts")
	p.require(n, f, "the signature", "metrics", "traces", "logs", "alerts")
	var sig Signature
	for i, m := range p.list(f["metrics"], "metrics") {
		sig.Metrics = append(sig.Metrics, p.metric(m, i+1))
	}
	for i, t := range p.list(f["traces"], "traces") {
		sig.Traces = append(sig.Traces, p.trace(t, i+1))
	}
	for i, l := range p.list(f["logs"], "logs") {
		sig.Logs = append(sig.Logs, p.log(l, i+1))
	}
	for i, a := range p.list(f["alerts"], "alerts") {
		sig.Alerts = append(sig.Alerts, p.alert(a, i+1))
	}
	for _, k := range []struct {
		key string
		n   int
	}{{"metrics", len(sig.Metrics)}, {"traces", len(sig.Traces)}, {"logs", len(sig.Logs)}} {
		if f[k.key] != nil && k.n == 0 && f[k.key].Kind == yaml.SequenceNode {
			p.errorf(f[k.key], "signature: no %s: every signal must show the incident", k.key)
		}
	}
	return sig
}

func (p *parser) metric(n *yaml.Node, i int) MetricItem {
	what := fmt.Sprintf("metric %d", i)
	f := p.fields(n, what, "name", "query", "above", "below")
	p.require(n, f, what, "name", "query")
	m := MetricItem{Name: p.str(f["name"], what+": name"), Query: strings.TrimSpace(p.str(f["query"], what+": query"))}
	switch {
	case f["above"] != nil && f["below"] == nil:
		v := p.number(f["above"], what+": above")
		m.Above = &v
	case f["below"] != nil && f["above"] == nil:
		v := p.number(f["below"], what+": below")
		m.Below = &v
	default:
		p.errorf(n, "%s: want exactly one threshold, above or below", what)
	}
	return m
}

func (p *parser) trace(n *yaml.Node, i int) TraceItem {
	what := fmt.Sprintf("trace %d", i)
	f := p.fields(n, what, "service", "span", "error", "attribute", "value", "contains")
	p.require(n, f, what, "service", "span")
	t := TraceItem{
		Service:   p.service(f["service"], what),
		Span:      p.str(f["span"], what+": span"),
		Attribute: p.str(f["attribute"], what+": attribute"),
		Value:     p.str(f["value"], what+": value"),
		Contains:  p.str(f["contains"], what+": contains"),
	}
	if f["error"] != nil {
		t.Error = p.boolean(f["error"], what+": error")
	}
	if !t.Error && t.Attribute == "" {
		p.errorf(n, "%s: say what marks the span: error: true, an attribute, or both", what)
	}
	if (t.Value != "" || t.Contains != "") && t.Attribute == "" {
		p.errorf(n, "%s: a value needs the attribute it belongs to", what)
	}
	if t.Value != "" && t.Contains != "" {
		p.errorf(n, "%s: give the value or what it contains, not both", what)
	}
	return t
}

func (p *parser) log(n *yaml.Node, i int) LogItem {
	what := fmt.Sprintf("log %d", i)
	f := p.fields(n, what, "service", "level", "message")
	p.require(n, f, what, "service", "level", "message")
	l := LogItem{Service: p.service(f["service"], what), Level: p.str(f["level"], what+": level"), Message: p.str(f["message"], what+": message")}
	if f["level"] != nil && !slices.Contains(levels, l.Level) {
		p.errorf(f["level"], "%s: level %q: want %s", what, l.Level, strings.Join(levels, ", "))
	}
	if f["message"] != nil && strings.TrimSpace(l.Message) == "" {
		p.errorf(f["message"], "%s: the message is empty", what)
	}
	return l
}

func (p *parser) alert(n *yaml.Node, i int) AlertItem {
	what := fmt.Sprintf("alert %d", i)
	f := p.fields(n, what, "alert", "labels")
	p.require(n, f, what, "alert")
	a := AlertItem{Alert: p.str(f["alert"], what+": alert")}
	if l := f["labels"]; l != nil {
		if l.Kind != yaml.MappingNode || l.Decode(&a.Labels) != nil {
			p.errorf(l, "%s: labels: want a mapping of label names to values", what)
		}
	}
	return a
}

func (p *parser) service(n *yaml.Node, what string) string {
	s := p.str(n, what+": service")
	if n != nil && !slices.Contains(faults.Tiers(), s) {
		p.errorf(n, "%s: unknown service %q: the services are %s", what, s, strings.Join(faults.Tiers(), ", "))
	}
	return s
}
