package faults_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// PUT replaces every knob, PATCH changes the ones given; a mistake is a 400 that names the
// knob in the caller's terms (never a Go type), and changes nothing.
func TestAdminAPIReplacesPatchesAndRefusesBadKnobs(t *testing.T) {
	rec := telemetrytest.New(t, "database")
	var changes atomic.Int32
	sw, err := faults.NewSwitch("database", faults.Database{}, func(old, new faults.Database) { changes.Add(1) },
		faults.WithRegistry(rec.Registry))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	sw.Routes(mux, rec.Telemetry, rec.NewAdminGuard("", true))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	admin := faults.NewAdminClient(srv.URL, "", nil)
	ctx := context.Background()

	if err := admin.Replace(ctx, map[string]any{"latency": "250ms", "error_rate": 0.2}); err != nil {
		t.Fatal(err)
	}
	if err := admin.Patch(ctx, map[string]any{"jitter": "50ms"}); err != nil {
		t.Fatal(err)
	}
	if got := *sw.Current(); got != (faults.Database{Latency: faults.Duration(250 * time.Millisecond),
		Jitter: faults.Duration(50 * time.Millisecond), ErrorRate: 0.2}) {
		t.Errorf("after PUT and PATCH: %+v", got)
	}
	if v := rec.CounterValue(t, "pillars_faults_active", map[string]string{"knob": "jitter"}); v != 1 {
		t.Errorf("pillars_faults_active{knob=jitter} = %v, want 1", v)
	}
	for _, c := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"error_rate": 1.5}, "knob error_rate: want a share between 0 and 1"},
		{map[string]any{"error_rate": "lots"}, "knob error_rate: want a number"},
		{map[string]any{"latency": "5m"}, "knob latency: at most 30s"},
		{map[string]any{"latency": 5}, `knob latency: want a string like "250ms"`},
		{map[string]any{"latency": "-1s"}, "knob latency: must not be negative"},
		{map[string]any{"pool_size": 65}, "knob pool_size: want an integer from 0 to 64"},
		{map[string]any{"cache_off": true}, `unknown knob "cache_off": the database's knobs are latency, jitter`},
	} {
		err := admin.Patch(ctx, c.body)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "Go struct") {
			t.Errorf("PATCH %v: %v, want a 400 saying %q", c.body, err, c.want)
		}
	}
	if got := sw.Current().ErrorRate; got != 0.2 {
		t.Errorf("a refused PATCH changed error_rate to %v", got)
	}
	if err := admin.Replace(ctx, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if got := *sw.Current(); got != (faults.Database{}) || changes.Load() != 4 {
		t.Errorf("PUT {} left %+v after %d changes (want nothing on after 4)", got, changes.Load())
	}
	if msg := rec.LogWithMsg(t, "Fault injection updated"); msg["faults"] != "latency=250ms, error_rate=0.2" {
		t.Errorf("first change logged as %v", msg["faults"])
	}
	knobs, err := admin.Knobs(ctx)
	if err != nil || len(knobs) != 6 || knobs[0].Name != "latency" || !knobs[0].PerRequest || knobs[3].PerRequest {
		t.Errorf("knobs %+v, %v", knobs, err)
	}
}

// Beyond loopback, admin endpoints need the token: without one configured they are locked.
func TestAdminGuard(t *testing.T) {
	rec := telemetrytest.New(t, "backend")
	sw, _ := faults.NewSwitch("backend", faults.Backend{}, nil)
	for _, c := range []struct {
		name, token, sent string
		loopback          bool
		want              int
	}{
		{"loopback, no token", "", "", true, 200},
		{"beyond loopback, no token configured", "", "", false, 401},
		{"token, none sent", "s3cret", "", true, 401},
		{"token, wrong one", "s3cret", "guess", false, 401},
		{"token, right one", "s3cret", "s3cret", false, 200},
	} {
		mux := http.NewServeMux()
		sw.Routes(mux, rec.Telemetry, rec.NewAdminGuard(c.token, c.loopback))
		srv := httptest.NewServer(mux)
		err := faults.NewAdminClient(srv.URL, c.sent, nil).Patch(context.Background(), map[string]any{"cpu_burn": "1ms"})
		srv.Close()
		if got := 200; err != nil {
			got = 401
			if !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "PILLARS_ADMIN_TOKEN") {
				t.Errorf("%s: %v, want a 401 naming PILLARS_ADMIN_TOKEN", c.name, err)
			}
			if got != c.want {
				t.Errorf("%s: refused, want %d", c.name, c.want)
			}
		} else if c.want != 200 {
			t.Errorf("%s: allowed, want %d", c.name, c.want)
		}
	}
}

