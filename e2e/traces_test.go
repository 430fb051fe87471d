//go:build e2e

package e2e

import (
	"fmt"
	"testing"
	"time"
)

// hop is one service's part of a trace: its SERVER entry span, the spans it creates inside
// that request, and the CLIENT span through which it calls the next service.
type hop struct {
	service string
	server  string   // the SERVER span
	inside  []string // spans of the same service below the SERVER span
	client  string   // the CLIENT span that calls the next hop ("" for the last)
}

// The traces of docs/contract.md.
var traceShapes = []struct {
	path string
	hops []hop
}{
	{"/user/123", []hop{
		{service: "frontend", server: "frontend_get_user", client: "GET /api/user/{id}"},
		{service: "backend", server: "backend_get_user", inside: []string{"validate_user_id"}, client: "GET /db/user/{id}"},
		{service: "database", server: "database_get_user",
			inside: []string{"transaction_begin", "query_planning", "query_execution", "transaction_commit"}},
	}},
	{"/product/42", []hop{
		{service: "frontend", server: "frontend_get_product", client: "GET /api/product/{id}"},
		{service: "backend", server: "backend_get_product", inside: []string{"apply_pricing_rules"}, client: "GET /db/product/{id}"},
		{service: "database", server: "database_get_product", inside: []string{"join_inventory"}},
	}},
	{"/", []hop{
		{service: "frontend", server: "frontend_home_request", client: "GET /api/data"},
		{service: "backend", server: "backend_get_data", client: "GET /db/query"},
		{service: "database", server: "database_query"},
	}},
}

// A request to the frontend produces one trace, readable in Jaeger by the id of the
// traceresponse header, whose spans from the three services are linked as the contract says.
func TestTraceShapes(t *testing.T) {
	for _, tc := range traceShapes {
		t.Run(tc.path, func(t *testing.T) {
			r := getOK(t, tc.path)
			var names []string
			for _, h := range tc.hops {
				names = append(names, h.server)
				names = append(names, h.inside...)
				if h.client != "" {
					names = append(names, h.client)
				}
			}
			tr := waitTrace(t, r.traceID, names...)
			checkHops(t, tr, tc.hops)
			for _, s := range tr.Spans {
				if s.failed() {
					t.Errorf("span %s has error status in a successful request", s)
				}
				if s.TraceID != r.traceID {
					t.Errorf("span %s has trace id %s, want %s", s, s.TraceID, r.traceID)
				}
			}
		})
	}
}

// checkHops asserts the chain SERVER → (inside...) → CLIENT → next SERVER ... in one trace.
func checkHops(t *testing.T, tr jaegerTrace, hops []hop) {
	t.Helper()
	var prevClient jaegerSpan
	for i, h := range hops {
		server, ok := only(t, tr, h.server)
		if !ok {
			continue
		}
		if server.service != h.service || server.kind() != "server" {
			t.Errorf("%s: want a server span of %s", server, h.service)
		}
		switch {
		case i == 0 && server.parent() != "":
			t.Errorf("%s: want the root span, has parent %s", server, server.parent())
		case i > 0 && prevClient.SpanID != "" && server.parent() != prevClient.SpanID:
			parent, _ := tr.span(server.parent())
			t.Errorf("%s: parent is %v, want the CLIENT span %s", server, parent, prevClient)
		}
		for _, name := range h.inside {
			for _, s := range tr.byName(name) {
				if s.service != h.service {
					t.Errorf("%s: want it in service %s", s, h.service)
				}
				if !descends(tr, s, server.SpanID) {
					t.Errorf("%s: not below %s", s, server)
				}
			}
		}
		prevClient = jaegerSpan{}
		if h.client == "" {
			continue
		}
		client, ok := only(t, tr, h.client)
		if !ok {
			continue
		}
		if client.service != h.service || client.kind() != "client" {
			t.Errorf("%s: want a client span of %s", client, h.service)
		}
		if !descends(tr, client, server.SpanID) {
			t.Errorf("%s: not below %s", client, server)
		}
		prevClient = client
	}
}

// only returns the single span with that name, failing the test if there are none or several.
func only(t *testing.T, tr jaegerTrace, name string) (jaegerSpan, bool) {
	t.Helper()
	spans := tr.byName(name)
	if len(spans) != 1 {
		t.Errorf("want exactly one span %q, have %d in %s", name, len(spans), tr)
		return jaegerSpan{}, false
	}
	return spans[0], true
}

// descends reports whether ancestor is a parent, grandparent, ... of s.
func descends(tr jaegerTrace, s jaegerSpan, ancestor string) bool {
	for range len(tr.Spans) {
		p := s.parent()
		if p == "" {
			return false
		}
		if p == ancestor {
			return true
		}
		var ok bool
		if s, ok = tr.span(p); !ok {
			return false
		}
	}
	return false
}

// servicesWithErrorSpans names the services that have at least one span with error status.
func servicesWithErrorSpans(tr jaegerTrace) map[string]bool {
	out := map[string]bool{}
	for _, s := range tr.Spans {
		if s.failed() {
			out[s.service] = true
		}
	}
	return out
}

// waitErrorSpans polls the trace until every one of the services has a span with error status.
func waitErrorSpans(t *testing.T, traceID string, services ...string) jaegerTrace {
	t.Helper()
	var tr jaegerTrace
	eventually(t, 20*time.Second, "error spans of "+fmt.Sprint(services)+" in trace "+traceID, func() error {
		var err error
		if tr, err = fetchTrace(traceID); err != nil {
			return err
		}
		failed := servicesWithErrorSpans(tr)
		for _, s := range services {
			if !failed[s] {
				return fmt.Errorf("no error span from %s yet; spans %s", s, tr)
			}
		}
		return nil
	})
	return tr
}
