package checks

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

var stackServices = []string{"frontend", "backend", "database", "prometheus", "loki", "tempo", "grafana"}

// The pillars services, the port each listens on, and the variable that sets its address.
var pillarsServices = []struct{ name, port, addrVar string }{
	{"frontend", "8001", "PILLARS_FRONTEND_ADDR"},
	{"backend", "8002", "PILLARS_BACKEND_ADDR"},
	{"database", "8003", "PILLARS_DATABASE_ADDR"},
}

func TestComposeLoadsAndValidates(t *testing.T) {
	p := loadCompose(t)
	if p.Name != "pillars" {
		t.Errorf("project name %q, want pillars (volume and network names derive from it)", p.Name)
	}
	got := p.ServiceNames()
	slices.Sort(got)
	want := slices.Clone(stackServices)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("services %v, want %v", got, want)
	}
}

// Everything compose builds from or mounts must be in the repository: a fresh clone runs.
func TestComposeFilesExist(t *testing.T) {
	p := loadCompose(t)
	for _, s := range p.Services {
		if s.Build != nil {
			ctx := s.Build.Context
			if fi, err := os.Stat(ctx); err != nil || !fi.IsDir() {
				t.Errorf("%s: build context %s is not a directory", s.Name, ctx)
			}
			dockerfile := s.Build.Dockerfile
			if !filepath.IsAbs(dockerfile) {
				dockerfile = filepath.Join(ctx, dockerfile)
			}
			if _, err := os.Stat(dockerfile); err != nil {
				t.Errorf("%s: Dockerfile: %v", s.Name, err)
			}
		}
		for _, v := range s.Volumes {
			switch v.Type {
			case types.VolumeTypeBind:
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("%s: bind mount source missing: %v", s.Name, err)
				}
				if !v.ReadOnly {
					t.Errorf("%s: bind mount %s is writable; configs are mounted read-only", s.Name, v.Source)
				}
			case types.VolumeTypeVolume:
				if _, ok := p.Volumes[v.Source]; !ok {
					t.Errorf("%s: named volume %q is not declared", s.Name, v.Source)
				}
			}
		}
	}
}

// dockerignoreAllowlist reads a .dockerignore of the form "*" then "!path" lines.
func dockerignoreAllowlist(t *testing.T) map[string]bool {
	t.Helper()
	allowed := map[string]bool{}
	excludesAll := false
	for _, line := range strings.Split(string(readFile(t, ".dockerignore")), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "*":
			excludesAll = true
		case strings.HasPrefix(line, "!"):
			allowed[strings.TrimSuffix(strings.TrimPrefix(line, "!"), "/")] = true
		default:
			t.Fatalf(".dockerignore: %q: this check understands only `*` followed by `!path` lines", line)
		}
	}
	if !excludesAll {
		t.Fatal(".dockerignore should start from `*` and allow paths back in")
	}
	return allowed
}

var pinnedTag = regexp.MustCompile(`^[a-z0-9./-]+:v?\d+\.\d+\.\d+$`)

func TestComposeImagesArePinned(t *testing.T) {
	p := loadCompose(t)
	for _, s := range p.Services {
		if s.Build != nil {
			continue // built from this repository
		}
		if !pinnedTag.MatchString(s.Image) {
			t.Errorf("%s: image %q is not pinned to a release (name:X.Y.Z)", s.Name, s.Image)
		}
	}
}

// The Prometheus image runs the same release as the Prometheus the end-to-end tests build
// (scripts/tools.sh) and whose PromQL parser these checks use: module v0.3MM.P is 3.MM.P.
func TestComposePrometheusMatchesTheTestedRelease(t *testing.T) {
	m := regexp.MustCompile(`(?m)^PROMETHEUS_VERSION=v0\.3(\d\d)\.(\d+)\b`).FindSubmatch(readFile(t, "scripts", "tools.sh"))
	if m == nil {
		t.Fatal("scripts/tools.sh: no PROMETHEUS_VERSION=v0.3MM.P line")
	}
	want := "prom/prometheus:v3." + strings.TrimLeft(string(m[1]), "0") + "." + string(m[2])
	if strings.TrimLeft(string(m[1]), "0") == "" {
		want = "prom/prometheus:v3.0." + string(m[2])
	}
	if got := service(t, loadCompose(t), "prometheus").Image; got != want {
		t.Errorf("prometheus image %s, want %s (the release scripts/tools.sh builds)", got, want)
	}
	modVersion := "v0.3" + string(m[1]) + "." + string(m[2])
	if !strings.Contains(string(readFile(t, "deploy", "go.mod")), "github.com/prometheus/prometheus "+modVersion) {
		t.Errorf("deploy/go.mod should require github.com/prometheus/prometheus %s, the release the stack runs", modVersion)
	}
}

