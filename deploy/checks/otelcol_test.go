package checks

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// The OpenTelemetry Collector: deploy/otelcol/config.yaml (compose profile otlp, the contrib
// image) and deploy/local/otelcol.yaml (`make up-otlp`) are validated by the Collector that
// `make tools` builds from tools/otelcol/builder-config.yaml, at the image's release.

const collectorImage = "otel/opentelemetry-collector-contrib"

var collectorConfigs = [][]string{
	{"deploy", "otelcol", "config.yaml"},
	{"deploy", "local", "otelcol.yaml"},
}

// otelcol is the Collector `make tools` builds into $PILLARS_TOOLS/bin. Missing, it fails the
// test, as promtool does: these checks are part of `make test`.
func otelcol(t *testing.T) string {
	t.Helper()
	tools := os.Getenv("PILLARS_TOOLS")
	if tools == "" {
		tools = path(t, ".tools")
	}
	bin := filepath.Join(tools, "bin", "otelcol")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("otelcol not found at %s: run `make tools` first (it builds the Collector into $PILLARS_TOOLS/bin)", bin)
	}
	return bin
}

// validate runs `otelcol validate`, which builds every component of the config without
// starting it: unknown components, unknown keys and invalid values fail.
func validate(t *testing.T, config string) (string, error) {
	t.Helper()
	cmd := exec.Command(otelcol(t), "validate", "--config="+config)
	// Only the defaults written in the files: none of the caller's OTELCOL_* variables.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestCollectorConfigsValidate(t *testing.T) {
	for _, parts := range collectorConfigs {
		t.Run(filepath.Join(parts...), func(t *testing.T) {
			if out, err := validate(t, path(t, parts...)); err != nil {
				t.Errorf("otelcol validate: %v\n%s", err, out)
			}
		})
	}
}

// The validation above means something only if the binary rejects what is wrong.
func TestCollectorRejectsAnUnknownKey(t *testing.T) {
	good := string(readFile(t, "deploy", "otelcol", "config.yaml"))
	bad := strings.Replace(good, "translation_strategy:", "translation_strategyy:", 1)
	if bad == good {
		t.Fatal("deploy/otelcol/config.yaml sets no translation_strategy to misspell")
	}
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := validate(t, file)
	if err == nil || !strings.Contains(out, "translation_strategyy") {
		t.Errorf("otelcol validate accepted a misspelt key (err %v):\n%s", err, out)
	}
}

// builderManifest is the part of tools/otelcol/builder-config.yaml these checks read.
type builderManifest struct {
	Dist struct {
		Version string `yaml:"version"`
	} `yaml:"dist"`
	Receivers  []struct{ GoMod string } `yaml:"receivers"`
	Processors []struct{ GoMod string } `yaml:"processors"`
	Exporters  []struct{ GoMod string } `yaml:"exporters"`
	Extensions []struct{ GoMod string } `yaml:"extensions"`
	Providers  []struct{ GoMod string } `yaml:"providers"`
}

// The built Collector and the compose image are of one release, so what `otelcol validate`
// says here holds for the container; and every module of the build is of that release.
func TestCollectorBuildIsTheImageRelease(t *testing.T) {
	var m builderManifest
	readYAML(t, &m, "tools", "otelcol", "builder-config.yaml")
	release := m.Dist.Version
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(release) {
		t.Fatalf("builder-config.yaml: dist.version %q is not a collector release", release)
	}
	var stable []string
	for _, list := range [][]struct{ GoMod string }{m.Receivers, m.Processors, m.Exporters, m.Extensions, m.Providers} {
		for _, c := range list {
			module, version, ok := strings.Cut(c.GoMod, " ")
			switch {
			case !ok:
				t.Errorf("builder-config.yaml: %q names no version", c.GoMod)
			case strings.HasPrefix(version, "v0."):
				// Contrib modules and the core's beta modules carry the release number.
				if version != "v"+release {
					t.Errorf("builder-config.yaml: %s at %s, want v%s like dist.version", module, version, release)
				}
			default:
				stable = append(stable, version)
			}
		}
	}
	// The core's 1.x modules move in step with each other.
	if slices.Sort(stable); len(slices.Compact(stable)) > 1 {
		t.Errorf("builder-config.yaml: the 1.x modules are at several versions: %v", slices.Compact(stable))
	}
	script := string(readFile(t, "scripts", "tools.sh"))
	if !strings.Contains(script, "\nOTELCOL_BUILDER_VERSION=v"+release+" ") {
		t.Errorf("scripts/tools.sh: OTELCOL_BUILDER_VERSION is not v%s, the manifest's release", release)
	}
	s := service(t, loadComposeProfiles(t, "otlp"), "otel-collector")
	if want := collectorImage + ":" + release; s.Image != want {
		t.Errorf("compose otel-collector image %s, want %s (the release make tools builds)", s.Image, want)
	}
}

