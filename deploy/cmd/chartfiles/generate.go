package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"
)

// file is one generated file, its path relative to deploy/.
type file struct {
	path    string
	content []byte
}

// generatedPatterns are the files this command owns; any not generated is stale.
var generatedPatterns = []string{
	"helm/pillars/dashboards/*.json",
	"helm/pillars/rules/*.yml",
	"helm/observability/grafana.yaml",
}

// inClusterURLs are the data sources' URLs inside the cluster, by uid, for the official charts
// installed as the README says (one namespace, the values in helm/observability): the
// Prometheus Operator's prometheus-operated Service, and the Loki and Tempo Services their
// values name (the grafana/tempo chart serves Tempo's HTTP API on 3100, not Compose's 3200).
var inClusterURLs = map[string]string{
	"prometheus": "http://prometheus-operated:9090",
	"loki":       "http://loki:3100",
	"tempo":      "http://tempo:3100",
}

// generate produces every file from the sources in deploy (fsys is rooted there).
func generate(fsys fs.FS) ([]file, error) {
	var files []file
	copies := []struct{ from, to string }{
		{"grafana/dashboards/*.json", "helm/pillars/dashboards"},
		{"prometheus/rules/*.yml", "helm/pillars/rules"},
	}
	for _, c := range copies {
		matches, err := fs.Glob(fsys, c.from)
		if err != nil {
			return nil, err
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("no source files match %s", c.from)
		}
		for _, m := range matches {
			b, err := fs.ReadFile(fsys, m)
			if err != nil {
				return nil, err
			}
			files = append(files, file{path: path.Join(c.to, path.Base(m)), content: b})
		}
	}
	grafana, err := grafanaValues(fsys)
	if err != nil {
		return nil, err
	}
	return append(files, file{path: "helm/observability/grafana.yaml", content: grafana}), nil
}

// sidecarSettings are the pillars chart's grafanaDashboards values: the ConfigMaps it renders
// carry this label and folder annotation, so Grafana's sidecar must look for the same.
type sidecarSettings struct {
	Label            string `yaml:"label"`
	LabelValue       string `yaml:"labelValue"`
	FolderAnnotation string `yaml:"folderAnnotation"`
	Folder           string `yaml:"folder"`
}

func chartSidecarSettings(fsys fs.FS) (sidecarSettings, error) {
	var values struct {
		GrafanaDashboards sidecarSettings `yaml:"grafanaDashboards"`
	}
	b, err := fs.ReadFile(fsys, "helm/pillars/values.yaml")
	if err != nil {
		return sidecarSettings{}, err
	}
	if err := yaml.Unmarshal(b, &values); err != nil {
		return sidecarSettings{}, fmt.Errorf("helm/pillars/values.yaml: %w", err)
	}
	s := values.GrafanaDashboards
	if s.Label == "" || s.FolderAnnotation == "" || s.Folder == "" {
		return sidecarSettings{}, fmt.Errorf("helm/pillars/values.yaml: grafanaDashboards needs label, folderAnnotation and folder")
	}
	return s, nil
}

// grafanaValues writes the grafana/grafana chart's values: the fixed settings below, then the
// Compose stack's data sources file, comments kept, with each url replaced by its in-cluster one.
func grafanaValues(fsys fs.FS) ([]byte, error) {
	const source = "grafana/provisioning/datasources/datasources.yaml"
	raw, err := fs.ReadFile(fsys, source)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if err := rewriteURLs(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	var ds bytes.Buffer
	enc := yaml.NewEncoder(&ds)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	sidecar, err := chartSidecarSettings(fsys)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, grafanaHeader, sidecar.Folder, sidecar.Label, sidecar.LabelValue, sidecar.FolderAnnotation)
	out.WriteString("datasources:\n  datasources.yaml:\n")
	for _, line := range strings.SplitAfter(strings.TrimRight(ds.String(), "\n")+"\n", "\n") {
		if strings.TrimSpace(line) == "" {
			out.WriteString(line)
			continue
		}
		out.WriteString("    " + line)
	}
	return out.Bytes(), nil
}

// rewriteURLs sets every data source's url to inClusterURLs[uid]; a data source without a known
// uid is an error, so a new one cannot be forgotten here.
func rewriteURLs(doc *yaml.Node) error {
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("not a mapping")
	}
	list := mapValue(doc.Content[0], "datasources")
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return fmt.Errorf("no datasources list")
	}
	for _, ds := range list.Content {
		uid, url := mapValue(ds, "uid"), mapValue(ds, "url")
		if uid == nil || url == nil {
			return fmt.Errorf("a data source without uid or url")
		}
		in, ok := inClusterURLs[uid.Value]
		if !ok {
			return fmt.Errorf("data source uid %q has no in-cluster URL in cmd/chartfiles", uid.Value)
		}
		url.Value = in
	}
	return nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// grafanaHeader is the fixed part of the grafana/grafana values: the same settings as Grafana in
// compose.yaml (anonymous read-only, no calls home, no plugin downloads, the overview as home),
// and the dashboard sidecar looking for the pillars chart's ConfigMaps.
const grafanaHeader = `# Values for the grafana/grafana chart. GENERATED by deploy/cmd/chartfiles from
# deploy/grafana/provisioning/datasources/datasources.yaml and deploy/helm/pillars/values.yaml:
# do not edit; run ` + "`make chart-files`" + ` and commit the result.
#
#   helm install grafana grafana/grafana -n observability -f deploy/helm/observability/grafana.yaml
#
# The admin password is generated by the chart (never a default):
#   kubectl -n observability get secret grafana -o jsonpath='{.data.admin-password}' | base64 -d
fullnameOverride: grafana

grafana.ini:
  # Anyone who can reach Grafana may look; nobody may change anything without logging in.
  auth.anonymous:
    enabled: true
    org_role: Viewer
  users:
    allow_sign_up: false
  # No calls home: the footprint stays predictable.
  analytics:
    reporting_enabled: false
    check_for_updates: false
    check_for_plugin_updates: false
  news:
    news_feed_enabled: false
  # The overview is the first page a visitor sees (the sidecar writes it into the folder below).
  dashboards:
    default_home_dashboard_path: /tmp/dashboards/%[1]s/overview.json

env:
  GF_PLUGINS_PREINSTALL_DISABLED: "true"
  GOMEMLIMIT: 200MiB

resources:
  requests:
    cpu: 50m
    memory: 128Mi
  limits:
    memory: 256Mi

# The pillars chart (grafanaDashboards.enabled=true) ships every dashboard as a ConfigMap with
# this label; the sidecar loads them from any namespace into the folder the annotation names.
sidecar:
  dashboards:
    enabled: true
    label: %[2]s
    labelValue: %[3]q
    searchNamespace: ALL
    folderAnnotation: %[4]s
    provider:
      foldersFromFilesStructure: true
      allowUiUpdates: false
      disableDelete: true

# The Compose stack's data sources (fixed uids: the dashboards and the links between signals
# refer to them), pointed at the official charts' Services in this namespace.
`