func TestComposeHealthchecksAndStartOrder(t *testing.T) {
	p := loadCompose(t)
	for _, s := range p.Services {
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
			t.Errorf("%s: no health check", s.Name)
			continue
		}
		if s.HealthCheck.Test[0] != "CMD" {
			t.Errorf("%s: health check %v: use the exec form (CMD); several images have no shell", s.Name, s.HealthCheck.Test)
		}
		for dep, d := range s.DependsOn {
			if d.Condition == "" {
				t.Errorf("%s depends on %s without a condition", s.Name, dep)
			}
		}
	}
	for _, svc := range pillarsServices {
		s := service(t, p, svc.name)
		want := []string{"CMD", "/pillars", "healthcheck", "--url", "http://127.0.0.1:" + svc.port + "/ready"}
		if !slices.Equal(s.HealthCheck.Test, want) {
			t.Errorf("%s: health check %v, want %v", svc.name, s.HealthCheck.Test, want)
		}
	}
	for svc, deps := range map[string][]string{
		"frontend": {"backend"},
		"backend":  {"database"},
		"grafana":  {"prometheus"},
	} {
		s := service(t, p, svc)
		for _, dep := range deps {
			if got := s.DependsOn[dep].Condition; got != types.ServiceConditionHealthy {
				t.Errorf("%s should wait for %s to be healthy, condition is %q", svc, dep, got)
			}
		}
	}
}

// The whole stack stays under 1.5 GB of memory limits.
func TestComposeMemoryBudget(t *testing.T) {
	const budget = 1536 << 20
	var total int64
	for _, s := range loadCompose(t).Services {
		if s.Deploy == nil || s.Deploy.Resources.Limits == nil || s.Deploy.Resources.Limits.MemoryBytes == 0 {
			t.Errorf("%s: no memory limit", s.Name)
			continue
		}
		total += int64(s.Deploy.Resources.Limits.MemoryBytes)
	}
	if total > budget {
		t.Errorf("memory limits add up to %d MiB, over the %d MiB budget", total>>20, budget>>20)
	}
	t.Logf("memory limits add up to %d MiB", total>>20)
}

// Published ports listen on loopback unless PILLARS_BIND_ADDRESS says otherwise: an anonymous
// Grafana and open OTLP receivers should not appear on a network by surprise.
func TestComposePortsBindLoopbackByDefault(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, "127.0.0.1"},
		{[]string{"PILLARS_BIND_ADDRESS=0.0.0.0"}, "0.0.0.0"},
	} {
		for _, s := range loadCompose(t, tc.env...).Services {
			for _, port := range s.Ports {
				if port.HostIP != tc.want {
					t.Errorf("env %v: %s publishes %d on %q, want %q", tc.env, s.Name, port.Target, port.HostIP, tc.want)
				}
			}
		}
	}
	published := map[string][]uint32{}
	for _, s := range loadCompose(t).Services {
		for _, port := range s.Ports {
			published[s.Name] = append(published[s.Name], port.Target)
		}
	}
	for svc, ports := range map[string][]uint32{
		"frontend": {8001}, "backend": {8002}, "database": {8003},
		"prometheus": {9090}, "loki": {3100}, "tempo": {3200, 4317, 4318}, "grafana": {3000},
	} {
		if !slices.Equal(published[svc], ports) {
			t.Errorf("%s publishes %v, want %v", svc, published[svc], ports)
		}
	}
}

// Grafana's admin password comes only from the caller's environment; without it the image's
// entrypoint wrapper generates one. Visitors are anonymous viewers.
func TestComposeGrafanaCredentials(t *testing.T) {
	g := service(t, loadCompose(t), "grafana")
	if got := env(g, "GF_SECURITY_ADMIN_PASSWORD"); got != "" {
		t.Errorf("with GRAFANA_ADMIN_PASSWORD unset, GF_SECURITY_ADMIN_PASSWORD is %q; no default may be written down", got)
	}
	g = service(t, loadCompose(t, "GRAFANA_ADMIN_PASSWORD=from-the-caller"), "grafana")
	if got := env(g, "GF_SECURITY_ADMIN_PASSWORD"); got != "from-the-caller" {
		t.Errorf("GF_SECURITY_ADMIN_PASSWORD is %q, want the caller's GRAFANA_ADMIN_PASSWORD", got)
	}
	for k, want := range map[string]string{
		"GF_AUTH_ANONYMOUS_ENABLED":  "true",
		"GF_AUTH_ANONYMOUS_ORG_ROLE": "Viewer",
		"GF_USERS_ALLOW_SIGN_UP":     "false",
	} {
		if got := env(g, k); got != want {
			t.Errorf("grafana %s=%q, want %q", k, got, want)
		}
	}
	if len(g.Entrypoint) != 2 || g.Entrypoint[0] != "/bin/sh" {
		t.Fatalf("grafana entrypoint %v, want the password wrapper run by /bin/sh", g.Entrypoint)
	}
	if _, err := os.Stat(hostPath(t, g, g.Entrypoint[1])); err != nil {
		t.Errorf("grafana entrypoint script: %v", err)
	}
}

