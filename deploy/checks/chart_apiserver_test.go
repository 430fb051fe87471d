//go:build chart

package checks

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"
)

// A real kube-apiserver (with etcd, both from scripts/kube-apiserver.sh) accepts every rendered
// object in a server-side dry run: defaulting, the API's own validation and admission, which
// strict decoding cannot do (a selector that does not match its template, a port out of range,
// an invalid name). The Prometheus Operator's kinds are served through CRDs that controller-gen
// writes from the Operator's Go types, so their OpenAPI schemas validate the Monitors and rules.
func TestChartObjectsPassAServerSideDryRun(t *testing.T) {
	cfg := startAPIServer(t)
	ctx := t.Context()
	client := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg)))
	namespace := func(t *testing.T, name string) string {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		return name
	}

	installOperatorCRDs(t, ctx, dyn)
	mapper.Reset()

	// The server must refuse what it should: a Deployment whose selector does not select its
	// own pods, a ServiceMonitor whose interval is not a duration, decode strictly and fail only
	// here.
	t.Run("the server validates", func(t *testing.T) {
		ns := namespace(t, "refusals")
		monitor := []byte(`{"apiVersion":"monitoring.coreos.com/v1","kind":"ServiceMonitor","metadata":{"name":"bad"},
			"spec":{"selector":{},"endpoints":[{"port":"http","interval":"soon"}]}}`)
		objs, err := decodeManifests(monitor)
		if err != nil {
			t.Fatalf("the faulty ServiceMonitor should decode: %v", err)
		}
		err = apply(ctx, dyn, mapper, ns, objs[0], true)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "interval") {
			t.Errorf("dry run of a ServiceMonitor with interval \"soon\": %v, want Invalid", err)
		}

		bad := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"bad"},"spec":{
			"selector":{"matchLabels":{"app":"a"}},"template":{"metadata":{"labels":{"app":"b"}},
			"spec":{"containers":[{"name":"c","image":"x:1"}]}}}}`)
		objs, err = decodeManifests(bad)
		if err != nil {
			t.Fatalf("the faulty Deployment should decode: %v", err)
		}
		err = apply(ctx, dyn, mapper, ns, objs[0], true)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "selector") {
			t.Fatalf("dry run of a Deployment whose selector misses its template: %v, want Invalid", err)
		}
	})

	// A real install and upgrade, which only a server makes possible: the generated admin token
	// and PostgreSQL password survive the upgrade (the chart's lookup reads them back).
	t.Run("generated secrets survive an upgrade", func(t *testing.T) {
		ns := namespace(t, "upgrade")
		kubeconfig := writeKubeconfig(t, cfg)
		secrets := func() (token, password string) {
			admin, err := client.CoreV1().Secrets(ns).Get(ctx, "demo-pillars-admin", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			db, err := client.CoreV1().Secrets(ns).Get(ctx, "demo-pillars-db", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return string(admin.Data["token"]), string(db.Data["password"])
		}
		values := "deploy/helm/pillars/ci/postgresql-demo-values.yaml"
		out, err := helmWithCluster(t, kubeconfig, "install", chartRelease, chartDir, "-n", ns, "-f", values)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "in-release demo instance: not for production") {
			t.Errorf("the install notes do not warn about the demo PostgreSQL:\n%s", out)
		}
		token, password := secrets()
		if len(token) < 32 || len(password) < 32 {
			t.Fatalf("generated token %q or password %q too short", token, password)
		}
		if _, err := helmWithCluster(t, kubeconfig, "upgrade", chartRelease, chartDir, "-n", ns, "-f", values, "--set", "backend.replicas=3"); err != nil {
			t.Fatal(err)
		}
		if t2, p2 := secrets(); t2 != token || p2 != password {
			t.Errorf("the upgrade replaced the generated secrets: token %q -> %q, password %q -> %q", token, t2, password, p2)
		}
	})

	for i, c := range chartCombinations {
		t.Run(c.name(), func(t *testing.T) {
			ns := namespace(t, fmt.Sprintf("combination-%d", i))
			objs := renderChart(t, c)
			// Service accounts are created for real: admission of the test Pod looks its
			// account up, as it would after `helm install` created it.
			for _, o := range objs {
				if o.kind == "ServiceAccount" {
					if err := apply(ctx, dyn, mapper, ns, o, false); err != nil {
						t.Fatalf("%s: %v", o, err)
					}
				}
			}
			for _, o := range objs {
				if err := apply(ctx, dyn, mapper, ns, o, true); err != nil {
					t.Errorf("%s: %v", o, err)
				}
			}
		})
	}
}

// apply sends one object as a server-side apply with strict field validation; with dryRun the
// server runs everything a real apply runs and stores nothing.
func apply(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, namespace string, o object, dryRun bool) error {
	gvk, err := kindOf(o)
	if err != nil {
		return err
	}
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("the server does not serve %s: %w", gvk, err)
	}
	var res dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		res = dyn.Resource(mapping.Resource).Namespace(namespace)
	}
	opts := metav1.PatchOptions{
		FieldManager:    "chart-check",
		Force:           new(true),
		FieldValidation: "Strict",
	}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = res.Patch(ctx, o.name, types.ApplyPatchType, o.json, opts)
	return err
}

// operatorCRDs are the Prometheus Operator's kinds the chart renders.
var operatorCRDs = []string{"servicemonitors", "podmonitors", "prometheusrules"}

// installOperatorCRDs writes the Operator's CRDs from the monitoring/v1 types this module
// requires (the same types the strict decoding uses) with controller-gen, as the Operator's
// own build does, creates them and waits until the server serves them.
func installOperatorCRDs(t *testing.T, ctx context.Context, dyn dynamic.Interface) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(toolPath(t, "controller-gen"), "crd:allowDangerousTypes=true",
		"paths=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1",
		"output:crd:dir="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("controller-gen: %v\n%s", err, out)
	}
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	for _, name := range operatorCRDs {
		raw, err := os.ReadFile(filepath.Join(dir, "monitoring.coreos.com_"+name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var crd unstructured.Unstructured
		if err := yaml.Unmarshal(raw, &crd.Object); err != nil {
			t.Fatal(err)
		}
		if _, err := crds.Create(ctx, &crd, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating the %s CRD: %v", name, err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for _, name := range operatorCRDs {
		for !established(ctx, crds, name+".monitoring.coreos.com") {
			if time.Now().After(deadline) {
				t.Fatalf("CRD %s not established within a minute", name)
			}
			time.Sleep(100 * time.Millisecond) // polling the server, with a deadline
		}
	}
}

func established(ctx context.Context, crds dynamic.NamespaceableResourceInterface, name string) bool {
	crd, err := crds.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false
	}
	conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conditions {
		if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// toolPath is a binary in $PILLARS_TOOLS/bin, failing the test when it is missing.
func toolPath(t *testing.T, name string) string {
	t.Helper()
	tools := os.Getenv("PILLARS_TOOLS")
	if tools == "" {
		tools = path(t, ".tools")
	}
	bin := filepath.Join(tools, "bin", name)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%v: run `make chart-check` (scripts/kube-apiserver.sh installs it)", err)
	}
	return bin
}

// kindOf reads apiVersion and kind from the rendered JSON.
func kindOf(o object) (schema.GroupVersionKind, error) {
	var tm metav1.TypeMeta
	if err := json.Unmarshal(o.json, &tm); err != nil {
		return schema.GroupVersionKind{}, err
	}
	return schema.FromAPIVersionAndKind(tm.APIVersion, tm.Kind), nil
}

// startAPIServer runs etcd and kube-apiserver on loopback ports for the test's duration, with
// one static token that is cluster admin, and returns a client configuration for it.
func startAPIServer(t *testing.T) *rest.Config {
	t.Helper()
	etcd, apiserver := toolPath(t, "etcd"), toolPath(t, "kube-apiserver")
	dir := t.TempDir()
	clientPort, peerPort, apiPort := freePort(t), freePort(t), freePort(t)
	etcdURL := "http://127.0.0.1:" + clientPort
	startProcess(t, dir, etcd,
		"--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", "http://127.0.0.1:"+peerPort,
		"--initial-advertise-peer-urls", "http://127.0.0.1:"+peerPort,
		"--initial-cluster", "default=http://127.0.0.1:"+peerPort,
	)

	const token = "chart-check-token"
	writeFile(t, filepath.Join(dir, "tokens.csv"), token+",chart-check,chart-check,system:masters\n")
	writeServiceAccountKey(t, dir)
	certDir := filepath.Join(dir, "certs")
	startProcess(t, dir, apiserver,
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--secure-port", apiPort,
		// One API server on loopback: no endpoints of its own to reconcile.
		"--advertise-address", "127.0.0.1", "--endpoint-reconciler-type", "none",
		"--cert-dir", certDir,
		"--token-auth-file", filepath.Join(dir, "tokens.csv"),
		"--authorization-mode", "AlwaysAllow",
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", filepath.Join(dir, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range", "10.96.0.0/24",
	)

	cfg := &rest.Config{Host: "https://127.0.0.1:" + apiPort, BearerToken: token, Timeout: 30 * time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		// The server writes its self-signed serving certificate before it listens.
		if ca, err := os.ReadFile(filepath.Join(certDir, "apiserver.crt")); err == nil {
			cfg.TLSClientConfig = rest.TLSClientConfig{CAData: ca}
			if ready(cfg) {
				return cfg
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("kube-apiserver not ready within 2 minutes; its log:\n%s", tail(filepath.Join(dir, "kube-apiserver.log")))
		}
		time.Sleep(250 * time.Millisecond) // polling a starting server, with a deadline
	}
}

// writeKubeconfig writes a kubeconfig file for helm that reaches the test's API server.
func writeKubeconfig(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["check"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.TLSClientConfig.CAData}
	kc.AuthInfos["check"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["check"] = &clientcmdapi.Context{Cluster: "check", AuthInfo: "check"}
	kc.CurrentContext = "check"
	name := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, name); err != nil {
		t.Fatal(err)
	}
	return name
}

func ready(cfg *rest.Config) bool {
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return false
	}
	resp, err := (&http.Client{Transport: rt, Timeout: 2 * time.Second}).Get(cfg.Host + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// startProcess runs a server for the test's duration, its output in <dir>/<name>.log. At the
// end it gets SIGTERM, then SIGKILL if it has not exited within 10 s.
func startProcess(t *testing.T, dir, bin string, args ...string) {
	t.Helper()
	name := filepath.Base(bin)
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
	})
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// writeServiceAccountKey writes the key pair the API server signs and checks service account
// tokens with; it refuses to start without one.
func writeServiceAccountKey(t *testing.T, dir string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "sa.key"), string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})))
	writeFile(t, filepath.Join(dir, "sa.pub"), string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})))
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tail is the end of a log, for a failure message.
func tail(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
