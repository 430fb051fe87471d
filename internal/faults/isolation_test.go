package faults_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/faults"
)

// served is what a route wrapped by a Switch saw of one request.
type served[T any] struct {
	ctx     context.Context
	faults  T
	calls   bool   // OwnCallFaults
	member  string // the pillars.fault baggage member the route would send on ("" when none)
	tenant  string // another baggage member, which must travel untouched
	latency bool   // SetsOwn(latency)
}

// serve runs one request through sw.Wrap with the X-Pillars-Fault header spec and a caller's
// baggage (as the middleware extracts it), and returns what the route saw.
func serve[T any](t *testing.T, sw *faults.Switch[T], enabled bool, spec, callerBaggage string) served[T] {
	t.Helper()
	var got served[T]
	h := sw.Wrap("/x", enabled, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		b := baggage.FromContext(ctx)
		got = served[T]{ctx: ctx, faults: *sw.ForRequest(ctx), calls: sw.OwnCallFaults(ctx),
			member: b.Member("pillars.fault").Value(), tenant: b.Member("tenant").Value(), latency: sw.SetsOwn(ctx, "latency")}
	}))
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	if spec != "" {
		req.Header.Set(faults.Header, spec)
	}
	ctx := trace.ContextWithSpanContext(req.Context(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled,
	}))
	if callerBaggage != "" {
		b, err := baggage.Parse(callerBaggage)
		if err != nil {
			t.Fatal(err)
		}
		ctx = baggage.ContextWithBaggage(ctx, b)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req.WithContext(ctx))
	if w.Code != http.StatusOK {
		t.Fatalf("%q: status %d %s", spec, w.Code, w.Body)
	}
	return got
}

// A request's calls are its own when its faults change them: its own call knobs, or knobs of a
// tier further down, which the calls carry there. Its other knobs leave its calls alone.
func TestOwnCallFaults(t *testing.T) {
	backend, _ := faults.NewSwitch("backend", faults.Backend{}, nil)
	frontend, _ := faults.NewSwitch("frontend", faults.Frontend{}, nil)
	database, _ := faults.NewSwitch("database", faults.Database{}, nil)
	for _, c := range []struct {
		tier, spec string
		want       bool
	}{
		{"backend", "", false},
		{"backend", "backend.cpu_burn=1ms", false},
		{"backend", "backend.pricing_error_rate=1, backend.route_latency=1ms", false},
		{"backend", "frontend.retries=2", false},
		{"backend", "backend.call_refuse_rate=1", true},
		{"backend", "backend.call_latency=5ms", true},
		{"backend", "backend.call_drop_rate=0.5", true},
		{"backend", "database.latency=300ms", true},
		{"backend", "backend.cpu_burn=1ms, database.error_rate=1", true},
		{"frontend", "backend.cpu_burn=1ms", true},
		{"frontend", "frontend.retries=2", false},
		{"frontend", "frontend.call_refuse_rate=1", true},
		{"database", "database.latency=300ms", false},
		{"database", "backend.call_refuse_rate=1", false},
	} {
		var got bool
		switch c.tier {
		case "backend":
			got = serve(t, backend, true, c.spec, "").calls
		case "frontend":
			got = serve(t, frontend, true, c.spec, "").calls
		case "database":
			got = serve(t, database, true, c.spec, "").calls
		}
		if got != c.want {
			t.Errorf("%s %q: OwnCallFaults %v, want %v", c.tier, c.spec, got, c.want)
		}
	}
	if s := serve(t, database, true, "database.latency=300ms", ""); !s.latency {
		t.Error("SetsOwn(latency) is false for a request that set database.latency")
	}
	if s := serve(t, database, true, "database.error_rate=1", ""); s.latency {
		t.Error("SetsOwn(latency) is true for a request that did not set it")
	}
}

