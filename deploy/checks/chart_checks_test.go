//go:build chart

package checks

import (
	"strings"
	"testing"
)

// The checks themselves must be able to fail: each case below is a manifest with one fault,
// and the decoder or the policy must name it.

// goodPod passes the policy; each case breaks one thing in it.
const goodPod = `apiVersion: v1
kind: Pod
metadata:
  name: good
  labels: {app: good}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 30
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
    - name: app
      image: ghcr.io/pillars-o11y/pillars:0.1.0
      ports: [{name: http, containerPort: 8001}]
      env:
        - {name: PILLARS_DRAIN_DELAY, value: 5s}
        - {name: PILLARS_SHUTDOWN_TIMEOUT, value: 10s}
        - {name: GOMEMLIMIT, value: 100MiB}
      startupProbe: {httpGet: {path: /ready, port: http}}
      readinessProbe: {httpGet: {path: /ready, port: http}}
      livenessProbe: {httpGet: {path: /healthz, port: http}}
      resources:
        requests: {cpu: 50m, memory: 64Mi}
        limits: {memory: 128Mi}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: {drop: [ALL]}
---
apiVersion: v1
kind: Service
metadata:
  name: good
spec:
  selector: {app: good}
  ports: [{name: http, port: 8001, targetPort: http}]
`

func TestChartDecodingRejectsMistakes(t *testing.T) {
	if _, err := decodeManifests([]byte(goodPod)); err != nil {
		t.Fatalf("the good manifest does not decode: %v", err)
	}
	cases := []struct{ name, from, to, want string }{
		{"misspelled field", "readinessProbe:", "readinesProbe:", `unknown field "spec.containers[0].readinesProbe"`},
		{"field in the wrong place", "      ports: [{name: http, containerPort: 8001}]", "      ports: [{name: http, containerPort: 8001, path: /x}]", "unknown field"},
		{"wrong type", "containerPort: 8001", "containerPort: eighty", "containerPort"},
		{"duplicate key", "  name: good\n  labels", "  name: good\n  name: twice\n  labels", "already set"},
		{"unknown kind", "kind: Service", "kind: Servce", "no kind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(goodPod, tc.from, tc.to, 1)
			if bad == goodPod {
				t.Fatalf("the case changes nothing: %q not found", tc.from)
			}
			_, err := decodeManifests([]byte(bad))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("decode error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestChartPolicyCatchesEachFault(t *testing.T) {
	good, err := decodeManifests([]byte(goodPod))
	if err != nil {
		t.Fatal(err)
	}
	if p := policy(good); len(p) != 0 {
		t.Fatalf("the good manifest breaks the policy: %v", p)
	}
	cases := []struct{ name, from, to, want string }{
		{"latest tag", "pillars:0.1.0", "pillars:latest", "not pinned"},
		{"no tag", "pillars:0.1.0", "pillars", "no tag"},
		{"no memory limit", "        limits: {memory: 128Mi}\n", "", "no memory limit"},
		{"no CPU request", "cpu: 50m, ", "", "no CPU or memory request"},
		{"no liveness probe", "      livenessProbe: {httpGet: {path: /healthz, port: http}}\n", "", "probes"},
		{"no startup probe", "      startupProbe: {httpGet: {path: /ready, port: http}}\n", "", "probes"},
		{"root allowed", "runAsNonRoot: true", "runAsNonRoot: false", "may run as root"},
		{"uid 0", "runAsNonRoot: true\n", "runAsNonRoot: true\n    runAsUser: 0\n", "uid 0"},
		{"privilege escalation", "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", "privilege escalation"},
		{"writable root", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "writable root filesystem"},
		{"capabilities kept", "drop: [ALL]", "drop: [NET_RAW]", "does not drop all capabilities"},
		{"capability added", "drop: [ALL]", "drop: [ALL], add: [NET_ADMIN]", "adds capabilities"},
		{"privileged", "readOnlyRootFilesystem: true\n", "readOnlyRootFilesystem: true\n        privileged: true\n", "is privileged"},
		{"no seccomp", "    seccompProfile: {type: RuntimeDefault}\n", "", "seccomp"},
		{"unconfined seccomp", "{type: RuntimeDefault}", "{type: Unconfined}", "seccomp"},
		{"host path", "  containers:\n", "  volumes: [{name: h, hostPath: {path: /var/run}}]\n  containers:\n", "host path"},
		{"host network", "  automountServiceAccountToken: false\n", "  automountServiceAccountToken: false\n  hostNetwork: true\n", "network"},
		{"host port", "containerPort: 8001}", "containerPort: 8001, hostPort: 8001}", "host port"},
		{"token mounted", "automountServiceAccountToken: false", "automountServiceAccountToken: true", "service account token"},
		{"grace too short", "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: 20", "does not exceed"},
		{"GOMEMLIMIT over the limit", "value: 100MiB", "value: 200MiB", "not under the memory limit"},
		{"service selects nothing", "  selector: {app: good}\n  ports", "  selector: {app: bad}\n  ports", "selects no pods"},
		{"service port unknown", "targetPort: http", "targetPort: metrics", "does not expose"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(goodPod, tc.from, tc.to, 1)
			if bad == goodPod {
				t.Fatalf("the case changes nothing: %q not found", tc.from)
			}
			objs, err := decodeManifests([]byte(bad))
			if err != nil {
				t.Fatalf("the faulty manifest does not decode: %v", err)
			}
			problems := strings.Join(policy(objs), "\n")
			if !strings.Contains(problems, tc.want) {
				t.Errorf("policy found %q, want a problem containing %q", problems, tc.want)
			}
		})
	}
}
