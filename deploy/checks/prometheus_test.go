package checks

import (
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
)

func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	// Relative paths inside the files resolve as they will in the container.
	cmd.Dir = path(t, "deploy", "prometheus")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
}

func ruleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(path(t, "deploy", "prometheus", "rules", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files in deploy/prometheus/rules: %v", err)
	}
	return files
}

// `promtool check config` also loads and checks every rule file the config names.
func TestPromtoolCheckConfig(t *testing.T) {
	runPromtool(t, "check", "config", "prometheus.yml")
}

func TestPromtoolCheckRules(t *testing.T) {
	runPromtool(t, append([]string{"check", "rules"}, ruleFiles(t)...)...)
}

// Every alert has a unit test; the tests also pin the recording rules' results.
func TestPromtoolTestRules(t *testing.T) {
	runPromtool(t, "test", "rules", filepath.Join("tests", "rules_test.yml"))
}

func TestEveryAlertHasAUnitTest(t *testing.T) {
	tests := string(readFile(t, "deploy", "prometheus", "tests", "rules_test.yml"))
	for _, f := range ruleFiles(t) {
		for _, g := range parseRules(t, f).Groups {
			for _, r := range g.Rules {
				if r.Alert != "" && !strings.Contains(tests, "alertname: "+r.Alert+"\n") {
					t.Errorf("alert %s has no alert_rule_test in tests/rules_test.yml", r.Alert)
				}
			}
		}
	}
}

func loadPrometheusConfig(t *testing.T, parts ...string) *config.Config {
	t.Helper()
	cfg, err := config.LoadFile(path(t, parts...), false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("%s: %v", filepath.Join(parts...), err)
	}
	return cfg
}

// The local stack (make up, the end-to-end tests) runs deploy/local/prometheus.yml. It must be
// the compose stack's config with only the target addresses and file locations changed, so
// what the tests prove holds for `docker compose up` too.
func TestLocalPrometheusConfigMirrorsCompose(t *testing.T) {
	compose := loadPrometheusConfig(t, "deploy", "prometheus", "prometheus.yml")
	local := loadPrometheusConfig(t, "deploy", "local", "prometheus.yml")
	// LoadFile resolved rule_files against each file's folder: both must reach the same rules.
	if !slices.Equal(compose.RuleFiles, local.RuleFiles) {
		t.Errorf("rule_files differ:\n compose: %v\n local:   %v", compose.RuleFiles, local.RuleFiles)
	}
	a, b := normalised(compose), normalised(local)
	if a != b {
		t.Errorf("deploy/local/prometheus.yml differs from deploy/prometheus/prometheus.yml in more than targets and paths:\n--- compose\n%s\n--- local\n%s", a, b)
	}
}

// normalised prints a config with every static target address replaced by a placeholder
// (the number of targets per job still counts) and the rule files left out.
func normalised(cfg *config.Config) string {
	c := *cfg
	c.RuleFiles = nil
	for _, sc := range c.ScrapeConfigs {
		var configs discovery.Configs
		for _, d := range sc.ServiceDiscoveryConfigs {
			static, ok := d.(discovery.StaticConfig)
			if !ok {
				configs = append(configs, d)
				continue
			}
			var groups discovery.StaticConfig
			for _, g := range static {
				cp := *g
				cp.Targets = nil
				for range g.Targets {
					cp.Targets = append(cp.Targets, model.LabelSet{model.AddressLabel: "<target>"})
				}
				groups = append(groups, &cp)
			}
			configs = append(configs, groups)
		}
		sc.ServiceDiscoveryConfigs = configs
	}
	return c.String()
}

// The compose Prometheus scrapes exactly the pillars services, at the addresses compose gives them.
func TestComposePrometheusScrapesTheServices(t *testing.T) {
	cfg := loadPrometheusConfig(t, "deploy", "prometheus", "prometheus.yml")
	got := map[string][]string{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, d := range sc.ServiceDiscoveryConfigs {
			static, ok := d.(discovery.StaticConfig)
			if !ok {
				t.Errorf("job %s: only static targets are expected", sc.JobName)
				continue
			}
			for _, g := range static {
				for _, target := range g.Targets {
					got[sc.JobName] = append(got[sc.JobName], string(target[model.AddressLabel]))
				}
			}
		}
		if sc.ScrapeInterval != model.Duration(5e9) {
			t.Errorf("job %s scrapes every %s, want 5s", sc.JobName, sc.ScrapeInterval)
		}
	}
	want := map[string][]string{}
	for _, svc := range pillarsServices {
		want[svc.name] = []string{svc.name + ":" + svc.port}
	}
	if len(got) != len(want) {
		t.Errorf("scrape jobs %v, want %v", got, want)
	}
	for job, targets := range want {
		if !slices.Equal(got[job], targets) {
			t.Errorf("job %s targets %v, want %v", job, got[job], targets)
		}
	}

	p := loadCompose(t)
	prom := service(t, p, "prometheus")
	for _, flag := range []string{"--enable-feature=exemplar-storage", "--web.enable-remote-write-receiver"} {
		if !slices.Contains(prom.Command, flag) {
			t.Errorf("prometheus runs without %s", flag)
		}
	}
	if got := flagValue(prom.Command, "config.file"); got != "/etc/prometheus/prometheus.yml" {
		t.Errorf("prometheus --config.file=%s; the rules are mounted next to /etc/prometheus/prometheus.yml", got)
	}
}
