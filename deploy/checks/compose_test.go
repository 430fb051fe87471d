package checks

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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

// imageRef is a registry image pinned to a release, name:X.Y.Z, and optionally to the digest of
// that tag's multi-platform index: @sha256: and 64 lowercase hex digits, nothing else.
var imageRef = regexp.MustCompile(`^([a-z0-9./-]+):(v?\d+\.\d+\.\d+)(?:@(sha256:[0-9a-f]{64}))?$`)

// tagOnlyImages are the registry images whose index digest could not be confirmed from a
// published source when they were pinned, with what to do about it. Every other image must
// carry its digest; a digest is never written down unverified.
var tagOnlyImages = map[string]string{
	"prom/prometheus:v3.16.0": "no published multi-platform index digest found for this release yet: " +
		"pin it as name:tag@sha256:... from `docker buildx imagetools inspect prom/prometheus:v3.16.0` and drop this entry",
}

// parseImage splits a pinned image reference; ok is false when it is not one.
func parseImage(ref string) (name, tag, digest string, ok bool) {
	m := imageRef.FindStringSubmatch(ref)
	if m == nil {
		return "", "", "", false
	}
	return m[1], m[2], m[3], true
}

// Registry images are pinned by tag for the reader and by digest for the machine: a tag can be
// pushed again, a digest cannot.
func TestComposeImagesArePinned(t *testing.T) {
	p := loadCompose(t)
	for _, s := range p.Services {
		if s.Build != nil {
			continue // built from this repository
		}
		name, tag, digest, ok := parseImage(s.Image)
		if !ok {
			t.Errorf("%s: image %q is not name:X.Y.Z or name:X.Y.Z@sha256:<64 lowercase hex digits>", s.Name, s.Image)
			continue
		}
		why, tagOnly := tagOnlyImages[name+":"+tag]
		switch {
		case digest == "" && !tagOnly:
			t.Errorf("%s: image %q has no digest: pin it as %s:%s@sha256:<index digest>", s.Name, s.Image, name, tag)
		case digest == "" && tagOnly:
			t.Logf("%s: %s pinned by tag only: %s", s.Name, s.Image, why)
		case tagOnly:
			t.Errorf("%s: %s now has a digest: drop it from tagOnlyImages", s.Name, s.Image)
		}
	}
	for ref := range tagOnlyImages {
		found := false
		for _, s := range p.Services {
			name, tag, _, _ := parseImage(s.Image)
			found = found || name+":"+tag == ref
		}
		if !found {
			t.Errorf("tagOnlyImages lists %s, which compose.yaml no longer runs", ref)
		}
	}
}

