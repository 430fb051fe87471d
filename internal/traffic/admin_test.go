package traffic

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// /admin/traffic: GET shows the settings, PUT replaces them, PATCH changes some; mistakes are
// a 400 naming the field, and without the token nothing is shown or changed.
func TestAdminAPI(t *testing.T) {
	tel := telemetrytest.New(t, "frontend")
	g, err := New(Config{BaseURL: "http://127.0.0.1:1", Initial: Defaults(2), Logger: tel.Logger})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	g.Routes(mux, tel.Telemetry, tel.Guard(telemetry.AdminConfig{Token: "s3cret"}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	call := func(method, body, token string) (int, Status, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/admin/traffic", strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var st Status
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatalf("%s: %s: %v", method, b, err)
			}
		}
		return resp.StatusCode, st, string(b)
	}

	if code, _, body := call(http.MethodGet, "", ""); code != http.StatusUnauthorized || !strings.Contains(body, "admin token") {
		t.Errorf("GET without the token: %d %s, want 401 naming the token", code, body)
	}
	if code, _, _ := call(http.MethodPut, `{"rate": 400}`, "wrong"); code != http.StatusUnauthorized {
		t.Errorf("PUT with a wrong token: %d, want 401", code)
	}
	if st := g.Status(); st.Rate != 2 {
		t.Fatalf("refused calls changed the rate to %v", st.Rate)
	}

	if code, st, body := call(http.MethodGet, "", "s3cret"); code != http.StatusOK || st.Rate != 2 || st.Mix != DefaultMix || st.Shape != Steady {
		t.Errorf("GET: %d %s, want 2/s steady with the default mix", code, body)
	}
	if code, st, body := call(http.MethodPut, `{"rate": 8, "shape": "wave", "peak": 20, "period": "10m", "duration": "1h"}`, "s3cret"); code != http.StatusOK ||
		st.Rate != 8 || st.Shape != Wave || st.Until == nil || st.Then == nil || st.Then.Rate != 2 {
		t.Errorf("PUT a wave for an hour: %d %s", code, body)
	}
	if code, st, body := call(http.MethodPatch, `{"mix": {"bad": 50}}`, "s3cret"); code != http.StatusOK ||
		st.Shape != Wave || st.Rate != 8 || st.Mix.Bad != 50 || st.Mix.User != DefaultMix.User || st.Until != nil {
		t.Errorf("PATCH the mix: %d %s, want the wave kept, for good now, with bad=50", code, body)
	}
	if code, _, body := call(http.MethodPatch, `{"rate": 1000}`, "s3cret"); code != http.StatusBadRequest || !strings.Contains(body, "invalid traffic: rate 1000") {
		t.Errorf("PATCH rate 1000: %d %s, want 400 naming the rate", code, body)
	}
	if l := tel.LogWithMsg(t, "Traffic changed"); !strings.Contains(l["traffic"].(string), "wave from 8 to 20 req/s") {
		t.Errorf("change log line %v", l)
	}
}
