{{/*
Names. The release's objects are <fullname>-frontend, -backend, -database; fullname is
<release>-pillars, or the release name alone when it already contains "pillars".
*/}}
{{- define "pillars.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pillars.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The name of one component's objects: (dict "root" $ "component" "backend"). */}}
{{- define "pillars.componentName" -}}
{{- printf "%s-%s" (include "pillars.fullname" .root | trunc 50 | trimSuffix "-") .component }}
{{- end }}

{{- define "pillars.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pillars.labels" -}}
helm.sh/chart: {{ include "pillars.chart" . }}
app.kubernetes.io/name: {{ include "pillars.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ include "pillars.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pillars
{{- end }}

{{/* Labels of one component's objects: (dict "root" $ "component" "backend"). */}}
{{- define "pillars.componentLabels" -}}
{{ include "pillars.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Selector labels: never change on upgrade (a Deployment's selector is immutable). */}}
{{- define "pillars.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pillars.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "pillars.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pillars.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "pillars.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* repository:tag, or repository@digest when a digest is given. */}}
{{- define "pillars.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "pillars.imageTag" .) }}
{{- end }}
{{- end }}

{{/* The URL of a component's Service inside the cluster. */}}
{{- define "pillars.serviceURL" -}}
{{- $svc := index .root.Values .component "service" }}
{{- printf "http://%s:%v" (include "pillars.componentName" .) $svc.port }}
{{- end }}

{{/* The admin token Secret: the user's own, or the one this chart keeps. */}}
{{- define "pillars.adminSecretName" -}}
{{- default (printf "%s-admin" (include "pillars.fullname" .)) .Values.adminToken.existingSecret }}
{{- end }}

{{/* Whether the database service uses PostgreSQL (and so may run several replicas). */}}
{{- define "pillars.postgres" -}}
{{- if or .Values.database.postgres.url .Values.database.postgres.existingSecret .Values.postgresql.enabled }}true{{- end }}
{{- end }}

{{/* The Secret holding PILLARS_DB_URL under the key `url`. */}}
{{- define "pillars.dbSecretName" -}}
{{- default (printf "%s-db" (include "pillars.fullname" .)) .Values.database.postgres.existingSecret }}
{{- end }}

{{- define "pillars.postgresqlName" -}}
{{- include "pillars.componentName" (dict "root" . "component" "postgresql") }}
{{- end }}

{{/*
terminationGracePeriodSeconds: the drain delay, the in-flight grace, the telemetry flush (the
services give it 10 s) and 5 s to spare, so the kubelet's SIGKILL never cuts a clean shutdown.
*/}}
{{- define "pillars.terminationGrace" -}}
{{- add .Values.shutdown.drainDelaySeconds .Values.shutdown.timeoutSeconds 10 5 }}
{{- end }}

{{/*
A value kept across upgrades: the existing Secret's key when the release already has it (lookup
answers nothing in `helm template` and dry runs), otherwise a new random string.
(dict "root" $ "secret" NAME "key" KEY "length" N)
*/}}
{{- define "pillars.persistentRandom" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret }}
{{- if and $existing (hasKey $existing.data .key) }}
{{- index $existing.data .key | b64dec }}
{{- else }}
{{- randAlphaNum (int .length) }}
{{- end }}
{{- end }}

{{/*
Scrape mode: serviceMonitor, podMonitor, annotations or none; auto picks a ServiceMonitor where
the Prometheus Operator's CRDs are served.
*/}}
{{- define "pillars.scrapeMode" -}}
{{- if eq .Values.metrics.scrape "auto" }}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor" }}serviceMonitor{{ else }}annotations{{ end }}
{{- else }}
{{- .Values.metrics.scrape }}
{{- end }}
{{- end }}
