{{/* The name every object of the operator shares: fraudops-operator for a release "fraudops". */}}
{{- define "fraudops.fullname" -}}
{{- printf "%s-operator" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of manifests/ (app.kubernetes.io/name selects the pod) plus Helm's own. */}}
{{- define "fraudops.labels" -}}
app.kubernetes.io/name: {{ include "fraudops.fullname" . }}
app.kubernetes.io/part-of: fraudops
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}
