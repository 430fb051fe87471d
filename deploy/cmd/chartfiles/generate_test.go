package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"

	"go.yaml.in/yaml/v3"
)

// deployDir is the deploy/ folder, two levels up from this package.
const deployDir = "../.."

// The committed chart files are exactly what the sources generate: change a dashboard, a rule
// or a data source, run `make chart-files` (cd deploy && go run ./cmd/chartfiles), commit both.
func TestCommittedChartFilesAreGenerated(t *testing.T) {
	files, err := generate(os.DirFS(deployDir))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, f := range files {
		want[f.path] = true
		committed, err := os.ReadFile(filepath.Join(deployDir, filepath.FromSlash(f.path)))
		if err != nil {
			t.Errorf("%s: %v; run `make chart-files`", f.path, err)
			continue
		}
		if !bytes.Equal(committed, f.content) {
			t.Errorf("deploy/%s differs from what its source generates; run `make chart-files` and commit the result", f.path)
		}
	}
	for _, pattern := range generatedPatterns {
		matches, _ := filepath.Glob(filepath.Join(deployDir, filepath.FromSlash(pattern)))
		for _, m := range matches {
			rel, _ := filepath.Rel(deployDir, m)
			if !want[filepath.ToSlash(rel)] {
				t.Errorf("deploy/%s has no source any more; run `make chart-files` to remove it", filepath.ToSlash(rel))
			}
		}
	}
}

// The Grafana values hold the Compose data sources unchanged but for their URLs.
func TestGrafanaValuesKeepTheComposeDataSources(t *testing.T) {
	out, err := grafanaValues(os.DirFS(deployDir))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Datasources struct {
			File provisioning `yaml:"datasources.yaml"`
		} `yaml:"datasources"`
		Sidecar struct {
			Dashboards struct {
				Label            string `yaml:"label"`
				LabelValue       string `yaml:"labelValue"`
				FolderAnnotation string `yaml:"folderAnnotation"`
			} `yaml:"dashboards"`
		} `yaml:"sidecar"`
	}
	if err := yaml.Unmarshal(out, &values); err != nil {
		t.Fatalf("generated values do not parse: %v", err)
	}
	var compose provisioning
	raw, err := os.ReadFile(filepath.Join(deployDir, "grafana", "provisioning", "datasources", "datasources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	got := values.Datasources.File
	if len(got.Datasources) != len(compose.Datasources) || len(got.Datasources) == 0 {
		t.Fatalf("%d data sources, want the Compose stack's %d", len(got.Datasources), len(compose.Datasources))
	}
	for i, ds := range got.Datasources {
		want := compose.Datasources[i]
		if ds["url"] != inClusterURLs[want["uid"].(string)] {
			t.Errorf("%s: url %v, want %s", want["uid"], ds["url"], inClusterURLs[want["uid"].(string)])
		}
		delete(ds, "url")
		delete(want, "url")
		if !reflect.DeepEqual(ds, want) {
			t.Errorf("data source %s differs from the Compose one beyond its url:\n%v\n%v", want["uid"], ds, want)
		}
	}
	if d := values.Sidecar.Dashboards; d.Label != "grafana_dashboard" || d.LabelValue != "1" || d.FolderAnnotation != "grafana_folder" {
		t.Errorf("sidecar looks for %+v, not the chart's grafana_dashboard=1", values.Sidecar.Dashboards)
	}
}

type provisioning struct {
	APIVersion  int              `yaml:"apiVersion"`
	Datasources []map[string]any `yaml:"datasources"`
}

func TestAnUnknownDataSourceFailsTheGenerator(t *testing.T) {
	fsys := fstest.MapFS{
		"grafana/provisioning/datasources/datasources.yaml": {Data: []byte("apiVersion: 1\ndatasources:\n  - name: X\n    uid: elasticsearch\n    url: http://es:9200\n")},
		"helm/pillars/values.yaml":                          {Data: []byte("grafanaDashboards: {label: l, labelValue: '1', folderAnnotation: a, folder: F}\n")},
	}
	if _, err := grafanaValues(fsys); err == nil {
		t.Fatal("a data source without an in-cluster URL was accepted")
	}
}
