{{/* Labels of the monitoring objects (rules, dashboards): the chart's, without the operator's
pod-selector name. */}}
{{- define "fraudops.monitoringLabels" -}}
app.kubernetes.io/component: monitoring
app.kubernetes.io/part-of: fraudops
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}