// One request broken on purpose: the header is checked at the edge, travels in baggage, and
// only the tier it names honours it, noting so on its span.
func TestRequestFaultsTravelInBaggageToTheTierTheyName(t *testing.T) {
	front := telemetrytest.New(t, "frontend")
	back := telemetrytest.New(t, "backend")
	fsw, _ := faults.NewSwitch("frontend", faults.Frontend{}, nil, faults.WithErrorWriter(front.WriteError))
	bsw, _ := faults.NewSwitch("backend", faults.Backend{}, nil, faults.WithErrorWriter(back.WriteError))

	var seen atomic.Pointer[faults.Backend]
	bmux := http.NewServeMux()
	bmux.Handle("GET /api/user/{id}", bsw.Wrap("/api/user/{id}", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(bsw.ForRequest(r.Context()))
		telemetry.WriteJSON(w, http.StatusOK, map[string]int{"id": 1})
	})))
	backend := httptest.NewServer(back.Instrument(bmux, nil))
	defer backend.Close()

	client := front.NewClient()
	fmux := http.NewServeMux()
	fmux.Handle("GET /user/{id}", fsw.Wrap("/user/{id}", true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := fsw.ForRequest(r.Context()).Retries; got != 2 {
			t.Errorf("the frontend's own request fault: retries %d, want 2", got)
		}
		var v map[string]int
		if err := client.GetJSON(r.Context(), "/api/user/{id}", backend.URL+"/api/user/1", &v); err != nil {
			t.Error(err)
		}
		telemetry.WriteJSON(w, http.StatusOK, v)
	})))
	frontend := httptest.NewServer(front.Instrument(fmux, nil, telemetry.PublicEndpoint()))
	defer frontend.Close()

	get := func(spec string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, frontend.URL+"/user/1", nil)
		req.Header.Set(faults.Header, spec)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e telemetry.ErrorBody
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp, e.Error
	}
	if resp, msg := get("backend.cpu_burn=1ms, frontend.retries=2"); resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, msg)
	}
	if b := seen.Load(); b == nil || b.CPUBurn != faults.Duration(time.Millisecond) {
		t.Errorf("the backend saw %+v, want cpu_burn 1ms from the baggage", b)
	}
	if *bsw.Current() != (faults.Backend{}) {
		t.Errorf("a request's faults leaked into the service's: %+v", *bsw.Current())
	}
	var noted string
	for _, s := range back.Ended(t) {
		for _, kv := range s.Attributes {
			if kv.Key == "pillars.fault.request" {
				noted = kv.Value.AsString()
			}
		}
	}
	if noted != "backend.cpu_burn=1ms" {
		t.Errorf("backend span notes %q, want backend.cpu_burn=1ms", noted)
	}
	for spec, want := range map[string]string{
		"database.latency=5m":          "knob latency: at most 30s",
		"database.missing_index=true":  "cannot be set for one request",
		"cache.off=true":               `unknown tier "cache"`,
		"backend.nope=1":               `unknown knob "nope"`,
		"latency=300ms":                "is not tier.knob=value",
		strings.Repeat("x", 1000):      "at most 512 are accepted",
		"frontend.retries=9":           "knob retries: want an integer from 0 to 5",
		"backend.pricing_error_rate=2": "want a share between 0 and 1",
	} {
		if resp, msg := get(spec); resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, want) {
			t.Errorf("%.40s: %d %q, want a 400 saying %q", spec, resp.StatusCode, msg, want)
		}
	}
}

