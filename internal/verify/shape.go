package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// hop is one service's part of a trace: its SERVER span, and the CLIENT span through which it
// calls the next service ("" for the last hop).
type hop struct {
	service, server, client string
}

// shape is what one request's trace must look like: a chain of hops, each SERVER span the
// child of the previous hop's CLIENT span, each CLIENT span below its own service's SERVER span.
type shape []hop

// services lists the services the trace must have spans of.
func (s shape) services() []string {
	out := make([]string, len(s))
	for i, h := range s {
		out[i] = h.service
	}
	slices.Sort(out)
	return out
}

// The traces of the seed's contract (ARCHITECTURE.md): a cache hit ends in the backend.
func userShape(cache string) shape {
	sh := shape{
		{"frontend", "frontend_get_user", "GET /api/user/{id}"},
		{"backend", "backend_get_user", "GET /db/user/{id}"},
		{"database", "database_get_user", ""},
	}
	if cache == "hit" {
		return shape{sh[0], {"backend", "backend_get_user", ""}}
	}
	return sh
}

func productShape(cache string) shape {
	sh := shape{
		{"frontend", "frontend_get_product", "GET /api/product/{id}"},
		{"backend", "backend_get_product", "GET /db/product/{id}"},
		{"database", "database_get_product", ""},
	}
	if cache == "hit" {
		return shape{sh[0], {"backend", "backend_get_product", ""}}
	}
	return sh
}

// check says what is wrong with tr ("" when nothing): every hop present with the right
// service and kind, and linked to the hop before. The first SERVER span's parent is the span
// id the request was sent with (a span of verify's, not stored), or none.
func (s shape) check(tr readback.Trace, sentSpanID string) string {
	var callers []readback.Span
	for i, h := range s {
		servers := tr.ByName(h.server)
		if len(servers) != 1 {
			return fmt.Sprintf("%d spans %q, want 1 (have %s)", len(servers), h.server, spanList(tr))
		}
		srv := servers[0]
		if srv.Service != h.service || srv.Kind != readback.KindServer {
			return fmt.Sprintf("%s: want a server span of %s", srv, h.service)
		}
		if i == 0 {
			if srv.ParentID != "" && srv.ParentID != sentSpanID {
				return fmt.Sprintf("%s: parent %s, want the request's own span %s or none", srv, srv.ParentID, sentSpanID)
			}
		} else if !slices.ContainsFunc(callers, func(c readback.Span) bool { return c.SpanID == srv.ParentID }) {
			parent, _ := tr.Span(srv.ParentID)
			return fmt.Sprintf("%s: parent is %v, want the client span %q of %s", srv, parentName(parent, srv.ParentID), s[i-1].client, s[i-1].service)
		}
		if h.client == "" {
			continue
		}
		callers = tr.ByName(h.client)
		if len(callers) == 0 {
			return fmt.Sprintf("no span %q yet (have %s)", h.client, spanList(tr))
		}
		for _, c := range callers {
			if c.Service != h.service || c.Kind != readback.KindClient || !tr.Descends(c, srv.SpanID) {
				return fmt.Sprintf("%s: want a client span of %s below %s", c, h.service, srv)
			}
		}
	}
	return ""
}

func parentName(s readback.Span, id string) string {
	if s.SpanID == "" {
		if id == "" {
			return "none"
		}
		return id + " (not in the trace)"
	}
	return s.String()
}

func spanList(tr readback.Trace) string {
	if len(tr.Spans) == 0 {
		return "no spans"
	}
	return strings.Join(strings.Split(tr.String(), ", "), ", ")
}
