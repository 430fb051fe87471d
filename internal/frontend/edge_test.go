package frontend

import (
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/baggage"

	"github.com/pillars-o11y/pillars/internal/faults"
)

// The frontend is the gate of request faults. Even when it continues its callers' traces (and
// so their baggage), the backend gets a pillars.fault member only when the frontend admitted
// it from X-Pillars-Fault: a client's own member never travels inward, whether request faults
// are on or off, while the rest of its baggage does.
func TestOnlyAdmittedRequestFaultsTravelInward(t *testing.T) {
	const clientBaggage = "pillars.fault=database.latency%3D5s%2Cbackend.call_refuse_rate%3D1,tenant=blue"
	for _, c := range []struct {
		name          string
		requestFaults bool
		header        string
		want          string // the pillars.fault member the backend gets
	}{
		{"request faults off", false, "", ""},
		{"request faults off, with the header", false, "backend.cpu_burn=1ms", ""},
		{"request faults on, baggage only", true, "", ""},
		{"request faults on, with the header", true, "backend.cpu_burn=1ms", "backend.cpu_burn=1ms"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fb := newFakeBackend(t, 0, 0)
			fe := newTestFrontend(t, fb.URL, Config{ContinueIncomingTraces: true, RequestFaults: c.requestFaults})
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, fe.URL+"/user/1", nil)
			req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
			req.Header.Set("baggage", clientBaggage)
			if c.header != "" {
				req.Header.Set(faults.Header, c.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			calls := fb.received()
			if len(calls) != 1 {
				t.Fatalf("the backend got %d calls, want 1", len(calls))
			}
			if got := calls[0].Header.Get("traceparent"); len(got) < 35 || got[3:35] != "0af7651916cd43dd8448eb211c80319c" {
				t.Fatalf("the call does not continue the client's trace: traceparent %q", got)
			}
			b, err := baggage.Parse(calls[0].Header.Get("baggage"))
			if err != nil {
				t.Fatalf("baggage %q: %v", calls[0].Header.Get("baggage"), err)
			}
			if got := b.Member("pillars.fault").Value(); got != c.want {
				t.Errorf("the backend got pillars.fault=%q, want %q", got, c.want)
			}
			if b.Member("tenant").Value() != "blue" {
				t.Errorf("the client's other baggage did not travel on: %q", b.String())
			}
		})
	}
}
