package checks

import (
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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

// ruleFiles returns the rule files Prometheus loads: rules/*.yml, the glob both configs name.
func ruleFiles(t *testing.T) []string {
	t.Helper()
	return globFiles(t, "deploy", "prometheus", "rules", "*.yml")
}

// allRuleFiles adds the time-scaled SLO rules, which only tests load: they are checked, and
// their queries and alerts tested, like the others.
func allRuleFiles(t *testing.T) []string {
	t.Helper()
	return append(ruleFiles(t), globFiles(t, "deploy", "prometheus", "timescaled", "*.yml")...)
}

// ruleTestFiles returns the promtool unit test files, relative to deploy/prometheus.
func ruleTestFiles(t *testing.T) []string {
	t.Helper()
	var rel []string
	for _, f := range globFiles(t, "deploy", "prometheus", "tests", "*.yml") {
		rel = append(rel, filepath.Join("tests", filepath.Base(f)))
	}
	return rel
}

func globFiles(t *testing.T, parts ...string) []string {
	t.Helper()
	files, err := filepath.Glob(path(t, parts...))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s: %v", filepath.Join(parts...), err)
	}
	return files
}

// `promtool check config` also loads and checks every rule file the config names.
func TestPromtoolCheckConfig(t *testing.T) {
	runPromtool(t, "check", "config", "prometheus.yml")
}

func TestPromtoolCheckRules(t *testing.T) {
	runPromtool(t, append([]string{"check", "rules"}, allRuleFiles(t)...)...)
}

// Every alert has unit tests; the tests also pin the recording rules' results.
func TestPromtoolTestRules(t *testing.T) {
	runPromtool(t, append([]string{"test", "rules"}, ruleTestFiles(t)...)...)
}

// promtoolTests is the part of a promtool unit test file these checks read.
type promtoolTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name       string `yaml:"name"`
		AlertTests []struct {
			EvalTime  string `yaml:"eval_time"`
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				Labels map[string]string `yaml:"exp_labels"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// alertCoverage is what the unit tests show of one alert: that it fires (for which journeys,
// for the SLO alerts that serve several), that it stays silent, and that it resolves (silent
// later in a test in which it fired).
type alertCoverage struct {
	firesFor         map[string]bool
	silent, resolves bool
}

// alertCoverageByFile reads every unit test file and returns, per rule file it loads (an absolute
// path), what its tests show of each alert.
func alertCoverageByFile(t *testing.T) map[string]map[string]*alertCoverage {
	t.Helper()
	out := map[string]map[string]*alertCoverage{}
	for _, rel := range ruleTestFiles(t) {
		var f promtoolTests
		readYAML(t, &f, "deploy", "prometheus", rel)
		var files []string
		for _, rf := range f.RuleFiles {
			abs := filepath.Clean(filepath.Join(path(t, "deploy", "prometheus", "tests"), rf))
			files = append(files, abs)
			if out[abs] == nil {
				out[abs] = map[string]*alertCoverage{}
			}
		}
		cover := func(name string) []*alertCoverage {
			var cs []*alertCoverage
			for _, abs := range files {
				if out[abs][name] == nil {
					out[abs][name] = &alertCoverage{firesFor: map[string]bool{}}
				}
				cs = append(cs, out[abs][name])
			}
			return cs
		}
		for _, tc := range f.Tests {
			firstFired := map[string]time.Duration{}
			for _, at := range tc.AlertTests {
				d, err := model.ParseDuration(at.EvalTime)
				if err != nil {
					t.Fatalf("%s: test %q: eval_time %q: %v", rel, tc.Name, at.EvalTime, err)
				}
				if len(at.ExpAlerts) == 0 {
					continue
				}
				for _, c := range cover(at.Alertname) {
					for _, a := range at.ExpAlerts {
						c.firesFor[a.Labels["journey"]] = true
					}
				}
				if prev, ok := firstFired[at.Alertname]; !ok || time.Duration(d) < prev {
					firstFired[at.Alertname] = time.Duration(d)
				}
			}
			for _, at := range tc.AlertTests {
				if len(at.ExpAlerts) > 0 {
					continue
				}
				d, _ := model.ParseDuration(at.EvalTime)
				fired, ok := firstFired[at.Alertname]
				for _, c := range cover(at.Alertname) {
					c.silent = true
					c.resolves = c.resolves || ok && time.Duration(d) > fired
				}
			}
		}
	}
	return out
}

// Every alert is tested by a file that loads its rules: firing, and silent where it should be.
// The SLO alerts, whose point is to page during a burn and stop after it, must also be shown
// resolving, and, in the rules Prometheus loads, firing for each journey.
func TestEveryAlertHasAUnitTest(t *testing.T) {
	coverage := alertCoverageByFile(t)
	loaded := ruleFiles(t)
	for _, f := range allRuleFiles(t) {
		slo := filepath.Base(f) == "slo.yml"
		where := filepath.Join(filepath.Base(filepath.Dir(f)), filepath.Base(f))
		reported := map[string]bool{}
		for _, g := range parseRules(t, f).Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				c := coverage[f][r.Alert]
				if c == nil {
					c = &alertCoverage{}
				}
				journey := r.Labels["journey"]
				if slices.Contains(loaded, f) && !c.firesFor[journey] && !reported[r.Alert+"/"+journey] {
					reported[r.Alert+"/"+journey] = true
					t.Errorf("%s: alert %s has no unit test in which it fires for journey %q", where, r.Alert, journey)
				}
				// The rest is per name: the SLO alerts share one across journeys and severities.
				if reported[r.Alert] {
					continue
				}
				reported[r.Alert] = true
				if len(c.firesFor) == 0 {
					t.Errorf("%s: alert %s has no unit test in which it fires", where, r.Alert)
				}
				if !c.silent {
					t.Errorf("%s: alert %s has no unit test in which it stays silent", where, r.Alert)
				}
				if slo && !c.resolves {
					t.Errorf("%s: alert %s has no unit test in which it resolves after firing", where, r.Alert)
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

// Both configs load the SLO rules, and neither loads their time-scaled test copy: its alerts
// carry the same names and would fire on a burn 30 times too early.
func TestPrometheusLoadsTheSLORules(t *testing.T) {
	for _, parts := range [][]string{{"deploy", "prometheus", "prometheus.yml"}, {"deploy", "local", "prometheus.yml"}} {
		cfg := loadPrometheusConfig(t, parts...)
		var loaded []string
		for _, pattern := range cfg.RuleFiles {
			matches, err := filepath.Glob(pattern)
			if err != nil {
				t.Fatal(err)
			}
			loaded = append(loaded, matches...)
		}
		if !slices.Contains(loaded, path(t, "deploy", "prometheus", "rules", "slo.yml")) {
			t.Errorf("%s does not load rules/slo.yml (it loads %v)", filepath.Join(parts...), loaded)
		}
		for _, f := range loaded {
			if strings.Contains(f, string(filepath.Separator)+"timescaled"+string(filepath.Separator)) {
				t.Errorf("%s loads the time-scaled test rules %s", filepath.Join(parts...), f)
			}
		}
	}
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
