package checks

import (
	"context"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// The verify service (`docker compose run --rm verify`) exists only under its profile, runs
// `pillars verify` from the services' image against the stack's own addresses, with the
// data source provisioning file Grafana uses, once everything it checks is healthy.
func TestComposeVerifyService(t *testing.T) {
	root := repoRoot(t)
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "compose.yaml")},
		cli.WithWorkingDirectory(root), cli.WithEnv(nil), cli.WithInterpolation(true),
		cli.WithResolvedPaths(true), cli.WithProfiles([]string{"verify"}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose.yaml with the verify profile does not load: %v", err)
	}
	s := service(t, p, "verify")
	if !slices.Equal(s.Profiles, []string{"verify"}) {
		t.Errorf("verify: profiles %v, want [verify] so that `docker compose up` leaves it out", s.Profiles)
	}
	if s.Image != service(t, p, "frontend").Image || s.Build == nil {
		t.Errorf("verify: image %q, want the services' own image, built from this repository", s.Image)
	}
	if len(s.Command) == 0 || s.Command[0] != "verify" {
		t.Errorf("verify: command %v, want pillars verify", s.Command)
	}
	want := map[string]string{ // variable → service:port it must point at
		"PILLARS_FRONTEND_URL":   "frontend:8001",
		"PILLARS_PROMETHEUS_URL": "prometheus:9090",
		"PILLARS_TRACES_URL":     "tempo:3200",
		"PILLARS_LOGS_URL":       "loki:3100",
	}
	for v, hostPort := range want {
		val := s.Environment[v]
		if val == nil {
			t.Errorf("verify: %s is not set", v)
			continue
		}
		u, err := url.Parse(*val)
		if err != nil || u.Host != hostPort {
			t.Errorf("verify: %s=%s, want http://%s", v, *val, hostPort)
		}
		host := strings.Split(hostPort, ":")[0]
		if d, ok := s.DependsOn[host]; !ok || d.Condition != types.ServiceConditionHealthy {
			t.Errorf("verify: should wait for %s to be healthy, depends_on %v", host, s.DependsOn)
		}
	}
	for v, kind := range map[string]string{"PILLARS_TRACES_KIND": "tempo", "PILLARS_LOGS_KIND": "loki"} {
		if val := s.Environment[v]; val == nil || *val != kind {
			t.Errorf("verify: %s should be %s (no guessing inside the stack)", v, kind)
		}
	}
	// The provisioning file Grafana mounts is the one verify checks, at the path its command names.
	grafanaFile := path(t, "deploy", "grafana", "provisioning", "datasources", "datasources.yaml")
	var mounted string
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind && v.Source == grafanaFile && v.ReadOnly {
			mounted = v.Target
		}
	}
	if mounted == "" || !slices.Contains(s.Command, mounted) {
		t.Errorf("verify: want %s mounted read-only and passed to --datasources; volumes %v, command %v", grafanaFile, s.Volumes, s.Command)
	}
	if s.Restart != "no" || s.HealthCheck == nil || !s.HealthCheck.Disable {
		t.Errorf("verify: restart %q, health check %+v: a one-shot command restarts never and has no health check", s.Restart, s.HealthCheck)
	}
	if s.Deploy == nil || s.Deploy.Resources.Limits == nil || s.Deploy.Resources.Limits.MemoryBytes == 0 {
		t.Errorf("verify: no memory limit")
	}
}
