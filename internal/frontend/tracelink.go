package frontend

import (
	"errors"
	"net/url"
	"strings"
)

// TraceIDPlaceholder is what a trace URL template's trace id goes in place of.
const TraceIDPlaceholder = "{trace_id}"

// CheckTraceURLTemplate says what is wrong with a trace URL template ("" is none: the pages
// show the command instead). A template is an http(s) URL of a trace viewer with
// {trace_id} where the trace id goes, e.g. Grafana Explore on a Tempo data source.
func CheckTraceURLTemplate(template string) error {
	if template == "" {
		return nil
	}
	if !strings.Contains(template, TraceIDPlaceholder) {
		return errors.New("trace URL template " + quoteShort(template) + " has no " + TraceIDPlaceholder + " for the trace id to go in")
	}
	u, err := url.Parse(strings.ReplaceAll(template, TraceIDPlaceholder, "4bf92f3577b34da6a3ce929d0e0e4736"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("trace URL template " + quoteShort(template) + " is not an http:// or https:// URL")
	}
	return nil
}

// quoteShort quotes a setting for an error message, cut to a readable length.
func quoteShort(s string) string {
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return `"` + s + `"`
}

// traceLinks turns a trace id into a way to look at the trace: a link into the trace viewer
// when a template is configured, and always the command that prints it.
type traceLinks struct{ template string }

// traceLink is one trace, as a page shows it.
type traceLink struct {
	ID      string `json:"trace_id"`
	URL     string `json:"trace_url,omitempty"` // "" without a template
	Command string `json:"trace_command"`
}

// of returns the link of the trace id (a hex id: it needs no escaping in a URL).
func (l traceLinks) of(id string) traceLink {
	t := traceLink{ID: id, Command: "pillars trace " + id}
	if l.template != "" && id != "" {
		t.URL = strings.ReplaceAll(l.template, TraceIDPlaceholder, id)
	}
	return t
}
