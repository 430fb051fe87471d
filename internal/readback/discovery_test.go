package readback

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// The discovery calls against their documented answers: Tempo's /api/v2/search/tag/<tag>/values
// (values as objects, a TraceQL query narrowing them), Jaeger's
// /api/services/<service>/operations, Prometheus's /api/v1/label/<name>/values.
func TestDiscovery(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/search/tag/resource.service.name/values", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"tagValues":[{"type":"string","value":"frontend"},{"type":"string","value":"backend"}],"metrics":{}}`))
	})
	mux.HandleFunc("GET /api/v2/search/tag/name/values", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("q") != `{ resource.service.name = "backend" }` {
			http.Error(w, "unexpected q "+r.URL.Query().Get("q"), http.StatusBadRequest)
			return
		}
		w.Write([]byte(`{"tagValues":[{"type":"string","value":"backend_get_user"}]}`))
	})
	mux.HandleFunc("GET /api/services/{svc}/operations", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"data":["GET /api/user/{id}","` + r.PathValue("svc") + `_op"],"total":2,"limit":0,"offset":0,"errors":null}`))
	})
	mux.HandleFunc("GET /api/v1/label/__name__/values", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query()["match[]"][0] != `{job="backend"}` {
			http.Error(w, "unexpected match", http.StatusBadRequest)
			return
		}
		w.Write([]byte(`{"status":"success","data":["backend_requests_total","up"]}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := t.Context()

	tempo, _ := NewTempo(srv.URL, srv.Client())
	if got, err := tempo.Services(ctx); err != nil || !slices.Equal(got, []string{"frontend", "backend"}) {
		t.Errorf("Tempo services %v, %v", got, err)
	}
	if got, err := tempo.Operations(ctx, "backend"); err != nil || !slices.Equal(got, []string{"backend_get_user"}) {
		t.Errorf("Tempo operations %v, %v", got, err)
	}
	jaeger, _ := NewJaeger(srv.URL, srv.Client())
	if got, err := jaeger.Operations(ctx, "backend"); err != nil || !slices.Equal(got, []string{"GET /api/user/{id}", "backend_op"}) {
		t.Errorf("Jaeger operations %v, %v", got, err)
	}
	prom, _ := NewPrometheus(srv.URL, srv.Client())
	if got, err := prom.LabelValues(ctx, "__name__", []string{`{job="backend"}`}, time.Time{}, time.Time{}); err != nil || !slices.Equal(got, []string{"backend_requests_total", "up"}) {
		t.Errorf("Prometheus label values %v, %v", got, err)
	}
}
