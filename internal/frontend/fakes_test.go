package frontend

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/backend"
	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// fakeBackend serves the backend's API with its own wire types (internal/backend/api.go) on
// a loopback port, and can be told to fail: answer a status, be slow, or be gone.
// TestFakeBackendAnswersLikeTheRealOne runs every route against it and against the real
// backend and database, so that the two cannot drift apart.
type fakeBackend struct {
	*httptest.Server
	status int           // non-zero: every /api call answers this status with a JSON error
	code   string        // that error's code; the status's own (telemetry.CodeOf) when empty
	delay  time.Duration // every /api call waits this long (or until its caller gives up)

	mu       sync.Mutex
	requests []*http.Request // what each /api call carried (headers and path)
}

func newFakeBackend(t testing.TB, status int, delay time.Duration) *fakeBackend {
	t.Helper()
	fb := &fakeBackend{status: status, delay: delay}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/user/{id}", fb.api(func(r *http.Request) any {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if id > database.MaxUserID {
			return notSeeded("user "+r.PathValue("id"), backend.CodeUserNotFound)
		}
		return backend.UserResponse{
			User:  backend.User{ID: id, Name: "User " + r.PathValue("id"), Email: "u@example.com", Tier: "gold"},
			Cache: "miss",
		}
	}))
	mux.HandleFunc("GET /api/product/{id}", fb.api(func(r *http.Request) any {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if id > database.MaxProductID {
			return notSeeded("product "+r.PathValue("id"), backend.CodeProductNotFound)
		}
		return backend.ProductResponse{
			Product: backend.Product{ID: id, SKU: "SKU-" + r.PathValue("id"), Name: "Product " + r.PathValue("id"),
				Category: "home", PriceCents: 1999, Inventory: []backend.WarehouseStock{{Warehouse: "Chicago", Quantity: 3}}},
			Pricing: backend.Pricing{ListPriceCents: 1999, FinalPriceCents: 2164, TaxCents: 165, Rule: "standard"},
			Cache:   "hit",
		}
	}))
	mux.HandleFunc("GET /api/data", fb.api(func(*http.Request) any {
		return backend.DataResponse{
			TopProducts: []backend.TopProduct{
				{ProductID: 7, Name: "Walnut <desk>", Category: "home", UnitsSold: 40, RevenueCents: 99000},
				{ProductID: 42, Name: "Lamp", Category: "home", UnitsSold: 30, RevenueCents: 45000},
			},
			Categories: []backend.CategorySummary{{Category: "home", Products: 12}},
			Cache:      "miss",
		}
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	fb.Server = httptest.NewServer(mux)
	t.Cleanup(fb.Close)
	return fb
}

func (fb *fakeBackend) api(answer func(*http.Request) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fb.mu.Lock()
		if len(fb.requests) < 100 { // enough for any test, bounded for benchmarks
			fb.requests = append(fb.requests, r.Clone(context.Background()))
		}
		fb.mu.Unlock()
		if fb.delay > 0 {
			select {
			case <-time.After(fb.delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if fb.status != 0 {
			w.WriteHeader(fb.status)
			_ = json.NewEncoder(w).Encode(telemetry.ErrorBody{
				Error: "fake backend says " + strconv.Itoa(fb.status), Code: cmp.Or(fb.code, telemetry.CodeOf(nil, fb.status)), Status: fb.status,
			})
			return
		}
		a := answer(r)
		if e, ok := a.(telemetry.ErrorBody); ok {
			w.WriteHeader(e.Status)
		}
		_ = json.NewEncoder(w).Encode(a)
	}
}

// notSeeded is the backend's answer for an id past the seeded range.
func notSeeded(subject, code string) telemetry.ErrorBody {
	return telemetry.ErrorBody{Error: subject + " does not exist", Code: code, Status: http.StatusNotFound}
}

func (fb *fakeBackend) received() []*http.Request {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	return append([]*http.Request(nil), fb.requests...)
}

// testFrontend is a frontend on a loopback port, with its recorded telemetry.
type testFrontend struct {
	*httptest.Server
	tel *telemetrytest.Recorder
	svc *Service
}

func newTestFrontend(t testing.TB, backendURL string, cfg Config) *testFrontend {
	t.Helper()
	tel := telemetrytest.New(t, "frontend")
	cfg.BackendURL = backendURL
	// The listener first, so that the traffic generator knows where the frontend is.
	srv := httptest.NewUnstartedServer(nil)
	cfg.SelfURL = "http://" + srv.Listener.Addr().String()
	svc, err := New(t.Context(), cfg, tel.Telemetry)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	srv.Config.Handler = svc.Handler()
	srv.Start()
	t.Cleanup(func() { srv.Close(); _ = svc.Close() })
	return &testFrontend{Server: srv, tel: tel, svc: svc}
}

// get requests path with the given Accept header (none when empty).
func get(t testing.TB, c *http.Client, url, accept string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// traceResponse splits a traceresponse header into trace id and span id.
func traceResponse(t testing.TB, h http.Header) (traceID, spanID string) {
	t.Helper()
	v := h.Get("traceresponse")
	parts := strings.Split(v, "-")
	if len(parts) != 4 || parts[0] != "00" || len(parts[1]) != 32 || len(parts[2]) != 16 {
		t.Fatalf("traceresponse %q: want 00-<32 hex>-<16 hex>-<flags>", v)
	}
	return parts[1], parts[2]
}

// eventually retries check until it passes or 5 s have gone by: the middleware counts a
// request and ends its span after the answer may have reached the client.
func eventually(t testing.TB, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: %v", what, t.Context().Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// scrapeOpenMetrics returns the lines of /metrics in the OpenMetrics format, the one that
// carries exemplars.
func scrapeOpenMetrics(t testing.TB, baseURL string) []string {
	t.Helper()
	body := telemetrytest.Scrape(t, baseURL+"/metrics")
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}