// Work done for other requests as well runs under WithoutRequestFaults: the same trace and
// baggage, but none of the request's faults, at this tier or the next, and its calls are
// plain calls.
func TestWithoutRequestFaults(t *testing.T) {
	sw, _ := faults.NewSwitch("backend", faults.Backend{CPUBurn: faults.Duration(1)}, nil)
	s := serve(t, sw, true, "backend.call_refuse_rate=1, database.latency=1s", "tenant=blue")
	if s.faults.CallRefuseRate != 1 || !s.calls || s.member == "" {
		t.Fatalf("the request's own faults were not read: %+v", s)
	}
	shared := faults.WithoutRequestFaults(s.ctx)
	if got := *sw.ForRequest(shared); got != *sw.Current() {
		t.Errorf("faults for shared work %+v, want the service's own %+v", got, *sw.Current())
	}
	if sw.OwnCallFaults(shared) || sw.SetsOwn(shared, "call_refuse_rate") {
		t.Error("shared work still has the request's own call faults")
	}
	b := baggage.FromContext(shared)
	if m := b.Member("pillars.fault"); m.Key() != "" {
		t.Errorf("shared work carries the request's faults on in baggage: %q", m.Value())
	}
	if b.Member("tenant").Value() != "blue" {
		t.Errorf("shared work lost the rest of the baggage: %q", b.String())
	}
	if !trace.SpanContextFromContext(shared).Equal(trace.SpanContextFromContext(s.ctx)) {
		t.Error("shared work lost the request's trace")
	}

	// A call made for the shared work is not refused; one made for the request is.
	callee := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer callee.Close()
	client := &http.Client{Transport: faults.Transport(http.DefaultTransport, sw)}
	for name, c := range map[string]struct {
		ctx     context.Context
		refused bool
	}{"the request's own": {s.ctx, true}, "shared": {shared, false}} {
		req, _ := http.NewRequestWithContext(c.ctx, http.MethodGet, callee.URL, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		if (err != nil) != c.refused {
			t.Errorf("%s call: error %v, want refused %v", name, err, c.refused)
		}
	}
}

// The edge admits request faults from its X-Pillars-Fault header only: a pillars.fault member
// of the caller's baggage is dropped there, whether request faults are on or off, so that
// none reaches the tiers behind it. Behind the edge a tier honours its caller's baggage when
// its request faults are on, and drops it when they are off.
func TestOnlyWhatTheEdgeAdmittedTravelsInward(t *testing.T) {
	edge, _ := faults.NewSwitch("frontend", faults.Frontend{}, nil, faults.AtEdge())
	inner, _ := faults.NewSwitch("backend", faults.Backend{}, nil)
	const callerBaggage = "pillars.fault=backend.cache_off%3Dtrue%2Cdatabase.latency%3D5s,tenant=blue"
	for _, c := range []struct {
		name       string
		serve      func() (member, tenant string, cacheOff bool)
		wantMember string
		cacheOff   bool
	}{
		{"edge, request faults off", func() (string, string, bool) {
			s := serve(t, edge, false, "", callerBaggage)
			return s.member, s.tenant, false
		}, "", false},
		{"edge, request faults on, baggage only", func() (string, string, bool) {
			s := serve(t, edge, true, "", callerBaggage)
			return s.member, s.tenant, false
		}, "", false},
		{"edge, request faults on, header and baggage", func() (string, string, bool) {
			s := serve(t, edge, true, "frontend.retries=1", callerBaggage)
			return s.member, s.tenant, false
		}, "frontend.retries=1", false},
		{"behind the edge, request faults on", func() (string, string, bool) {
			s := serve(t, inner, true, "", callerBaggage)
			return s.member, s.tenant, s.faults.CacheOff
		}, "backend.cache_off=true,database.latency=5s", true},
		{"behind the edge, request faults off", func() (string, string, bool) {
			s := serve(t, inner, false, "", callerBaggage)
			return s.member, s.tenant, s.faults.CacheOff
		}, "", false},
	} {
		member, tenant, cacheOff := c.serve()
		if member != c.wantMember || cacheOff != c.cacheOff {
			t.Errorf("%s: sends on pillars.fault=%q (cache_off %v), want %q (%v)", c.name, member, cacheOff, c.wantMember, c.cacheOff)
		}
		if tenant != "blue" {
			t.Errorf("%s: the caller's other baggage was dropped", c.name)
		}
	}
}