// With request faults off (a service beyond loopback), the header and the baggage are ignored.
func TestRequestFaultsIgnoredWhenDisabled(t *testing.T) {
	sw, _ := faults.NewSwitch("backend", faults.Backend{}, nil)
	var got atomic.Pointer[faults.Backend]
	h := sw.Wrap("/api/data", false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(sw.ForRequest(r.Context()))
	}))
	b, _ := baggage.Parse("pillars.fault=backend.cache_off%3Dtrue")
	req := httptest.NewRequest(http.MethodGet, "/api/data", nil)
	req.Header.Set(faults.Header, "backend.cache_off=true")
	propagation.Baggage{}.Inject(baggage.ContextWithBaggage(context.Background(), b), propagation.HeaderCarrier(req.Header))
	h.ServeHTTP(httptest.NewRecorder(), req.WithContext(baggage.ContextWithBaggage(req.Context(), b)))
	if v := got.Load(); v == nil || v.CacheOff {
		t.Errorf("disabled request faults applied: %+v", v)
	}
}

// Route faults fail or slow the named route only.
func TestRouteFaults(t *testing.T) {
	rec := telemetrytest.New(t, "frontend")
	sw, err := faults.NewSwitch("frontend", faults.Frontend{}, nil,
		faults.WithChoices("routes", []string{"/", "/user/{id}", "/product/{id}"}), faults.WithErrorWriter(rec.WriteError))
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Set(faults.Frontend{HTTP: faults.HTTP{Route: "/product/{id}", RouteErrorRate: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := sw.Set(faults.Frontend{HTTP: faults.HTTP{Route: "/nope"}}); err == nil || !strings.Contains(err.Error(), `"/nope" is not one of /, /user/{id}, /product/{id}`) {
		t.Errorf("unknown route: %v", err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	for route, want := range map[string]int{"/product/{id}": 500, "/user/{id}": 200} {
		w := httptest.NewRecorder()
		sw.Wrap(route, true, ok).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
		if w.Code != want {
			t.Errorf("%s answered %d, want %d", route, w.Code, want)
		}
	}
}

// Calls break for real: a refused call never reaches the callee, a dropped one reaches it and
// sees its caller vanish; both are errors the caller classifies, not answers.
func TestTransportRefusesAndDropsCalls(t *testing.T) {
	rec := telemetrytest.New(t, "backend")
	// A callee at the TCP level: it records each request it reads in full, then whether the
	// caller closed the connection without waiting for an answer.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var reached, vanished atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						break
					}
				}
				reached.Add(1)
				if _, err := r.ReadByte(); errors.Is(err, io.EOF) {
					vanished.Add(1)
				}
			}()
		}
	}()
	url := "http://" + ln.Addr().String() + "/db/user/1"
	sw, _ := faults.NewSwitch("backend", faults.Backend{}, nil)
	client := rec.NewClient(telemetry.WithTransport(func(rt http.RoundTripper) http.RoundTripper { return faults.Transport(rt, sw) }))
	var v map[string]any

	_ = sw.Set(faults.Backend{Calls: faults.Calls{CallRefuseRate: 1}})
	err = client.GetJSON(context.Background(), "/db/user/{id}", url, &v)
	if o := telemetry.Classify(err); o.Label != telemetry.CallUnavailable || reached.Load() != 0 {
		t.Errorf("refused: %v classified %s, callee reached %d times; want unavailable and never reached", err, o.Label, reached.Load())
	}

	_ = sw.Set(faults.Backend{Calls: faults.Calls{CallDropRate: 1}})
	err = client.GetJSON(context.Background(), "/db/user/{id}", url, &v)
	if o := telemetry.Classify(err); o.Label != telemetry.CallError || errors.Is(err, context.Canceled) {
		t.Errorf("dropped: %v classified %s, want a broken connection (error)", err, o.Label)
	}
	telemetrytest.Eventually(t, 5*time.Second, "the callee to get the request and see its caller vanish", func() bool {
		return reached.Load() == 1 && vanished.Load() == 1
	})
}
