//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
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
			r := getUncached(t, tc.path)
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
				if s.Status == readback.StatusError {
					t.Errorf("span %s has error status in a successful request", s)
				}
				if s.TraceID != r.traceID {
					t.Errorf("span %s has trace id %s, want %s", s, s.TraceID, r.traceID)
				}
			}
		})
	}
}

// getUncached requests a path until the backend answers it from the database rather than from
// its cache (the JSON answer says "cache":"miss"), so that the trace reaches all three services.
func getUncached(t *testing.T, path string) response {
	t.Helper()
	var r response
	eventually(t, 20*time.Second, "GET "+path+" answered from the database", func() error {
		r = getOK(t, path)
		var body struct {
			Cache string `json:"cache"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil {
			return fmt.Errorf("GET %s: %v in %s", path, err, r.body)
		}
		if body.Cache != "miss" {
			return fmt.Errorf("GET %s: cache %q", path, body.Cache)
		}
		return nil
	})
	return r
}

// checkHops asserts the chain SERVER → (inside...) → CLIENT → next SERVER ... in one trace.
// The first hop is the single root span; a service may call the next one more than once (the
// home page's data takes two queries), so later hops may have several SERVER spans, each the
// child of its own CLIENT span.
func checkHops(t *testing.T, tr readback.Trace, hops []hop) {
	t.Helper()
	var callers []readback.Span // the previous hop's CLIENT spans
	for i, h := range hops {
		servers := tr.ByName(h.server)
		if len(servers) == 0 || (i == 0 && len(servers) != 1) {
			t.Errorf("%d spans %q in %s", len(servers), h.server, tr)
			return
		}
		for _, s := range servers {
			if s.Service != h.service || s.Kind != readback.KindServer {
				t.Errorf("%s: want a server span of %s", s, h.service)
			}
			if i == 0 {
				if s.ParentID != "" {
					t.Errorf("%s: want the root span, has parent %s", s, s.ParentID)
				}
				continue
			}
			if !slices.ContainsFunc(callers, func(c readback.Span) bool { return c.SpanID == s.ParentID }) {
				parent, _ := tr.Span(s.ParentID)
				t.Errorf("%s: parent is %v, want a CLIENT span %q of %s", s, parent, hops[i-1].client, hops[i-1].service)
			}
		}
		below := func(s readback.Span) bool {
			return slices.ContainsFunc(servers, func(srv readback.Span) bool { return tr.Descends(s, srv.SpanID) })
		}
		for _, name := range h.inside {
			for _, s := range tr.ByName(name) {
				if s.Service != h.service || !below(s) {
					t.Errorf("%s: want it below %s in %s", s, h.server, h.service)
				}
			}
		}
		callers = tr.ByName(h.client)
		if h.client == "" {
			continue
		}
		if len(callers) == 0 {
			t.Errorf("no span %q in %s", h.client, tr)
			return
		}
		for _, c := range callers {
			if c.Service != h.service || c.Kind != readback.KindClient || !below(c) {
				t.Errorf("%s: want a client span of %s below %s", c, h.service, h.server)
			}
		}
	}
}

// servicesWithErrorSpans names the services that have at least one span with error status.
func servicesWithErrorSpans(tr readback.Trace) map[string]bool {
	out := map[string]bool{}
	for _, s := range tr.Spans {
		if s.Status == readback.StatusError {
			out[s.Service] = true
		}
	}
	return out
}

// waitErrorSpans polls the trace until every one of the services has a span with error status.
func waitErrorSpans(t *testing.T, traceID string, services ...string) readback.Trace {
	t.Helper()
	var tr readback.Trace
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
