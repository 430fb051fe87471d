//go:build chart

package checks

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// Object names for release "demo": <release>-pillars-<component>.
const (
	frontendName = "demo-pillars-frontend"
	backendName  = "demo-pillars-backend"
	databaseName = "demo-pillars-database"
)

func TestChartCombinationsAreAllListed(t *testing.T) {
	files, err := filepath.Glob(path(t, chartDir, "ci", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, c := range chartCombinations {
		listed[c.values] = true
		if _, err := os.Stat(path(t, c.values)); err != nil {
			t.Errorf("listed values file: %v", err)
		}
	}
	for _, f := range files {
		rel, _ := filepath.Rel(repoRoot(t), f)
		if !listed[filepath.ToSlash(rel)] {
			t.Errorf("%s is not in chartCombinations: add it, so the checks render it", rel)
		}
	}
}

// helm lint --strict: every template renders and every warning is an error.
func TestChartLintsStrictly(t *testing.T) {
	for _, c := range chartCombinations {
		t.Run(c.name(), func(t *testing.T) {
			out, err := helm(t, "lint", "--strict", chartDir, "--values", c.values, "--namespace", chartNamespace)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !bytes.Contains(out, []byte("0 chart(s) failed")) {
				t.Fatalf("helm lint did not report success:\n%s", out)
			}
		})
	}
}

// Every combination renders to objects that decode strictly into the Kubernetes API types and
// meet the policy (pinned images, resources, probes, locked-down security context, no host
// paths, a grace period that covers the shutdown, references that resolve).
func TestChartRendersObjectsThatMeetThePolicy(t *testing.T) {
	for _, c := range chartCombinations {
		t.Run(c.name(), func(t *testing.T) {
			objs := renderChart(t, c)
			for _, problem := range policy(objs) {
				t.Error(problem)
			}
			if len(workloads(objs)) < 3 {
				t.Errorf("rendered %d workloads, want at least frontend, backend and database", len(workloads(objs)))
			}
		})
	}
}

// With the defaults the database is SQLite: one StatefulSet pod with its own volume; the
// frontend and backend are two replicas each, wired to each other's Services.
func TestChartDefaultsRunSQLiteInOneStatefulPod(t *testing.T) {
	objs := renderChart(t, combination{values: "deploy/helm/pillars/ci/default-values.yaml"})
	db := find[*appsv1.StatefulSet](t, objs, databaseName)
	if db.Spec.Replicas == nil || *db.Spec.Replicas != 1 {
		t.Errorf("database replicas %v, want exactly 1 with SQLite", db.Spec.Replicas)
	}
	if len(db.Spec.VolumeClaimTemplates) != 1 || db.Spec.VolumeClaimTemplates[0].Name != "data" {
		t.Fatalf("database has no data volume claim: %+v", db.Spec.VolumeClaimTemplates)
	}
	dbc := container(t, db.Spec.Template.Spec, "database")
	if got := envValue(dbc, "PILLARS_DB_PATH"); got != "/data/pillars.db" {
		t.Errorf("PILLARS_DB_PATH=%q, want the volume's /data/pillars.db", got)
	}
	if !mounts(dbc, "data", "/data") {
		t.Errorf("the data volume is not mounted at /data")
	}
	if hasEnv(dbc, "PILLARS_DB_URL") {
		t.Errorf("PILLARS_DB_URL is set without PostgreSQL")
	}
	if len(all[*appsv1.Deployment](objs)) != 2 {
		t.Errorf("want Deployments for the frontend and backend only")
	}

	fe := find[*appsv1.Deployment](t, objs, frontendName)
	be := find[*appsv1.Deployment](t, objs, backendName)
	for _, d := range []*appsv1.Deployment{fe, be} {
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
			t.Errorf("%s replicas %v, want 2", d.Name, d.Spec.Replicas)
		}
	}
	wants := []struct {
		c         corev1.Container
		env, want string
	}{
		{container(t, fe.Spec.Template.Spec, "frontend"), "PILLARS_BACKEND_URL", "http://" + backendName + ":8002"},
		{container(t, fe.Spec.Template.Spec, "frontend"), "PILLARS_FRONTEND_ADDR", "0.0.0.0:8001"},
		{container(t, fe.Spec.Template.Spec, "frontend"), "PILLARS_TRAFFIC_RATE", "2"},
		{container(t, be.Spec.Template.Spec, "backend"), "PILLARS_DATABASE_URL", "http://" + databaseName + ":8003"},
		{container(t, be.Spec.Template.Spec, "backend"), "PILLARS_BACKEND_ADDR", "0.0.0.0:8002"},
		{dbc, "PILLARS_DATABASE_ADDR", "0.0.0.0:8003"},
		// No OTLP endpoint given: no spans go anywhere, rather than to a localhost that is not there.
		{dbc, "OTEL_SDK_DISABLED", "true"},
		{dbc, "PILLARS_DRAIN_DELAY", "5s"},
		{dbc, "PILLARS_SHUTDOWN_TIMEOUT", "10s"},
	}
	for _, w := range wants {
		if got := envValue(w.c, w.env); got != w.want {
			t.Errorf("%s: %s=%q, want %q", w.c.Name, w.env, got, w.want)
		}
	}
	for name, port := range map[string]int32{frontendName: 8001, backendName: 8002, databaseName: 8003} {
		svc := find[*corev1.Service](t, objs, name)
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != port {
			t.Errorf("Service %s ports %+v, want %d", name, svc.Spec.Ports, port)
		}
	}
	if grace := db.Spec.Template.Spec.TerminationGracePeriodSeconds; grace == nil || *grace != 30 {
		t.Errorf("terminationGracePeriodSeconds %v, want 5 s drain + 10 s shutdown + 10 s flush + 5 s = 30", grace)
	}

	// The admin token: generated into the release's Secret, read by every service from it.
	secret := find[*corev1.Secret](t, objs, "demo-pillars-admin")
	if len(secret.Data["token"]) < 32 {
		t.Errorf("generated admin token is %d bytes, want 32", len(secret.Data["token"]))
	}
	for _, w := range workloads(objs) {
		for _, c := range w.spec.Containers {
			if ref := secretRef(c, "PILLARS_ADMIN_TOKEN"); ref == nil || ref.Name != "demo-pillars-admin" || ref.Key != "token" {
				t.Errorf("%s: PILLARS_ADMIN_TOKEN does not come from demo-pillars-admin/token: %+v", w.owner, ref)
			}
		}
	}

	// Without the Prometheus Operator: annotations, and no Operator objects.
	for _, w := range workloads(objs) {
		if w.owner.kind == "Pod" {
			continue
		}
		if w := podAnnotations(w.owner); w["prometheus.io/scrape"] != "true" || w["prometheus.io/path"] != "/metrics" {
			t.Errorf("pods are not annotated for scraping: %v", w)
		}
	}
	if n := len(all[*monitoringv1.ServiceMonitor](objs)) + len(all[*monitoringv1.PrometheusRule](objs)); n != 0 {
		t.Errorf("%d Prometheus Operator objects rendered for a cluster without its CRDs", n)
	}
}

func TestChartGeneratesADifferentAdminTokenPerInstall(t *testing.T) {
	c := combination{values: "deploy/helm/pillars/ci/default-values.yaml"}
	a := find[*corev1.Secret](t, renderChart(t, c), "demo-pillars-admin").Data["token"]
	b := find[*corev1.Secret](t, renderChart(t, c), "demo-pillars-admin").Data["token"]
	if bytes.Equal(a, b) {
		t.Errorf("two installs got the same generated admin token %q", a)
	}
}

// With the Prometheus Operator, Prometheus finds the services through one ServiceMonitor whose
// jobs are exactly the Compose stack's, so the same rules and dashboards work; the rules and the
// dashboards are the Compose stack's own files.
func TestChartWithTheOperatorScrapesAsTheComposeStackDoes(t *testing.T) {
	objs := renderChart(t, combination{values: "deploy/helm/pillars/ci/operator-values.yaml", apiVersions: operatorAPIs})
	sm := find[*monitoringv1.ServiceMonitor](t, objs, "demo-pillars")
	if sm.Spec.JobLabel != "app.kubernetes.io/component" {
		t.Errorf("jobLabel %q: the job label would not be the service name", sm.Spec.JobLabel)
	}
	// The services' metrics label routes `endpoint`; the Operator's target label of that name
	// would displace it (to exported_endpoint) unless dropped.
	if len(sm.Spec.Endpoints) != 1 || !dropsLabel(sm.Spec.Endpoints[0].RelabelConfigs, "endpoint") {
		t.Errorf("the ServiceMonitor keeps the Operator's endpoint target label, which renames the services' endpoint label")
	}
	if sm.Labels["release"] != "kps" {
		t.Errorf("metrics.labels not applied: %v", sm.Labels)
	}
	var jobs []string
	for _, svc := range all[*corev1.Service](objs) {
		if countSelected([]object{{obj: svc}}, sm.Spec.Selector) == 1 {
			jobs = append(jobs, svc.Labels[sm.Spec.JobLabel])
			if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name {
				t.Errorf("ServiceMonitor endpoints %+v do not name the port of %s", sm.Spec.Endpoints, svc.Name)
			}
		}
	}
	slices.Sort(jobs)
	if want := composeJobs(t); !slices.Equal(jobs, want) {
		t.Errorf("scraped jobs %v, want the Compose stack's %v (rules and dashboards select on them)", jobs, want)
	}
	for _, w := range workloads(objs) {
		if _, ok := podAnnotations(w.owner)["prometheus.io/scrape"]; ok {
			t.Errorf("%s: scrape annotations as well as a ServiceMonitor would scrape twice", w.owner)
		}
	}

	rules := all[*monitoringv1.PrometheusRule](objs)
	files, _ := filepath.Glob(path(t, "deploy", "prometheus", "rules", "*.yml"))
	if len(rules) != len(files) || len(files) == 0 {
		t.Fatalf("%d PrometheusRules for %d rule files", len(rules), len(files))
	}
	for _, f := range files {
		name := "demo-pillars-" + strings.TrimSuffix(filepath.Base(f), ".yml")
		rule := find[*monitoringv1.PrometheusRule](t, objs, name)
		var want monitoringv1.PrometheusRuleSpec
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.UnmarshalStrict(raw, &want); err != nil {
			t.Fatalf("%s does not read as a PrometheusRule spec: %v", f, err)
		}
		if !jsonEqual(t, rule.Spec, want) {
			t.Errorf("PrometheusRule %s differs from %s", name, filepath.Base(f))
		}
	}

	dashboards, _ := filepath.Glob(path(t, "deploy", "grafana", "dashboards", "*.json"))
	maps := all[*corev1.ConfigMap](objs)
	if len(maps) != len(dashboards) || len(dashboards) == 0 {
		t.Fatalf("%d dashboard ConfigMaps for %d dashboards", len(maps), len(dashboards))
	}
	for _, f := range dashboards {
		base := filepath.Base(f)
		cm := find[*corev1.ConfigMap](t, objs, "demo-pillars-dashboard-"+strings.TrimSuffix(base, ".json"))
		if cm.Labels["grafana_dashboard"] != "1" || cm.Annotations["grafana_folder"] != "Pillars" {
			t.Errorf("%s: not labelled for Grafana's sidecar: %v %v", cm.Name, cm.Labels, cm.Annotations)
		}
		want, _ := os.ReadFile(f)
		if cm.Data[base] != strings.TrimRight(string(want), "\n") {
			t.Errorf("%s: data %s differs from deploy/grafana/dashboards/%s", cm.Name, base, base)
		}
	}

	fe := find[*appsv1.Deployment](t, objs, frontendName)
	if img := container(t, fe.Spec.Template.Spec, "frontend").Image; !strings.HasSuffix(img, "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef") {
		t.Errorf("image %s is not pinned to the digest given", img)
	}
	dbc := container(t, find[*appsv1.StatefulSet](t, objs, databaseName).Spec.Template.Spec, "database")
	for env, want := range map[string]string{
		"PILLARS_QUERY_LATENCY":       "250ms",
		"PILLARS_QUERY_JITTER":        "50ms",
		"PILLARS_QUERY_ERROR_RATE":    "0.05",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://tempo.observability:4317",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"PILLARS_LOKI_URL":            "http://loki.observability:3100/loki/api/v1/push",
	} {
		if got := envValue(dbc, env); got != want {
			t.Errorf("database %s=%q, want %q", env, got, want)
		}
	}
	if hasEnv(dbc, "OTEL_SDK_DISABLED") {
		t.Errorf("OTEL_SDK_DISABLED set although an OTLP endpoint is given")
	}
}

func TestChartPodMonitorScrapesThePods(t *testing.T) {
	objs := renderChart(t, combination{values: "deploy/helm/pillars/ci/podmonitor-values.yaml", apiVersions: operatorAPIs})
	pm := find[*monitoringv1.PodMonitor](t, objs, "demo-pillars")
	if pm.Spec.JobLabel != "app.kubernetes.io/component" || len(pm.Spec.PodMetricsEndpoints) != 1 ||
		pm.Spec.PodMetricsEndpoints[0].Port == nil || *pm.Spec.PodMetricsEndpoints[0].Port != "http" {
		t.Errorf("PodMonitor %+v does not scrape port http with the component as job", pm.Spec)
	}
	if !dropsLabel(pm.Spec.PodMetricsEndpoints[0].RelabelConfigs, "endpoint") {
		t.Errorf("the PodMonitor keeps the Operator's endpoint target label, which renames the services' endpoint label")
	}
	if n := len(all[*monitoringv1.ServiceMonitor](objs)) + len(all[*monitoringv1.PrometheusRule](objs)); n != 0 {
		t.Errorf("%d ServiceMonitors or PrometheusRules besides the PodMonitor", n)
	}
}

// Given a PostgreSQL URL the database service is stateless: a Deployment that scales, here
// through an autoscaler, with the URL from a Secret.
func TestChartWithPostgreSQLScalesTheDatabase(t *testing.T) {
	objs := renderChart(t, combination{values: "deploy/helm/pillars/ci/postgres-url-values.yaml"})
	if n := len(all[*appsv1.StatefulSet](objs)); n != 0 {
		t.Errorf("%d StatefulSets: with PostgreSQL nothing is stateful in the release", n)
	}
	db := find[*appsv1.Deployment](t, objs, databaseName)
	if db.Spec.Replicas != nil {
		t.Errorf("replicas %d set although an autoscaler owns them", *db.Spec.Replicas)
	}
	dbc := container(t, db.Spec.Template.Spec, "database")
	ref := secretRef(dbc, "PILLARS_DB_URL")
	if ref == nil || ref.Key != "url" {
		t.Fatalf("PILLARS_DB_URL does not come from a Secret's url key: %+v", ref)
	}
	secret := find[*corev1.Secret](t, objs, ref.Name)
	if got := string(secret.Data["url"]); got != "postgres://pillars:s3cret@db.example.internal:5432/pillars?sslmode=require" {
		t.Errorf("Secret %s url=%q, want the URL given", ref.Name, got)
	}
	if hasEnv(dbc, "PILLARS_DB_PATH") || len(dbc.VolumeMounts) != 1 {
		t.Errorf("the database still has SQLite's path or volume: %+v", dbc.VolumeMounts)
	}
	for _, name := range []string{frontendName, backendName, databaseName} {
		hpa := find[*autoscalingv2.HorizontalPodAutoscaler](t, objs, name)
		if hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != name {
			t.Errorf("HPA %s scales %+v", name, hpa.Spec.ScaleTargetRef)
		}
	}
	if max := find[*autoscalingv2.HorizontalPodAutoscaler](t, objs, databaseName).Spec.MaxReplicas; max != 8 {
		t.Errorf("database maxReplicas %d, want 8", max)
	}
}

func TestChartWithTheDemoPostgreSQL(t *testing.T) {
	objs := renderChart(t, combination{values: "deploy/helm/pillars/ci/postgresql-demo-values.yaml"})
	pg := find[*appsv1.StatefulSet](t, objs, "demo-pillars-postgresql")
	if *pg.Spec.Replicas != 1 {
		t.Errorf("demo PostgreSQL replicas %d, want 1", *pg.Spec.Replicas)
	}
	db := find[*appsv1.Deployment](t, objs, databaseName)
	if *db.Spec.Replicas != 2 {
		t.Errorf("database replicas %d, want 2", *db.Spec.Replicas)
	}
	ref := secretRef(container(t, db.Spec.Template.Spec, "database"), "PILLARS_DB_URL")
	secret := find[*corev1.Secret](t, objs, ref.Name)
	password := string(secret.Data["password"])
	if len(password) < 32 {
		t.Errorf("generated PostgreSQL password is %d characters", len(password))
	}
	want := "postgres://pillars:" + password + "@demo-pillars-postgresql:5432/pillars?sslmode=disable"
	if got := string(secret.Data["url"]); got != want {
		t.Errorf("PILLARS_DB_URL %q, want %q", got, want)
	}
	pgc := container(t, pg.Spec.Template.Spec, "postgresql")
	if r := secretRef(pgc, "POSTGRES_PASSWORD"); r == nil || r.Name != ref.Name || r.Key != "password" {
		t.Errorf("PostgreSQL's password is not the one in the URL's Secret: %+v", r)
	}
	if find[*corev1.Service](t, objs, "demo-pillars-postgresql").Spec.Ports[0].Port != 5432 {
		t.Errorf("the PostgreSQL Service is not on 5432")
	}
}

// helm test runs `pillars verify` against this release's frontend and the backends given.
func TestChartTestPodRunsVerify(t *testing.T) {
	objs := renderChart(t, combination{values: "deploy/helm/pillars/ci/own-backends-values.yaml"})
	pod := find[*corev1.Pod](t, objs, "demo-pillars-verify")
	if pod.Annotations["helm.sh/hook"] != "test" || pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("the verify pod is not a run-once helm test hook: %v, %s", pod.Annotations, pod.Spec.RestartPolicy)
	}
	c := container(t, pod.Spec, "verify")
	want := []string{
		"verify",
		"--frontend-url=http://" + frontendName + ":8001",
		"--prometheus-url=http://prometheus.telemetry.svc:9090",
		"--traces-url=http://tempo.telemetry.svc:3200",
		"--traces-kind=tempo",
		"--logs-url=http://loki-gateway.telemetry.svc",
		"--logs-kind=loki",
		"--timeout=2m",
	}
	if !slices.Equal(c.Args, want) {
		t.Errorf("verify args\n%q\nwant\n%q", c.Args, want)
	}
	if ref := secretRef(c, "PILLARS_ADMIN_TOKEN"); ref == nil || ref.Name != "pillars-admin-token" {
		t.Errorf("verify does not get the user's admin token Secret: %+v", ref)
	}
	if n := len(all[*corev1.Secret](objs)); n != 0 {
		t.Errorf("%d Secrets rendered although the admin token's Secret is the user's own", n)
	}
	fe := container(t, find[*appsv1.Deployment](t, objs, frontendName).Spec.Template.Spec, "frontend")
	attrs := envValue(fe, "OTEL_RESOURCE_ATTRIBUTES")
	for _, want := range []string{"k8s.pod.name=$(K8S_POD_NAME)", "k8s.namespace.name=$(K8S_NAMESPACE_NAME)", "k8s.deployment.name=" + frontendName, "k8s.cluster.name=staging-eu"} {
		if !strings.Contains(attrs, want) {
			t.Errorf("OTEL_RESOURCE_ATTRIBUTES=%q lacks %s", attrs, want)
		}
	}
	if got := envValue(fe, "OTEL_TRACES_SAMPLER_ARG"); got != "0.25" {
		t.Errorf("OTEL_TRACES_SAMPLER_ARG=%q, want 0.25", got)
	}
}