// The services find each other, Tempo and Loki by the names and ports compose gives them.
func TestComposeServicesAreWiredTogether(t *testing.T) {
	p := loadCompose(t, "PILLARS_TRAFFIC_RATE=", "PILLARS_ENVIRONMENT=")
	for _, svc := range pillarsServices {
		s := service(t, p, svc.name)
		if got, want := env(s, svc.addrVar), "0.0.0.0:"+svc.port; got != want {
			t.Errorf("%s: %s=%q, want %q (reachable from the other containers)", svc.name, svc.addrVar, got, want)
		}
		if want := []string{svc.name}; !slices.Equal(s.Command, want) {
			t.Errorf("%s: command %v, want %v", svc.name, s.Command, want)
		}
		assertURL(t, p, svc.name, "OTEL_EXPORTER_OTLP_ENDPOINT", env(s, "OTEL_EXPORTER_OTLP_ENDPOINT"), "tempo", "4318", "")
		assertURL(t, p, svc.name, "PILLARS_LOKI_URL", env(s, "PILLARS_LOKI_URL"), "loki", "3100", "/loki/api/v1/push")
		if env(s, "PILLARS_ENVIRONMENT") == "" {
			t.Errorf("%s: PILLARS_ENVIRONMENT has no default", svc.name)
		}
	}
	assertURL(t, p, "frontend", "PILLARS_BACKEND_URL", env(service(t, p, "frontend"), "PILLARS_BACKEND_URL"), "backend", "8002", "")
	assertURL(t, p, "backend", "PILLARS_DATABASE_URL", env(service(t, p, "backend"), "PILLARS_DATABASE_URL"), "database", "8003", "")
	if rate := env(service(t, p, "frontend"), "PILLARS_TRAFFIC_RATE"); rate == "" || rate == "0" {
		t.Errorf("frontend: PILLARS_TRAFFIC_RATE=%q; the demo needs traffic by default", rate)
	}

	db := service(t, p, "database")
	dbDir := filepath.Dir(env(db, "PILLARS_DB_PATH"))
	onVolume := false
	for _, v := range db.Volumes {
		onVolume = onVolume || (v.Type == types.VolumeTypeVolume && v.Target == dbDir)
	}
	if !onVolume {
		t.Errorf("database: PILLARS_DB_PATH=%s is not on a named volume", env(db, "PILLARS_DB_PATH"))
	}
}

// assertURL checks that a URL points at a compose service on a port that service listens on.
func assertURL(t *testing.T, p *types.Project, owner, name, raw, host, port, urlPath string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Hostname() != host || u.Port() != port || u.Path != urlPath {
		t.Errorf("%s: %s=%q, want http://%s:%s%s", owner, name, raw, host, port, urlPath)
		return
	}
	if _, err := p.GetService(host); err != nil {
		t.Errorf("%s: %s points at %s, which is not a compose service", owner, name, host)
	}
}

// Config files named on command lines and in variables are really mounted where they are looked for.
func TestComposeConfigPathsAreMounted(t *testing.T) {
	p := loadCompose(t)
	for svc, flag := range map[string]string{"prometheus": "config.file", "loki": "config.file", "tempo": "config.file"} {
		s := service(t, p, svc)
		cfg := flagValue(s.Command, flag)
		if cfg == "" {
			t.Errorf("%s: no -%s in %v", svc, flag, s.Command)
			continue
		}
		if _, err := os.Stat(hostPath(t, s, cfg)); err != nil {
			t.Errorf("%s: %s: %v", svc, cfg, err)
		}
	}
	g := service(t, p, "grafana")
	home := env(g, "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
	if _, err := os.Stat(hostPath(t, g, home)); err != nil {
		t.Errorf("grafana home dashboard %s: %v", home, err)
	}
	for _, dir := range []string{"/etc/grafana/provisioning/datasources", "/etc/grafana/provisioning/dashboards"} {
		if fi, err := os.Stat(hostPath(t, g, dir)); err != nil || !fi.IsDir() {
			t.Errorf("grafana %s is not a mounted directory", dir)
		}
	}
	var providers struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, &providers, "deploy", "grafana", "provisioning", "dashboards", "dashboards.yaml")
	if len(providers.Providers) != 1 {
		t.Fatalf("want one dashboard provider, got %d", len(providers.Providers))
	}
	dashboards, err := filepath.Glob(filepath.Join(hostPath(t, g, providers.Providers[0].Options.Path), "*.json"))
	if err != nil || len(dashboards) == 0 {
		t.Errorf("the dashboard provider's path %s holds no dashboards", providers.Providers[0].Options.Path)
	}
}
