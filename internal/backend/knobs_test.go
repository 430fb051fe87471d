package backend

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

func (h *harness) patchFaults(t *testing.T, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPatch, h.url+"/admin/faults", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PATCH /admin/faults %s: %v %v", body, resp, err)
	}
	resp.Body.Close()
}

// cache_off is a stampede: every request goes to the database, none is kept, and turning it
// on empties what was cached.
func TestCacheOffSendsEveryRequestToTheDatabase(t *testing.T) {
	h := startBackendAt(t, startRealDatabase(t), Config{})
	h.get(t, "/api/user/5")
	if h.get(t, "/api/user/5"); h.cacheOps(t, "hit") != 1 {
		t.Fatal("no hit before the fault")
	}
	h.patchFaults(t, `{"cache_off":true}`)
	before := h.dbCalls(t, opGetUser, telemetry.CallSuccess)
	for range 3 {
		if a := h.get(t, "/api/user/5"); a.status != 200 {
			t.Fatalf("status %d", a.status)
		}
	}
	if got := h.dbCalls(t, opGetUser, telemetry.CallSuccess) - before; got != 3 {
		t.Errorf("%v database calls for 3 requests with the cache off, want 3", got)
	}
	if n := h.svc.users.cache.Len(); n != 0 {
		t.Errorf("cache holds %d entries while off", n)
	}
	if n := len(h.logsWithMsg(t, "Cache emptied and bypassed: every lookup goes to the database")); n != 1 {
		t.Errorf("%d lines saying the cache was emptied, want 1", n)
	}
	h.patchFaults(t, `{"cache_off":false}`)
	if a := decode[UserResponse](t, h.get(t, "/api/user/5")); a.Cache != cacheMiss {
		t.Errorf("first request after the cache came back: %s, want a cold miss", a.Cache)
	}
}

// pricing_error_rate fails apply_pricing_rules (a 500 of the backend's own, the span in
// error); cpu_burn makes the span last at least that long, burning CPU.
func TestPricingFaults(t *testing.T) {
	h := startBackendAt(t, startRealDatabase(t), Config{})
	h.patchFaults(t, `{"pricing_error_rate":1}`)
	a := h.get(t, "/api/product/42")
	if e := decode[telemetry.ErrorBody](t, a); a.status != 500 || !strings.Contains(e.Error, "pricing failed for product 42") {
		t.Errorf("status %d %q, want the pricing failure as a 500", a.status, e.Error)
	}
	if s := spanIn(t, h.spansOf(t, a.traceID), "apply_pricing_rules"); s.Status.Code.String() != "Error" {
		t.Errorf("apply_pricing_rules status %v", s.Status)
	}
	h.patchFaults(t, `{"pricing_error_rate":0,"cpu_burn":"30ms"}`)
	a = h.get(t, "/api/product/42")
	s := spanIn(t, h.spansOf(t, a.traceID), "apply_pricing_rules")
	if d := s.EndTime.Sub(s.StartTime); a.status != 200 || d < 30*time.Millisecond {
		t.Errorf("status %d, apply_pricing_rules lasted %v; want 200 and at least the 30ms burned", a.status, d)
	}
}

// memory_leak keeps memory for good, bounded by its limit, noted on each request's span and
// logged every 16 MiB; clearing it lets the memory go.
func TestMemoryLeakIsBoundedAndReleased(t *testing.T) {
	h := startBackendAt(t, startRealDatabase(t), Config{})
	h.patchFaults(t, `{"memory_leak":"1MiB","memory_leak_limit":"3MiB"}`)
	var last answer
	for range 5 {
		last = h.get(t, "/api/user/1")
	}
	if n := h.svc.leak.size(); n != 3<<20 {
		t.Errorf("leaked %d bytes after 5 requests, want the 3 MiB limit", n)
	}
	if s := spanIn(t, h.spansOf(t, last.traceID), "backend_get_user"); attrOf(s, "pillars.fault.memory_kept_bytes") != "3145728" {
		t.Errorf("backend_get_user attributes %v, want pillars.fault.memory_kept_bytes=3145728", s.Attributes)
	}
	h.patchFaults(t, `{"memory_leak_limit":"40MiB"}`)
	for range 40 {
		h.get(t, "/api/user/1")
	}
	if n := len(h.logsWithMsg(t, "Memory kept for good by the memory_leak fault")); n != 2 {
		t.Errorf("%d lines about the leak after it passed 16 and 32 MiB, want 2", n)
	}
	h.patchFaults(t, `{"memory_leak":"0B"}`)
	if n := h.svc.leak.size(); n != 0 {
		t.Errorf("%d bytes still kept after the leak was cleared", n)
	}
}

// The version knob is a deploy: new spans carry the new service.version, pillars_build_info
// follows, and route faults make it a bad one.
func TestVersionKnobIsADeploy(t *testing.T) {
	h := startBackendAt(t, startRealDatabase(t), Config{})
	h.patchFaults(t, `{"version":"2.0.0-rc1","route":"/api/product/{id}","route_error_rate":1}`)
	if a := h.get(t, "/api/product/1"); a.status != 500 {
		t.Errorf("the failing route answered %d", a.status)
	}
	ok := h.get(t, "/api/user/1")
	if ok.status != 200 {
		t.Errorf("another route answered %d", ok.status)
	}
	s := spanIn(t, h.spansOf(t, ok.traceID), "backend_get_user")
	var version string
	for _, kv := range s.Resource.Attributes() {
		if kv.Key == "service.version" {
			version = kv.Value.AsString()
		}
	}
	if version != "2.0.0-rc1" {
		t.Errorf("service.version %q after the deploy", version)
	}
	if v := h.rec.CounterValue(t, "pillars_build_info", map[string]string{"version": "2.0.0-rc1"}); v != 1 {
		t.Errorf("pillars_build_info{version=2.0.0-rc1} = %v", v)
	}
	if v := h.rec.CounterValue(t, "pillars_faults_active", map[string]string{"knob": "version"}); v != 1 {
		t.Errorf("pillars_faults_active{knob=version} = %v", v)
	}

}

func attrOf(s telemetrytest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}