// loadComposeProfiles loads compose.yaml with the given profiles active.
func loadComposeProfiles(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	root := repoRoot(t)
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "compose.yaml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(nil),
		cli.WithInterpolation(true),
		cli.WithResolvedPaths(true),
		cli.WithProfiles(profiles),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose.yaml with profiles %v does not load: %v", profiles, err)
	}
	return p
}

// The Collector is an option: absent from the default stack, complete under its profile.
func TestComposeCollectorProfile(t *testing.T) {
	if _, err := loadCompose(t).GetService("otel-collector"); err == nil {
		t.Error("otel-collector runs without --profile otlp; it should be optional")
	}
	p := loadComposeProfiles(t, "otlp")
	s := service(t, p, "otel-collector")
	if !slices.Equal(s.Profiles, []string{"otlp"}) {
		t.Errorf("otel-collector profiles %v, want [otlp]", s.Profiles)
	}
	config := flagValue(s.Command, "config")
	if config == "" {
		t.Fatalf("otel-collector: no --config in %v", s.Command)
	}
	if got, want := hostPath(t, s, config), path(t, "deploy", "otelcol", "config.yaml"); got != want {
		t.Errorf("otel-collector reads %s from %s, want %s", config, got, want)
	}
	if s.Deploy == nil || s.Deploy.Resources.Limits == nil || s.Deploy.Resources.Limits.MemoryBytes == 0 {
		t.Error("otel-collector: no memory limit (its memory_limiter works in percent of it)")
	}
	if len(s.Ports) != 0 {
		t.Errorf("otel-collector publishes %v; Tempo holds the host's OTLP ports", s.Ports)
	}
	for _, dep := range []string{"tempo", "loki", "prometheus"} {
		if _, ok := s.DependsOn[dep]; !ok {
			t.Errorf("otel-collector does not wait for %s to start", dep)
		}
	}
}

// collectorConfig is the part of a Collector config these checks read.
type collectorConfig struct {
	Exporters map[string]map[string]any `yaml:"exporters"`
	Service   struct {
		Pipelines map[string]struct {
			Receivers  []string `yaml:"receivers"`
			Processors []string `yaml:"processors"`
			Exporters  []string `yaml:"exporters"`
		} `yaml:"pipelines"`
	} `yaml:"service"`
}

// envDefault replaces ${env:NAME:-default} with its default, as the Collector does when NAME
// is unset.
var envDefault = regexp.MustCompile(`\$\{env:[A-Z0-9_]+:-([^}]*)\}`)

// exporterURL is where the one exporter of a pipeline sends, defaults of ${env:...} applied:
// http.endpoint for remote write, endpoint otherwise.
func exporterURL(t *testing.T, c collectorConfig, pipeline string) (kind, raw string) {
	t.Helper()
	p, ok := c.Service.Pipelines[pipeline]
	if !ok || len(p.Exporters) != 1 {
		t.Fatalf("pipeline %s: exporters %v, want exactly one", pipeline, p.Exporters)
	}
	name := p.Exporters[0]
	cfg := c.Exporters[name]
	endpoint, _ := cfg["endpoint"].(string)
	if h, ok := cfg["http"].(map[string]any); ok {
		endpoint, _ = h["endpoint"].(string)
	}
	kind, _, _ = strings.Cut(name, "/")
	return kind, envDefault.ReplaceAllString(endpoint, "$1")
}

