{{/*
What every pillars pod shares. Called with (dict "root" $ "component" NAME "workload" KIND
"env" YAML "volumeMounts" YAML "volumes" YAML), where env, volumeMounts and volumes are the
component's own additions as YAML lists (or empty).
*/}}

{{/* Environment every service reads: identity, telemetry, shutdown, admin token. */}}
{{- define "pillars.commonEnv" -}}
{{- $root := .root }}
{{- $v := $root.Values -}}
# The downward API: which pod this is, for the spans' resource attributes.
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: K8S_POD_UID
  valueFrom:
    fieldRef:
      fieldPath: metadata.uid
- name: K8S_NAMESPACE_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: K8S_NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ include "pillars.resourceAttributes" . | quote }}
{{- if $v.telemetry.otlp.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $v.telemetry.otlp.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $v.telemetry.otlp.protocol | quote }}
{{- else }}
- name: OTEL_SDK_DISABLED
  value: "true"
{{- end }}
{{- with $v.telemetry.sampler }}
- name: OTEL_TRACES_SAMPLER
  value: {{ . | quote }}
{{- end }}
{{- with $v.telemetry.samplerArg }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ . | quote }}
{{- end }}
{{- with $v.telemetry.loki.url }}
- name: PILLARS_LOKI_URL
  value: {{ . | quote }}
{{- end }}
- name: PILLARS_ENVIRONMENT
  value: {{ $v.environment | quote }}
- name: PILLARS_LOG_LEVEL
  value: {{ $v.logLevel | quote }}
- name: PILLARS_DRAIN_DELAY
  value: "{{ $v.shutdown.drainDelaySeconds }}s"
- name: PILLARS_SHUTDOWN_TIMEOUT
  value: "{{ $v.shutdown.timeoutSeconds }}s"
- name: PILLARS_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "pillars.adminSecretName" $root }}
      key: token
- name: GOMEMLIMIT
  value: {{ (index $v .component).goMemLimit | quote }}
{{- end }}

{{/*
OTEL_RESOURCE_ATTRIBUTES in the semantic conventions' k8s.* names. $(VAR) refers to the
downward-API variables above; Kubernetes expands it.
*/}}
{{- define "pillars.resourceAttributes" -}}
{{- $attrs := list "k8s.namespace.name=$(K8S_NAMESPACE_NAME)" "k8s.pod.name=$(K8S_POD_NAME)" "k8s.pod.uid=$(K8S_POD_UID)" "k8s.node.name=$(K8S_NODE_NAME)" (printf "k8s.container.name=%s" .component) }}
{{- $attrs = append $attrs (printf "k8s.%s.name=%s" (lower .workload) (include "pillars.componentName" .)) }}
{{- $attrs = append $attrs "service.instance.id=$(K8S_POD_UID)" }}
{{- range $k, $val := .root.Values.telemetry.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%s" $k $val) }}
{{- end }}
{{- join "," $attrs }}
{{- end }}

{{/* Pod annotations: the user's, plus prometheus.io/* when scraping works by annotations. */}}
{{- define "pillars.podAnnotations" -}}
{{- $c := index .root.Values .component }}
{{- if eq (include "pillars.scrapeMode" .root) "annotations" }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ $c.service.port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- with $c.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The pod template of a service. */}}
{{- define "pillars.podTemplate" -}}
{{- $root := .root }}
{{- $v := $root.Values -}}
{{- $c := index $v .component -}}
metadata:
  labels:
    {{- include "pillars.componentLabels" . | nindent 4 }}
    {{- with $c.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with (include "pillars.podAnnotations" . | trim) }}
  annotations:
    {{- . | nindent 4 }}
  {{- end }}
spec:
  serviceAccountName: {{ include "pillars.serviceAccountName" $root }}
  # The services never call the Kubernetes API.
  automountServiceAccountToken: false
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ include "pillars.terminationGrace" $root }}
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ .component }}
      image: {{ include "pillars.image" $root }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      args: [{{ .component | quote }}]
      ports:
        - name: http
          containerPort: {{ $c.service.port }}
          protocol: TCP
      env:
        {{- include "pillars.commonEnv" . | nindent 8 }}
        {{- with .env }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- with $c.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      # /ready answers 503 until start-up (the database's first seeding included) is done.
      startupProbe:
        httpGet:
          path: /ready
          port: http
        periodSeconds: {{ dig "startupProbe" "periodSeconds" 1 $c }}
        failureThreshold: {{ dig "startupProbe" "failureThreshold" 30 $c }}
        timeoutSeconds: 2
      # Ready ignores dependencies on purpose: a frontend whose backend is down answers 503s
      # with traces and logs rather than vanishing from its Service.
      readinessProbe:
        httpGet:
          path: /ready
          port: http
        periodSeconds: 5
        timeoutSeconds: 2
        failureThreshold: 2
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: 10
        timeoutSeconds: 3
        failureThreshold: 3
      resources:
        {{- toYaml $c.resources | nindent 8 }}
      securityContext:
        {{- toYaml $v.securityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- with .volumeMounts }}
        {{- . | nindent 8 }}
        {{- end }}
  volumes:
    # The root filesystem is read-only; a small scratch space for anything that needs /tmp.
    - name: tmp
      emptyDir:
        sizeLimit: 16Mi
    {{- with .volumes }}
    {{- . | nindent 4 }}
    {{- end }}
  {{- with $c.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
