//go:build chart

package checks

import (
	"fmt"
	"strings"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The policy every rendered object must meet. Each rule returns what it found wrong, in the
// words a reviewer would use; an empty list means the objects pass.

// workload is a pod template found in a rendered object.
type workload struct {
	owner  object
	labels map[string]string
	spec   corev1.PodSpec
	hook   bool // a helm hook (the test pod), which runs to completion
}

func workloads(objs []object) []workload {
	var out []workload
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			out = append(out, workload{owner: o, labels: v.Spec.Template.Labels, spec: v.Spec.Template.Spec})
		case *appsv1.StatefulSet:
			out = append(out, workload{owner: o, labels: v.Spec.Template.Labels, spec: v.Spec.Template.Spec})
		case *appsv1.DaemonSet:
			out = append(out, workload{owner: o, labels: v.Spec.Template.Labels, spec: v.Spec.Template.Spec})
		case *corev1.Pod:
			_, hook := v.Annotations["helm.sh/hook"]
			out = append(out, workload{owner: o, labels: v.Labels, spec: v.Spec, hook: hook})
		}
	}
	return out
}

// policy runs every rule over the rendered objects.
func policy(objs []object) []string {
	var problems []string
	for _, w := range workloads(objs) {
		problems = append(problems, podPolicy(w)...)
	}
	problems = append(problems, referencePolicy(objs)...)
	return problems
}

func podPolicy(w workload) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, w.owner.String()+": "+fmt.Sprintf(format, args...)) }
	spec := w.spec
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		bad("shares the node's network, PID or IPC namespace")
	}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			bad("volume %s is a host path", v.Name)
		}
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		bad("mounts a service account token it does not need")
	}
	pod := spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	containers := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	for _, c := range containers {
		in := func(format string, args ...any) { bad("container %s: %s", c.Name, fmt.Sprintf(format, args...)) }
		if problem := imagePolicy(c.Image); problem != "" {
			in("%s", problem)
		}
		req, lim := c.Resources.Requests, c.Resources.Limits
		if req.Cpu().IsZero() || req.Memory().IsZero() {
			in("no CPU or memory request")
		}
		if lim.Memory().IsZero() {
			in("no memory limit")
		} else if lim.Memory().Cmp(*req.Memory()) < 0 {
			in("memory limit below its request")
		}
		if !w.hook {
			if c.LivenessProbe == nil || c.ReadinessProbe == nil || c.StartupProbe == nil {
				in("needs liveness, readiness and startup probes")
			}
		}
		for _, port := range c.Ports {
			if port.HostPort != 0 {
				in("binds host port %d", port.HostPort)
			}
		}
		securityPolicy(pod, c.SecurityContext, in)
		goMemLimitPolicy(c, in)
	}
	gracePolicy(w, bad)
	return p
}

// imagePolicy refuses images without a release tag or digest: no tag means latest, and latest
// changes under a running release.
func imagePolicy(image string) string {
	if image == "" {
		return "no image"
	}
	if strings.Contains(image, "@sha256:") {
		return ""
	}
	slash := strings.LastIndex(image, "/")
	colon := strings.LastIndex(image, ":")
	if colon <= slash {
		return fmt.Sprintf("image %s has no tag (it would mean latest)", image)
	}
	if tag := image[colon+1:]; tag == "latest" || tag == "" {
		return fmt.Sprintf("image %s is not pinned to a release", image)
	}
	return ""
}

// securityPolicy: non-root, no privilege escalation, read-only root filesystem, every capability
// dropped, not privileged, seccomp RuntimeDefault (or a Localhost profile), where the
// container's own context wins over the pod's as in Kubernetes.
func securityPolicy(pod *corev1.PodSecurityContext, c *corev1.SecurityContext, bad func(string, ...any)) {
	if c == nil {
		c = &corev1.SecurityContext{}
	}
	issue := func(s string) { bad("%s", s) }
	runAsNonRoot := c.RunAsNonRoot
	if runAsNonRoot == nil {
		runAsNonRoot = pod.RunAsNonRoot
	}
	if runAsNonRoot == nil || !*runAsNonRoot {
		issue("may run as root (runAsNonRoot is not true)")
	}
	user := c.RunAsUser
	if user == nil {
		user = pod.RunAsUser
	}
	if user != nil && *user == 0 {
		issue("runs as uid 0")
	}
	if c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation {
		issue("allows privilege escalation")
	}
	if c.ReadOnlyRootFilesystem == nil || !*c.ReadOnlyRootFilesystem {
		issue("has a writable root filesystem")
	}
	if c.Privileged != nil && *c.Privileged {
		issue("is privileged")
	}
	dropsAll := false
	if c.Capabilities != nil {
		for _, d := range c.Capabilities.Drop {
			dropsAll = dropsAll || d == "ALL"
		}
		if len(c.Capabilities.Add) > 0 {
			issue(fmt.Sprintf("adds capabilities %v", c.Capabilities.Add))
		}
	}
	if !dropsAll {
		issue("does not drop all capabilities")
	}
	seccomp := c.SeccompProfile
	if seccomp == nil {
		seccomp = pod.SeccompProfile
	}
	if seccomp == nil || (seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault && seccomp.Type != corev1.SeccompProfileTypeLocalhost) {
		issue("has no seccomp profile (RuntimeDefault)")
	}
}