func TestChartPassesScenarioAndChaosToTheFrontend(t *testing.T) {
	objs := renderChart(t, combination{}, "--set", "scenario=slow-database", "--set", "chaos=30m", "--set-json", "traffic.rate=0.5")
	fe := container(t, find[*appsv1.Deployment](t, objs, frontendName).Spec.Template.Spec, "frontend")
	for env, want := range map[string]string{"PILLARS_SCENARIO": "slow-database", "PILLARS_CHAOS": "30m", "PILLARS_TRAFFIC_RATE": "0.5", "PILLARS_DATABASE_URL": "http://" + databaseName + ":8003"} {
		if got := envValue(fe, env); got != want {
			t.Errorf("%s=%q, want %q", env, got, want)
		}
	}
}

// Every PILLARS_* variable the chart sets is a flag of the pillars binary, or one of the names
// the project has decided for flags that are being added.
func TestChartSetsOnlyKnownVariables(t *testing.T) {
	known := pillarsFlagVariables(t)
	decided := []string{"PILLARS_ADMIN_TOKEN", "PILLARS_DRAIN_DELAY", "PILLARS_DB_URL", "PILLARS_SCENARIO", "PILLARS_CHAOS"}
	for _, v := range decided {
		known[v] = true
	}
	for _, c := range append(chartCombinations, combination{}) {
		objs := renderChart(t, c, "--set", "scenario=s", "--set", "chaos=1m")
		for _, w := range workloads(objs) {
			for _, ct := range w.spec.Containers {
				for _, e := range ct.Env {
					if strings.HasPrefix(e.Name, "PILLARS_") && !known[e.Name] {
						t.Errorf("%s: %s sets %s, which no pillars flag reads", c.name(), w.owner, e.Name)
					}
				}
			}
		}
	}
}

