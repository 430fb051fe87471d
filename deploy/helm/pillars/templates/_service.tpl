{{/* A component's Service, port named http: (dict "root" $ "component" NAME). */}}
{{- define "pillars.service" -}}
{{- $c := index .root.Values .component }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "pillars.componentName" . }}
  labels:
    {{- include "pillars.componentLabels" . | nindent 4 }}
  {{- with $c.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $c.service.type }}
  selector:
    {{- include "pillars.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ $c.service.port }}
      targetPort: http
      protocol: TCP
{{- end }}