// What counts as a pinned image, and what must not.
func TestImageReferenceForm(t *testing.T) {
	const hex64 = "1107dd5274e0ada47e42472b7a7e71f3b2a2fe878878108f3e2f9e51528f0193"
	for ref, want := range map[string]bool{
		"grafana/loki:3.7.8":                                  true,
		"grafana/loki:3.7.8@sha256:" + hex64:                  true,
		"prom/prometheus:v3.16.0":                             true,
		"grafana/loki:latest":                                 false,
		"grafana/loki:3.7":                                    false,
		"grafana/loki@sha256:" + hex64:                        false, // the tag is for the reader
		"grafana/loki:3.7.8@sha256:" + hex64[:63]:             false,
		"grafana/loki:3.7.8@sha256:" + hex64 + "0":            false,
		"grafana/loki:3.7.8@sha256:" + strings.ToUpper(hex64): false,
		"grafana/loki:3.7.8@sha512:" + hex64 + hex64:          false,
		"grafana/loki:3.7.8@" + hex64:                         false,
		"grafana/loki:3.7.8@sha256:":                          false,
	} {
		if _, _, _, ok := parseImage(ref); ok != want {
			t.Errorf("%q: accepted=%v, want %v", ref, ok, want)
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
	image := service(t, loadCompose(t), "prometheus").Image
	if name, tag, _, _ := parseImage(image); name+":"+tag != want {
		t.Errorf("prometheus image %s, want %s (the release scripts/tools.sh builds)", image, want)
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

// The whole stack stays within its memory budget, and the total the comments and the README
// state is the real one.
func TestComposeMemoryBudget(t *testing.T) {
	const budget = 2048 << 20
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

	stated := regexp.MustCompile(`[Mm]emory limits add up to (\d+) MiB`)
	for _, f := range []string{"compose.yaml", "README.md"} {
		ms := stated.FindAllSubmatch(readFile(t, f), -1)
		if len(ms) == 0 {
			t.Errorf("%s does not state what the memory limits add up to", f)
		}
		for _, m := range ms {
			if n, _ := strconv.ParseInt(string(m[1]), 10, 64); n != total>>20 {
				t.Errorf("%s says the memory limits add up to %s MiB; they add up to %d MiB", f, m[1], total>>20)
			}
		}
	}
	if m := regexp.MustCompile(`within a (\d+) GiB budget`).FindSubmatch(readFile(t, "compose.yaml")); m == nil || string(m[1]) != strconv.Itoa(budget>>30) {
		t.Errorf("compose.yaml should state the %d GiB budget this check enforces", budget>>30)
	}
}

// tempoMeasuredResident is Tempo's resident memory after 6.5 minutes at 5 requests/s with no
// limit; the 416 MiB limit it had before left it no room.
const tempoMeasuredResident = 411 << 20

// A Go service's GOMEMLIMIT is a soft target below its container limit: the garbage collector
// works harder before the kernel would kill the process. Between 70 and 90 % leaves room for
// what the Go heap does not count. Tempo's must also sit above what it was measured to use, or
// the collector would run flat out in steady state.
func TestComposeGoMemoryLimits(t *testing.T) {
	p := loadCompose(t)
	for _, s := range p.Services {
		v := env(s, "GOMEMLIMIT")
		if v == "" {
			continue
		}
		soft, err := parseGoMemLimit(v)
		if err != nil {
			t.Errorf("%s: GOMEMLIMIT=%q: %v", s.Name, v, err)
			continue
		}
		limit := int64(s.Deploy.Resources.Limits.MemoryBytes)
		if share := float64(soft) / float64(limit); share < 0.7 || share > 0.9 {
			t.Errorf("%s: GOMEMLIMIT %s is %.0f %% of the %d MiB limit, want 70-90 %%", s.Name, v, 100*share, limit>>20)
		}
	}
	tempo := service(t, p, "tempo")
	soft, err := parseGoMemLimit(env(tempo, "GOMEMLIMIT"))
	if err != nil {
		t.Fatalf("tempo: GOMEMLIMIT: %v", err)
	}
	if soft <= tempoMeasuredResident {
		t.Errorf("tempo: GOMEMLIMIT %d MiB is not above the %d MiB it was measured to use", soft>>20, tempoMeasuredResident>>20)
	}
}

// parseGoMemLimit reads a GOMEMLIMIT value as the Go runtime does: bytes, or a number with one
// of the suffixes B, KiB, MiB, GiB, TiB.
func parseGoMemLimit(v string) (int64, error) {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			i, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				return 0, err
			}
			return i << u.shift, nil
		}
	}
	return strconv.ParseInt(v, 10, 64)
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

// The services' admin endpoints listen beyond loopback in compose, so they need a token: the
// caller's PILLARS_ADMIN_TOKEN, or, with none written down anywhere, one generated into a
// file on a volume the three share, so that the frontend's scenarios reach the others.
func TestComposeAdminToken(t *testing.T) {
	for _, callerEnv := range [][]string{nil, {"PILLARS_ADMIN_TOKEN=from-the-caller"}} {
		p := loadCompose(t, callerEnv...)
		want := ""
		if callerEnv != nil {
			want = "from-the-caller"
		}
		var file string
		for _, svc := range pillarsServices {
			s := service(t, p, svc.name)
			if got := env(s, "PILLARS_ADMIN_TOKEN"); got != want {
				t.Errorf("%s: PILLARS_ADMIN_TOKEN=%q, want %q", svc.name, got, want)
			}
			f := env(s, "PILLARS_ADMIN_TOKEN_FILE")
			if file == "" {
				file = f
			}
			if f == "" || f != file {
				t.Errorf("%s: PILLARS_ADMIN_TOKEN_FILE=%q, want one file for every service", svc.name, f)
			}
			shared := false
			for _, v := range s.Volumes {
				shared = shared || (v.Type == types.VolumeTypeVolume && v.Source == "pillars-secrets" && v.Target == filepath.Dir(f) && !v.ReadOnly)
			}
			if !shared {
				t.Errorf("%s: %s is not on the writable pillars-secrets volume: %+v", svc.name, filepath.Dir(f), s.Volumes)
			}
		}
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
	// The frontend's scenario runner changes the database's faults through its admin API.
	assertURL(t, p, "frontend", "PILLARS_DATABASE_URL", env(service(t, p, "frontend"), "PILLARS_DATABASE_URL"), "database", "8003", "")
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