// A wrong value fails at install with a message that names it.
func TestChartRefusesWrongValues(t *testing.T) {
	cases := []struct {
		set  []string
		want string
	}{
		{[]string{"image.tag=latest"}, "/image/tag"},
		{[]string{"image.digest=sha256:abc"}, "/image/digest"},
		{[]string{"frontend.replica=3"}, "'replica' not allowed"},
		{[]string{"traffic.rate=-1"}, "/traffic/rate"},
		{[]string{"faults.queryErrorRate=2"}, "/faults/queryErrorRate"},
		{[]string{"faults.queryLatency=fast"}, "/faults/queryLatency"},
		{[]string{"metrics.scrape=prom"}, "/metrics/scrape"},
		{[]string{"telemetry.otlp.endpoint=tempo:4318"}, "/telemetry/otlp/endpoint"},
		{[]string{"telemetry.otlp.protocol=http"}, "/telemetry/otlp/protocol"},
		{[]string{"securityContext.readOnlyRootFilesystem=false"}, "/securityContext/readOnlyRootFilesystem"},
		{[]string{"podSecurityContext.runAsNonRoot=false"}, "/podSecurityContext/runAsNonRoot"},
		{[]string{"frontend.resources.limits.memory=lots"}, "/frontend/resources/limits/memory"},
		{[]string{"backend.goMemLimit=100M"}, "/backend/goMemLimit"},
		{[]string{"database.postgres.url=mysql://x"}, "/database/postgres/url"},
		{[]string{"test.enabled=true"}, "/test/prometheusURL"},
		{[]string{"database.replicas=2"}, "database.replicas must be 1 with SQLite"},
		{[]string{"database.autoscaling.enabled=true"}, "database.autoscaling.enabled needs PostgreSQL"},
		{[]string{"postgresql.enabled=true", "database.postgres.url=postgres://x@y/z"}, "cannot be combined"},
		{[]string{"postgresql.password=p@ss:word"}, "/postgresql/password"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.set, ","), func(t *testing.T) {
			var args []string
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			_, err := helm(t, templateArgs(combination{}, args...)...)
			if err == nil {
				t.Fatalf("helm template accepted %v", tc.set)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("the error does not name %q:\n%v", tc.want, err)
			}
		})
	}
}