// goMemLimitPolicy: a Go service's soft memory limit must sit under its container's hard one,
// or the GC never gets to work harder before the kernel kills the process.
func goMemLimitPolicy(c corev1.Container, bad func(string, ...any)) {
	v := envValue(c, "GOMEMLIMIT")
	if v == "" {
		return
	}
	limit, err := parseGoBytes(v)
	if err != nil {
		bad("GOMEMLIMIT=%q: %v", v, err)
		return
	}
	if mem := c.Resources.Limits.Memory(); !mem.IsZero() && limit >= mem.Value() {
		bad("GOMEMLIMIT=%s is not under the memory limit %s", v, mem.String())
	}
}

// parseGoBytes reads a GOMEMLIMIT value: a number with an optional B, KiB, MiB, GiB or TiB suffix.
func parseGoBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = n, u.mult
			break
		}
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0, err
	}
	return q.Value() * mult, nil
}

// gracePolicy: the kubelet's SIGKILL must not cut a clean shutdown. A pillars pod's grace
// exceeds drain delay + shutdown timeout + the 10 s the services give the telemetry flush.
func gracePolicy(w workload, bad func(string, ...any)) {
	for _, c := range w.spec.Containers {
		drain, shutdown := envValue(c, "PILLARS_DRAIN_DELAY"), envValue(c, "PILLARS_SHUTDOWN_TIMEOUT")
		if drain == "" && shutdown == "" {
			continue
		}
		d, err1 := time.ParseDuration(drain)
		s, err2 := time.ParseDuration(shutdown)
		if err1 != nil || err2 != nil {
			bad("container %s: PILLARS_DRAIN_DELAY=%q, PILLARS_SHUTDOWN_TIMEOUT=%q are not both durations", c.Name, drain, shutdown)
			continue
		}
		grace := time.Duration(corev1.DefaultTerminationGracePeriodSeconds) * time.Second
		if w.spec.TerminationGracePeriodSeconds != nil {
			grace = time.Duration(*w.spec.TerminationGracePeriodSeconds) * time.Second
		}
		if need := d + s + 10*time.Second; grace <= need {
			bad("terminationGracePeriodSeconds %v does not exceed drain %v + shutdown %v + flush 10s", grace, d, s)
		}
	}
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// referencePolicy: every name one object uses resolves to another rendered object (or to a
// Secret the values say is the user's own), and every selector selects something.
func referencePolicy(objs []object) []string {
	var p []string
	bad := func(o object, format string, args ...any) {
		p = append(p, o.String()+": "+fmt.Sprintf(format, args...))
	}
	ws := workloads(objs)
	podsMatching := func(sel labels.Selector) []workload {
		var out []workload
		for _, w := range ws {
			if !w.hook && sel.Matches(labels.Set(w.labels)) {
				out = append(out, w)
			}
		}
		return out
	}
	has := func(kind, name string) bool {
		for _, o := range objs {
			if o.kind == kind && o.name == name {
				return true
			}
		}
		return false
	}
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *corev1.Service:
			matched := podsMatching(labels.SelectorFromSet(v.Spec.Selector))
			if len(v.Spec.Selector) == 0 || len(matched) == 0 {
				bad(o, "selects no pods")
			}
			for _, port := range v.Spec.Ports {
				for _, w := range matched {
					if !containerPortExists(w.spec, port.TargetPort) {
						bad(o, "port %s targets %s, which %s does not expose", port.Name, port.TargetPort.String(), w.owner)
					}
				}
			}
		case *policyv1.PodDisruptionBudget:
			sel, err := metav1.LabelSelectorAsSelector(v.Spec.Selector)
			if err != nil || len(podsMatching(sel)) == 0 {
				bad(o, "selects no pods")
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			if !has(v.Spec.ScaleTargetRef.Kind, v.Spec.ScaleTargetRef.Name) {
				bad(o, "scales %s %s, which is not rendered", v.Spec.ScaleTargetRef.Kind, v.Spec.ScaleTargetRef.Name)
			}
		case *appsv1.StatefulSet:
			if !has("Service", v.Spec.ServiceName) {
				bad(o, "serviceName %s is not a rendered Service", v.Spec.ServiceName)
			}
		case *monitoringv1.ServiceMonitor:
			if n := countSelected(objs, v.Spec.Selector); n == 0 {
				bad(o, "selects no Service")
			}
		case *monitoringv1.PodMonitor:
			sel, err := metav1.LabelSelectorAsSelector(&v.Spec.Selector)
			if err != nil || len(podsMatching(sel)) == 0 {
				bad(o, "selects no pods")
			}
		}
	}
	return p
}

func containerPortExists(spec corev1.PodSpec, target intstr.IntOrString) bool {
	for _, c := range spec.Containers {
		for _, port := range c.Ports {
			if (target.Type == intstr.String && port.Name == target.StrVal) ||
				(target.Type == intstr.Int && port.ContainerPort == target.IntVal) {
				return true
			}
		}
	}
	return false
}

func countSelected(objs []object, selector metav1.LabelSelector) int {
	sel, err := metav1.LabelSelectorAsSelector(&selector)
	if err != nil {
		return 0
	}
	n := 0
	for _, svc := range all[*corev1.Service](objs) {
		if sel.Matches(labels.Set(svc.Labels)) {
			n++
		}
	}
	return n
}
