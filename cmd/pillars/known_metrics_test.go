package main

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// The dashboards, recording rules and alerts under deploy/ may only name metrics listed in
// deploy/metrics/known.txt (the deploy checks enforce that). This test closes the loop: every
// name in its [services] section is really exposed by the service that owns it, so a renamed
// metric breaks a test instead of a dashboard.
func TestServicesExposeEveryMetricTheDashboardsUse(t *testing.T) {
	names := knownServiceMetrics(t, "../../deploy/metrics/known.txt")
	s, _ := startAll(t, nil)
	// One request through every route so that labelled series exist as well.
	for _, p := range []string{"/", "/user/1", "/product/1"} {
		s.get(p)
	}
	exposed := map[string]string{
		"frontend": metrics(t, s.frontend),
		"backend":  metrics(t, s.backend),
		"database": metrics(t, s.database),
	}
	for _, name := range names {
		owners := []string{"frontend", "backend", "database"} // pillars_*, go_*, process_*: every service
		if svc, _, _ := strings.Cut(name, "_"); exposed[svc] != "" {
			owners = []string{svc} // frontend_* from the frontend, and so on
		}
		if strings.HasPrefix(name, "pillars_traffic_") || strings.HasPrefix(name, "pillars_scenario_") {
			owners = []string{"frontend"} // the frontend hosts the traffic generator and the scenario runner
		}
		for _, svc := range owners {
			if !exposesSeries(exposed[svc], name) {
				t.Errorf("%s does not expose %s, which deploy/metrics/known.txt promises", svc, name)
			}
		}
	}
}

func knownServiceMetrics(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		case section == "services":
			names = append(names, line)
		}
	}
	if len(names) < 20 {
		t.Fatalf("only %d service metrics in %s: wrong file or format", len(names), path)
	}
	return names
}

// exposesSeries reports whether an OpenMetrics exposition has a sample of series name.
// OpenMetrics names counters' samples name_total, as Prometheus stores them. A histogram
// family counts under its own name too: that is where Prometheus stores its native form
// (the protobuf exposition carries the buckets; e2e checks they are stored).
func exposesSeries(exposition, name string) bool {
	for _, line := range strings.Split(exposition, "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") || line == "# TYPE "+name+" histogram" {
			return true
		}
	}
	return false
}
