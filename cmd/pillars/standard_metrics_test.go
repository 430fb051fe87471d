package main

import (
	"strings"
	"testing"
)

// Every service exposes the conventions' HTTP server duration histogram under one name with
// the same labels, so that one query covers all three (the job label tells them apart).
func TestEveryServiceExposesTheStandardHTTPHistogram(t *testing.T) {
	s, _ := startAll(t, nil)
	s.get("/user/1")
	for svc, addr := range map[string]string{"frontend": s.frontend, "backend": s.backend, "database": s.database} {
		m := metrics(t, addr)
		found := false
		for _, line := range strings.Split(m, "\n") {
			if strings.HasPrefix(line, `http_server_request_duration_seconds_count{error_type="",http_request_method="GET",http_response_status_code="200",http_route="/`) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no http_server_request_duration_seconds series with method, route, status and error_type:\n%s",
				svc, grepSeries(m, "http_server_request_duration_seconds_count"))
		}
	}
}

func grepSeries(exposition, name string) string {
	var out []string
	for _, line := range strings.Split(exposition, "\n") {
		if strings.HasPrefix(line, name) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
