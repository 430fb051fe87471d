package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pillars-o11y/pillars/internal/backend"
	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// startRealBackend runs the real backend in front of the real database service on a new,
// seeded SQLite file, and returns the backend's URL.
func startRealBackend(t *testing.T) string {
	t.Helper()
	db, err := database.New(context.Background(), database.Config{Path: filepath.Join(t.TempDir(), "pillars.db")},
		telemetrytest.New(t, "database").Telemetry)
	if err != nil {
		t.Fatal(err)
	}
	dbSrv := httptest.NewServer(db.Handler())
	t.Cleanup(func() { dbSrv.Close(); _ = db.Close() })
	rec := telemetrytest.New(t, "backend")
	be, err := backend.New(context.Background(), backend.Config{DatabaseURL: dbSrv.URL}, rec.Telemetry)
	if err != nil {
		t.Fatal(err)
	}
	beSrv := httptest.NewServer(be.Handler())
	t.Cleanup(func() { beSrv.Close(); _ = be.Close() })
	return beSrv.URL
}

// Every route of the frontend answers the same through the fake backend as through the real
// backend and database: the same status, an answer of the same shape, the same error code. This is what keeps
// the fake honest (a fake that said "id" where the service says "product_id" fails here).
func TestFakeBackendAnswersLikeTheRealOne(t *testing.T) {
	fake := newTestFrontend(t, newFakeBackend(t, 0, 0).URL, Config{})
	real := newTestFrontend(t, startRealBackend(t), Config{})
	for _, path := range []string{"/", "/user/123", "/product/42", "/user/999999", "/product/1001", "/user/abc", "/product/-1"} {
		t.Run(path, func(t *testing.T) {
			fr, fb := get(t, http.DefaultClient, fake.URL+path, "")
			rr, rb := get(t, http.DefaultClient, real.URL+path, "")
			if fr.StatusCode != rr.StatusCode {
				t.Fatalf("fake answered %d, real %d: %s", fr.StatusCode, rr.StatusCode, rb)
			}
			if fk, rk := telemetrytest.JSONKeys(t, fb), telemetrytest.JSONKeys(t, rb); !slices.Equal(fk, rk) {
				t.Errorf("answers differ in shape:\nfake %v\nreal %v", fk, rk)
			}
			var fe, re errorAnswer
			if err := errors.Join(json.Unmarshal(fb, &fe), json.Unmarshal(rb, &re)); err != nil || fe.Code != re.Code {
				t.Errorf("fake answered code %q, real %q (%v)", fe.Code, re.Code, err)
			}
		})
	}
}

// The home page a browser gets links the real top products of the seed, by id and name.
func TestHomePageLinksTheRealTopProducts(t *testing.T) {
	fe := newTestFrontend(t, startRealBackend(t), Config{})
	_, body := get(t, http.DefaultClient, fe.URL+"/", "")
	var data backend.DataResponse
	if err := json.Unmarshal(body, &data); err != nil || len(data.TopProducts) == 0 {
		t.Fatalf("overview %s: %v", body, err)
	}
	resp, page := get(t, http.DefaultClient, fe.URL+"/", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	links := regexp.MustCompile(`<a href="/product/(\d+)">([^<]+)</a>`).FindAllStringSubmatch(string(page), -1)
	if len(links) != len(data.TopProducts) {
		t.Fatalf("page has %d product links, want the %d top products:\n%s", len(links), len(data.TopProducts), page)
	}
	for i, p := range data.TopProducts {
		if links[i][1] != jsonNumber(p.ProductID) || links[i][2] != p.Name || strings.HasPrefix(p.Name, "Product ") {
			t.Errorf("link %d is %q → /product/%s, want %q → /product/%d", i, links[i][2], links[i][1], p.Name, p.ProductID)
		}
	}
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// Bad ids are judged by the frontend itself, by the rule every service shares: a 400, counted
// as bad_request, and no backend call at all.
func TestBadIDsNeverReachTheBackend(t *testing.T) {
	fb := newFakeBackend(t, 0, 0)
	fe := newTestFrontend(t, fb.URL, Config{})
	for _, path := range []string{"/user/abc", "/user/+1", "/user/0", "/product/2147483648", "/product/%20"} {
		resp, body := get(t, http.DefaultClient, fe.URL+path, "")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"status":400`) {
			t.Errorf("%s: %d %s, want a 400 JSON error", path, resp.StatusCode, body)
		}
	}
	if n := len(fb.received()); n != 0 {
		t.Errorf("the backend was called %d times for bad ids", n)
	}
}

// A backend that answers 200 with an incomplete document ("{}") gets a 502, never a 200
// with zero values.
func TestIncompleteBackendAnswerIs502(t *testing.T) {
	empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer empty.Close()
	fe := newTestFrontend(t, empty.URL, Config{})
	for _, path := range []string{"/", "/user/1", "/product/1"} {
		resp, body := get(t, http.DefaultClient, fe.URL+path, "")
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("%s: %d %s, want 502", path, resp.StatusCode, body)
		}
	}
}

// Handler can be asked for more than once (the request metrics are registered once).
func TestHandlerIsBuiltOnce(t *testing.T) {
	fe := newTestFrontend(t, newFakeBackend(t, 0, 0).URL, Config{})
	if fe.svc.Handler() != fe.svc.Handler() {
		t.Error("Handler returned two different handlers")
	}
}
