package readback_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
	"github.com/pillars-o11y/pillars/internal/readback/prometheustest"
)

// The Prometheus client passes the cases against the fake Prometheus API; the end-to-end
// suite runs the same cases against a real Prometheus.
func TestPrometheusCases(t *testing.T) {
	fake := prometheustest.NewFake(t)
	p, err := readback.NewPrometheus(fake.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range prometheustest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			if err := c.Check(context.Background(), p); err != nil {
				t.Error(err)
			}
		})
	}
}

// Credentials in the URL reach Prometheus as basic auth, and no error message repeats them.
func TestPrometheusCredentials(t *testing.T) {
	const password = "s3cr3t-pw"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, pw, ok := r.BasicAuth(); !ok || u != "reader" || pw != password {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v1/status/buildinfo" {
			fmt.Fprint(w, `{"status":"success","data":{"version":"3.8.0","goVersion":"go1.26.8"}}`)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"status":"error","errorType":"unavailable","error":"not ready"}`)
	}))
	defer srv.Close()
	p, err := readback.NewPrometheus(strings.Replace(srv.URL, "http://", "http://reader:"+password+"@", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Ping(context.Background()); err != nil {
		t.Fatalf("Ping with credentials: %v", err)
	}
	_, err = p.Query(context.Background(), "up", time.Time{})
	if err == nil || !strings.Contains(err.Error(), "503 Service Unavailable, unavailable: not ready") || strings.Contains(err.Error(), password) {
		t.Errorf("error %v: want the status and the API's error, and never the password", err)
	}
}