// Both configs route every signal the same way: OTLP in, the memory limit first, batches last,
// the log label mapping in between for logs,
// and metrics translated to the series a scrape gives: names with the Prometheus suffixes (so
// the services' metric names stay as they are) and no otel_scope_* labels.
func TestCollectorPipelines(t *testing.T) {
	for _, parts := range collectorConfigs {
		var c collectorConfig
		readYAML(t, &c, parts...)
		file := filepath.Join(parts...)
		for _, signal := range []string{"traces", "metrics", "logs"} {
			p, ok := c.Service.Pipelines[signal]
			if !ok {
				t.Errorf("%s: no %s pipeline", file, signal)
				continue
			}
			if !slices.Equal(p.Receivers, []string{"otlp"}) {
				t.Errorf("%s: %s receivers %v, want [otlp]", file, signal, p.Receivers)
			}
			// Logs get the push path's stream labels (service, environment, level) between
			// the two; e2e/otlp_test.go proves they arrive.
			want := []string{"memory_limiter", "batch"}
			if signal == "logs" {
				want = []string{"memory_limiter", "resource/log-labels", "groupbyattrs/log-labels", "batch"}
			}
			if !slices.Equal(p.Processors, want) {
				t.Errorf("%s: %s processors %v, want %v", file, signal, p.Processors, want)
			}
		}
		prw := c.Exporters["prometheus_remote_write"]
		if got := prw["translation_strategy"]; got != "UnderscoreEscapingWithSuffixes" {
			t.Errorf("%s: prometheus_remote_write translation_strategy %v, want UnderscoreEscapingWithSuffixes", file, got)
		}
		if got := prw["disable_scope_info"]; got != true {
			t.Errorf("%s: prometheus_remote_write disable_scope_info %v, want true (no otel_scope_* labels a scrape would not have)", file, got)
		}
	}
}

// The compose Collector sends to the compose services, on ports they listen on.
func TestComposeCollectorReachesTheStores(t *testing.T) {
	var c collectorConfig
	readYAML(t, &c, "deploy", "otelcol", "config.yaml")
	p := loadComposeProfiles(t, "otlp")
	for _, tc := range []struct{ signal, kind, host, port, path string }{
		{"traces", "otlp_grpc", "tempo", "4317", ""},
		{"metrics", "prometheus_remote_write", "prometheus", "9090", "/api/v1/write"},
		{"logs", "otlp_http", "loki", "3100", "/otlp"},
	} {
		kind, raw := exporterURL(t, c, tc.signal)
		if kind != tc.kind {
			t.Errorf("%s go to a %s exporter, want %s", tc.signal, kind, tc.kind)
		}
		if kind == "otlp_grpc" {
			raw = "grpc://" + raw
		}
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() != tc.host || u.Port() != tc.port || u.Path != tc.path {
			t.Errorf("%s go to %q, want %s:%s%s", tc.signal, raw, tc.host, tc.port, tc.path)
		}
		if _, err := p.GetService(tc.host); err != nil {
			t.Errorf("%s go to %s, which is not a compose service", tc.signal, tc.host)
		}
	}
	if !slices.Contains(service(t, p, "prometheus").Command, "--web.enable-remote-write-receiver") {
		t.Error("compose Prometheus does not take remote write: the Collector's metrics would be refused")
	}
}

// The local Collector's defaults are the addresses scripts/up.sh gives the backends, and
// up.sh starts them in the modes the Collector needs.
func TestLocalCollectorReachesTheBackends(t *testing.T) {
	var c collectorConfig
	readYAML(t, &c, "deploy", "local", "otelcol.yaml")
	up := string(readFile(t, "scripts", "up.sh"))
	addr := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `=(\S+)$`).FindStringSubmatch(up)
		if m == nil {
			t.Fatalf("scripts/up.sh sets no %s", name)
		}
		return m[1]
	}
	for _, tc := range []struct{ signal, kind, want string }{
		{"traces", "otlp_http", "http://" + addr("JAEGER_OTLP_HTTP_ADDR")},
		{"metrics", "prometheus_remote_write", "http://" + addr("PROMETHEUS_ADDR") + "/api/v1/write"},
		{"logs", "otlp_http", "http://" + addr("VICTORIALOGS_ADDR") + "/insert/opentelemetry"},
	} {
		kind, got := exporterURL(t, c, tc.signal)
		if kind != tc.kind || got != tc.want {
			t.Errorf("%s go to %s %s, want %s %s", tc.signal, kind, got, tc.kind, tc.want)
		}
	}
	var jaeger struct {
		Receivers struct {
			OTLP struct {
				Protocols struct {
					HTTP struct {
						Endpoint string `yaml:"endpoint"`
					} `yaml:"http"`
				} `yaml:"protocols"`
			} `yaml:"otlp"`
		} `yaml:"receivers"`
	}
	readYAML(t, &jaeger, "deploy", "local", "jaeger.yaml")
	if got, want := envDefault.ReplaceAllString(jaeger.Receivers.OTLP.Protocols.HTTP.Endpoint, "$1"), addr("JAEGER_OTLP_HTTP_ADDR"); got != want {
		t.Errorf("jaeger.yaml takes OTLP HTTP on %s, up.sh says %s", got, want)
	}
	if !strings.Contains(up, "--web.enable-remote-write-receiver") {
		t.Error("scripts/up.sh starts Prometheus without --web.enable-remote-write-receiver")
	}
}
