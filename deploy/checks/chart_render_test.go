//go:build chart

package checks

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// The chart checks run only with `-tags chart` (`make chart-check`): they need the pinned helm
// that scripts/helm.sh builds into $PILLARS_TOOLS/bin.

// operatorAPIs are the API versions a cluster with the Prometheus Operator serves; passing them
// to `helm template` renders what the chart renders there.
var operatorAPIs = []string{
	"monitoring.coreos.com/v1/ServiceMonitor",
	"monitoring.coreos.com/v1/PodMonitor",
	"monitoring.coreos.com/v1/PrometheusRule",
}

// combination is one documented set of values: a file, and the cluster it is rendered for.
type combination struct {
	values      string   // relative to the repository root
	apiVersions []string // extra API versions the cluster serves
}

// chartCombinations are every values file the README and ci/ document. A test fails when a file
// in ci/ is missing here, so none is left unchecked.
var chartCombinations = []combination{
	{values: "deploy/helm/pillars/ci/default-values.yaml"},
	{values: "deploy/helm/pillars/ci/own-backends-values.yaml"},
	{values: "deploy/helm/pillars/ci/operator-values.yaml", apiVersions: operatorAPIs},
	{values: "deploy/helm/pillars/ci/podmonitor-values.yaml", apiVersions: operatorAPIs},
	{values: "deploy/helm/pillars/ci/postgres-url-values.yaml"},
	{values: "deploy/helm/pillars/ci/postgres-secret-values.yaml", apiVersions: operatorAPIs},
	{values: "deploy/helm/pillars/ci/postgresql-demo-values.yaml"},
	{values: "deploy/helm/observability/pillars.yaml", apiVersions: operatorAPIs},
}

func (c combination) name() string { return strings.TrimSuffix(filepath.Base(c.values), ".yaml") }

// chartRelease is the release name every render uses; object names follow from it.
const (
	chartRelease   = "demo"
	chartNamespace = "pillars"
)

// helmBinary is the pinned helm; the checks refuse to run with another one.
func helmBinary(t *testing.T) string {
	t.Helper()
	tools := os.Getenv("PILLARS_TOOLS")
	if tools == "" {
		tools = path(t, ".tools")
	}
	bin := filepath.Join(tools, "bin", "helm")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("helm not found at %s: run `make chart-check` (scripts/helm.sh builds it): %v", bin, err)
	}
	return bin
}

// helm runs the pinned helm with args from the repository root and returns its stdout; a
// non-zero exit is returned as an error carrying stderr.
func helm(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	return helmWithCluster(t, "", args...)
}

// helmWithCluster runs helm against the cluster a kubeconfig file names; "" is none.
func helmWithCluster(t *testing.T, kubeconfig string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	cmd.Dir = repoRoot(t)
	// No user configuration or repositories leak in from the machine running the checks.
	home := t.TempDir()
	if kubeconfig == "" {
		kubeconfig = filepath.Join(home, "no-kubeconfig")
	}
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+kubeconfig,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

const chartDir = "deploy/helm/pillars"

// templateArgs are the arguments of `helm template` for a combination, plus extra ones.
func templateArgs(c combination, extra ...string) []string {
	args := []string{"template", chartRelease, chartDir, "--namespace", chartNamespace}
	if c.values != "" {
		args = append(args, "--values", c.values)
	}
	for _, v := range c.apiVersions {
		args = append(args, "--api-versions", v)
	}
	return append(args, extra...)
}

// renderChart renders a combination and decodes every object strictly.
func renderChart(t *testing.T, c combination, extra ...string) []object {
	t.Helper()
	out, err := helm(t, templateArgs(c, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeManifests(out)
	if err != nil {
		t.Fatalf("%s: %v", c.name(), err)
	}
	if len(objs) == 0 {
		t.Fatalf("%s: helm template rendered no objects", c.name())
	}
	return objs
}

// object is one rendered manifest: where it came from, and its typed form.
type object struct {
	source string // the template, from helm's "# Source:" line
	kind   string
	name   string
	obj    runtime.Object
	json   []byte // the document as rendered, in JSON
}

func (o object) String() string { return fmt.Sprintf("%s %s (%s)", o.kind, o.name, o.source) }

// newScheme knows every built-in Kubernetes kind and the Prometheus Operator's.
func newScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := monitoringv1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// decodeManifests splits a multi-document stream and decodes each document into its API type
// strictly: an unknown or misspelled field, a field given twice, or a kind the API does not have
// fails, naming the document.
func decodeManifests(stream []byte) ([]object, error) {
	scheme, err := newScheme()
	if err != nil {
		return nil, err
	}
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	var objs []object
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		source := sourceOf(doc)
		js, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		if string(bytes.TrimSpace(js)) == "null" {
			continue // a document of comments only
		}
		obj, gvk, err := decoder.Decode(js, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		meta, ok := obj.(interface{ GetName() string })
		if !ok {
			return nil, fmt.Errorf("%s: %s has no metadata", source, gvk.Kind)
		}
		objs = append(objs, object{source: source, kind: gvk.Kind, name: meta.GetName(), obj: obj, json: js})
	}
}

func sourceOf(doc []byte) string {
	for _, line := range strings.Split(string(doc), "\n") {
		if s, ok := strings.CutPrefix(line, "# Source: "); ok {
			return s
		}
	}
	return "(no source line)"
}

// find returns the rendered object of a kind and name, failing the test when there is none.
func find[T runtime.Object](t *testing.T, objs []object, name string) T {
	t.Helper()
	for _, o := range objs {
		if v, ok := o.obj.(T); ok && o.name == name {
			return v
		}
	}
	var zero T
	t.Fatalf("no %T named %s among the rendered objects", zero, name)
	return zero
}

// all returns every rendered object of one type.
func all[T runtime.Object](objs []object) []T {
	var out []T
	for _, o := range objs {
		if v, ok := o.obj.(T); ok {
			out = append(out, v)
		}
	}
	return out
}