// composeJobs are the scrape jobs of the Compose stack's Prometheus, sorted.
func composeJobs(t *testing.T) []string {
	var cfg struct {
		ScrapeConfigs []struct {
			JobName string `json:"job_name"`
		} `json:"scrape_configs"`
	}
	raw := readFile(t, "deploy", "prometheus", "prometheus.yml")
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	var jobs []string
	for _, sc := range cfg.ScrapeConfigs {
		jobs = append(jobs, sc.JobName)
	}
	slices.Sort(jobs)
	return jobs
}

// pillarsFlagVariables reads the flags the pillars command registers from its source and
// returns their variables (flag --cache-ttl: PILLARS_CACHE_TTL).
func pillarsFlagVariables(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(path(t, "cmd", "pillars", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	flagCall := regexp.MustCompile(`\bf\.(?:String|Int|Float|Duration|Bool)\(&[^,]+,\s*"([a-z0-9-]+)"`)
	vars := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range flagCall.FindAllSubmatch(src, -1) {
			vars["PILLARS_"+strings.ToUpper(strings.ReplaceAll(string(m[1]), "-", "_"))] = true
		}
	}
	if len(vars) < 10 {
		t.Fatalf("found only %d flags in cmd/pillars: has the flag helper changed?", len(vars))
	}
	return vars
}

func container(t *testing.T, spec corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s", name)
	return corev1.Container{}
}

func hasEnv(c corev1.Container, name string) bool {
	return slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
}

func secretRef(c corev1.Container, name string) *corev1.SecretKeySelector {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil {
			return e.ValueFrom.SecretKeyRef
		}
	}
	return nil
}

func mounts(c corev1.Container, volume, at string) bool {
	return slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == volume && m.MountPath == at })
}

func podAnnotations(o object) map[string]string {
	switch v := o.obj.(type) {
	case *appsv1.Deployment:
		return v.Spec.Template.Annotations
	case *appsv1.StatefulSet:
		return v.Spec.Template.Annotations
	case *corev1.Pod:
		return v.Annotations
	}
	return nil
}

// dropsLabel reports whether relabelling removes a target label before the scrape.
func dropsLabel(configs []monitoringv1.RelabelConfig, label string) bool {
	for _, c := range configs {
		if c.Action == "labeldrop" && c.Regex == label {
			return true
		}
	}
	return false
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return bytes.Equal(ja, jb)
}
