// Package slo turns the service level objectives of the user journeys (journeys.yaml, sloth's
// prometheus/v1 format) into Prometheus recording and alerting rules with sloth, the generator of
// multi-window, multi-burn-rate SLO alerts after the Google SRE workbook. It writes two
// variants: the real one, and a time-scaled one for tests, whose windows and period are all
// divided by one factor so that an alert fires and resolves within minutes.
//
// Sloth runs as a tool pinned in the sloth/ module (its own go.mod, see there why), through
// `go run`; `go run ./cmd/slo` writes the files and a test fails while the committed ones differ.
package slo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// TestTimescale is the factor of the committed time-scaled rules: 30 days become one day, the
// fast-burn windows 5m and 1h become 10s and 2m.
const TestTimescale = 30

// Files, relative to the deploy folder.
const (
	SpecFile      = "slo/journeys.yaml"
	WindowsFile   = "slo/windows/google-30d.yaml"
	toolDir       = "slo/sloth"
	RulesFile     = "prometheus/rules/slo.yml"
	TimescaleFile = "prometheus/timescaled/slo.yml"
)

// slothPackage is the command the tool module pins.
const slothPackage = "github.com/slok/sloth/cmd/sloth"

// Generate returns the rule file for the SLOs under deployDir (the deploy folder), with every
// window divided by timescale; 1 gives the real rules.
func Generate(ctx context.Context, deployDir string, timescale int) ([]byte, error) {
	windows, err := readWindows(filepath.Join(deployDir, WindowsFile))
	if err != nil {
		return nil, err
	}
	windows, err = windows.scaled(timescale)
	if err != nil {
		return nil, err
	}
	spec, err := os.ReadFile(filepath.Join(deployDir, SpecFile))
	if err != nil {
		return nil, err
	}
	var extraLabels []string
	if timescale != 1 {
		// A service of its own (so its own sloth_id) and a label on every series: the scaled
		// rules can load beside the real ones without two rules writing the same series.
		if spec, err = renameService(spec, "-timescaled"); err != nil {
			return nil, err
		}
		extraLabels = []string{"timescale=" + strconv.Itoa(timescale)}
	}

	work, err := os.MkdirTemp("", "pillars-slo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	specPath := filepath.Join(work, "journeys.yaml")
	windowsDir := filepath.Join(work, "windows")
	outPath := filepath.Join(work, "rules.yml")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		return nil, err
	}
	if err := os.Mkdir(windowsDir, 0o755); err != nil {
		return nil, err
	}
	if err := windows.write(filepath.Join(windowsDir, "windows.yaml")); err != nil {
		return nil, err
	}

	if err := runSloth(ctx, filepath.Join(deployDir, toolDir), specPath, windowsDir, windows.Spec.SLOPeriod.String(), extraLabels, outPath); err != nil {
		return nil, err
	}
	rules, err := os.ReadFile(outPath)
	if err != nil {
		return nil, err
	}
	return withHeader(rules, header(timescale, windows)), nil
}

// runSloth runs `sloth generate` from the tool module, stamped with the version go.mod pins
// (a `go run` build would call itself "dev" in every rule file).
func runSloth(ctx context.Context, moduleDir, spec, windowsDir, period string, extraLabels []string, out string) error {
	version, err := pinnedVersion(filepath.Join(moduleDir, "go.mod"))
	if err != nil {
		return err
	}
	args := []string{"run",
		"-ldflags=-X=github.com/slok/sloth/internal/info.Version=" + version,
		slothPackage, "generate",
		"--input=" + spec,
		"--out=" + out,
		"--slo-period-windows-path=" + windowsDir,
		"--default-slo-period=" + period,
	}
	for _, l := range extraLabels {
		args = append(args, "--extra-labels="+l)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	// The tool module stands alone, whatever workspace the caller is in; -mod=readonly keeps
	// go.mod and go.sum exactly as committed.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("sloth generate: %w\n%s", err, stderr.Bytes())
	}
	return nil
}

func pinnedVersion(goMod string) (string, error) {
	b, err := os.ReadFile(goMod)
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/slok/sloth (v\S+)`).FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s does not require github.com/slok/sloth", goMod)
	}
	return string(m[1]), nil
}

// renameService appends suffix to the spec's top-level service, keeping everything else as
// written.
func renameService(spec []byte, suffix string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(spec, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a YAML mapping", SpecFile)
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "service" {
			root.Content[i+1].Value += suffix
			return yaml.Marshal(&doc)
		}
	}
	return nil, fmt.Errorf("%s: no service", SpecFile)
}

func header(timescale int, w alertWindows) string {
	regenerate := "Generated by `make slo` (cd deploy && go run ./cmd/slo) from deploy/" + SpecFile +
		" and deploy/" + WindowsFile + " with sloth (github.com/slok/sloth); edit those, not this file:" +
		" a test fails while this file differs from what the generator writes."
	var lines []string
	if timescale == 1 {
		lines = []string{
			"Service level objectives of the home, user page and product page journeys: SLI recording",
			"rules, error budget metadata and multi-window, multi-burn-rate alerts",
			"(PillarsAvailabilityBudgetBurn, PillarsLatencyBudgetBurn; severity critical pages, warning",
			"is a ticket). Windows: " + w.summary() + ".",
			regenerate,
		}
	} else {
		lines = []string{
			fmt.Sprintf("Time-scaled copy of deploy/%s for tests: the SLO period and every window divided by %d", RulesFile, timescale),
			"(" + w.summary() + "); objectives and burn rates unchanged,",
			"so an alert fires and resolves as the real one would, in 1/" + strconv.Itoa(timescale) + " of the time.",
			fmt.Sprintf("Its service is pillars-timescaled and every series carries timescale=\"%d\": load it next to", timescale),
			"the real rules and select its alerts by that label. The shortest window needs a scrape and",
			"evaluation interval of a few seconds at most (the end-to-end Prometheus uses 1 s).",
			regenerate,
		}
	}
	return "# " + strings.Join(wrap(lines), "\n# ") + "\n"
}

// wrap rejoins the header's sentences into lines of at most 100 characters.
func wrap(lines []string) []string {
	words := strings.Fields(strings.Join(lines, " "))
	var out []string
	cur := ""
	for _, w := range words {
		if cur != "" && len(cur)+1+len(w) > 98 {
			out = append(out, cur)
			cur = w
			continue
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	return append(out, cur)
}

// withHeader puts the header in place of sloth's leading document marker; sloth's own
// "Code generated ... DO NOT EDIT" lines stay.
func withHeader(rules []byte, header string) []byte {
	body := bytes.TrimLeft(rules, "\n")
	body = bytes.TrimPrefix(body, []byte("---\n"))
	return append([]byte(header), body...)
}
