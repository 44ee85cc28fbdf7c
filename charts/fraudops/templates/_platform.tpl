{{/* Helpers of the supporting services (PostgreSQL, Redis, object store, MLflow, Prometheus,
Grafana). Each service's objects carry the same labels; its pods are selected by name + instance. */}}

{{/* Labels of one service: include "fraudops.platform.labels" (list . "postgresql"). */}}
{{- define "fraudops.platform.labels" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
app.kubernetes.io/name: {{ $name }}
app.kubernetes.io/component: {{ $name }}
app.kubernetes.io/part-of: fraudops
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The pod selector of one service (a subset of its labels that never changes). */}}
{{- define "fraudops.platform.selector" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ index . 1 }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
{{- end -}}

{{/* Pod-level securityContext of the restricted Pod Security Standard, for a uid:
include "fraudops.platform.podSecurity" 999. */}}
{{- define "fraudops.platform.podSecurity" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
fsGroup: {{ . }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level securityContext of the restricted Pod Security Standard. */}}
{{- define "fraudops.platform.containerSecurity" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* "repository:tag" of an image block (a tag written as a number, `tag: 15`, too). */}}
{{- define "fraudops.platform.image" -}}
{{- printf "%s:%s" .repository (toString .tag) -}}
{{- end -}}

{{/* The all-in-one project image (MLflow server, helm test pods). */}}
{{- define "fraudops.platform.projectImage" -}}
{{- printf "%s:%s" .Values.platformImage.repository (.Values.platformImage.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/*
A generated credential kept across upgrades: the value already in Secret `name` (key `key`) of the
release namespace when there is one (helm upgrade, `lookup`), else a fresh random one. Offline
(helm template, --dry-run) lookup returns nothing, so a fresh value is rendered each time.
include "fraudops.platform.keptSecret" (list . "fraudops-postgresql" "password" 32)
*/}}
{{- define "fraudops.platform.keptSecret" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $key := index . 2 -}}
{{- $length := index . 3 -}}
{{- $existing := lookup "v1" "Secret" $root.Release.Namespace $name -}}
{{- if and $existing $existing.data (hasKey $existing.data $key) -}}
{{- index $existing.data $key | b64dec -}}
{{- else -}}
{{- randAlphaNum $length -}}
{{- end -}}
{{- end -}}

{{/* Names of the generated Secrets. */}}
{{- define "fraudops.postgresql.secretName" -}}{{ .Release.Name }}-postgresql{{- end -}}
{{- define "fraudops.objectStore.secretName" -}}{{ .Release.Name }}-object-store{{- end -}}
{{- define "fraudops.grafana.secretName" -}}{{ .Release.Name }}-grafana{{- end -}}

{{/* PostgreSQL as clients see it: host, port and the Secret + keys holding the user's login. */}}
{{- define "fraudops.postgresql.host" -}}
{{- if .Values.postgresql.enabled -}}
{{- printf "%s.%s.svc" .Values.postgresql.serviceName .Release.Namespace -}}
{{- else -}}
{{- required "postgresql.external.host is required when postgresql.enabled is false (the audit trail and MLflow's backend store need a PostgreSQL)" .Values.postgresql.external.host -}}
{{- end -}}
{{- end -}}
{{- define "fraudops.postgresql.port" -}}
{{- ternary 5432 .Values.postgresql.external.port .Values.postgresql.enabled -}}
{{- end -}}
{{- define "fraudops.postgresql.loginSecret" -}}
{{- if .Values.postgresql.enabled -}}
{{- include "fraudops.postgresql.secretName" . -}}
{{- else -}}
{{- required "postgresql.external.secret.name is required when postgresql.enabled is false (a Secret with the user's username and password)" .Values.postgresql.external.secret.name -}}
{{- end -}}
{{- end -}}

{{/* The object store for MLflow's artifacts: endpoint ("" = AWS S3), bucket, and the Secret with
the access key ("" = none: IRSA / the node's role). */}}
{{- define "fraudops.objectStore.endpoint" -}}
{{- if .Values.objectStore.enabled -}}
{{- printf "http://%s.%s.svc:8333" .Values.objectStore.serviceName .Release.Namespace -}}
{{- else -}}
{{- .Values.objectStore.external.endpoint -}}
{{- end -}}
{{- end -}}
{{- define "fraudops.objectStore.bucket" -}}
{{- if .Values.objectStore.enabled -}}
{{- .Values.objectStore.bucket -}}
{{- else -}}
{{- required "objectStore.external.bucket is required when objectStore.enabled is false (MLflow's artifacts live in that S3 bucket)" .Values.objectStore.external.bucket -}}
{{- end -}}
{{- end -}}
{{- define "fraudops.objectStore.credentialsSecret" -}}
{{- if .Values.objectStore.enabled -}}
{{- include "fraudops.objectStore.secretName" . -}}
{{- else -}}
{{- .Values.objectStore.external.secret.name -}}
{{- end -}}
{{- end -}}

{{/* Prometheus as Grafana and the helm test see it. */}}
{{- define "fraudops.prometheus.url" -}}
{{- if .Values.prometheus.enabled -}}
{{- printf "http://%s.%s.svc:9090" .Values.prometheus.serviceName .Release.Namespace -}}
{{- else -}}
{{- required "prometheus.external.url is required when prometheus.enabled is false (the URL of the Prometheus that scrapes the serving pods)" .Values.prometheus.external.url -}}
{{- end -}}
{{- end -}}

{{/*
Every value the platform needs and lacks, in one failure naming each of them (a service neither
bundled nor external), called first by every platform template so the message does not depend on
which template Helm renders first. The values the operator's Deployment copies as plain strings
(mlflow.trackingUri, serving.redisUrl) must name the bundled Services when those are enabled: a
mismatch (the chart installed in another namespace) would leave the operator pointing at nothing.
*/}}
{{- define "fraudops.platform.checks" -}}
{{- $v := .Values -}}
{{- $ns := .Release.Namespace -}}
{{- $missing := list -}}
{{- if $v.mlflow.enabled -}}
{{- $want := printf "http://%s.%s.svc:5000" $v.mlflow.serviceName $ns -}}
{{- if ne (trimSuffix "/" $v.mlflow.trackingUri) $want -}}
{{- $missing = append $missing (printf "mlflow.trackingUri must be %s (the bundled MLflow of this release), got %q" $want $v.mlflow.trackingUri) -}}
{{- end -}}
{{- if and (not $v.objectStore.enabled) (not $v.objectStore.external.bucket) -}}
{{- $missing = append $missing "objectStore.external.bucket (objectStore.enabled is false: the S3 bucket of MLflow's artifacts)" -}}
{{- end -}}
{{- if and (not $v.objectStore.enabled) (not $v.objectStore.external.secret.name) (not (index ($v.mlflow.serviceAccount.annotations | default dict) "eks.amazonaws.com/role-arn")) -}}
{{- $missing = append $missing "objectStore.external.secret.name or mlflow.serviceAccount.annotations.eks.amazonaws.com/role-arn (objectStore.enabled is false: static keys or an IRSA role for the bucket)" -}}
{{- end -}}
{{- else if not $v.mlflow.trackingUri -}}
{{- $missing = append $missing "mlflow.trackingUri (mlflow.enabled is false: the external MLflow tracking server)" -}}
{{- end -}}
{{- if $v.redis.enabled -}}
{{- $want := printf "redis://%s.%s.svc:6379/0" $v.redis.serviceName $ns -}}
{{- if ne $v.serving.redisUrl $want -}}
{{- $missing = append $missing (printf "serving.redisUrl must be %s (the bundled Redis of this release), got %q" $want $v.serving.redisUrl) -}}
{{- end -}}
{{- else if not $v.serving.redisUrl -}}
{{- $missing = append $missing "serving.redisUrl (redis.enabled is false: the external Redis of the online features)" -}}
{{- end -}}
{{- if $v.postgresql.enabled -}}
{{- if not $v.serving.databaseUrlSecret.name -}}
{{- $missing = append $missing "serving.databaseUrlSecret.name (postgresql.enabled is true: the chart writes the audit database URL with its generated password into that Secret)" -}}
{{- end -}}
{{- else -}}
{{- if not $v.postgresql.external.host -}}
{{- $missing = append $missing "postgresql.external.host (postgresql.enabled is false: the audit trail's and MLflow's PostgreSQL)" -}}
{{- end -}}
{{- if and $v.mlflow.enabled (not $v.postgresql.external.secret.name) -}}
{{- $missing = append $missing "postgresql.external.secret.name (postgresql.enabled is false: a Secret with the username and password MLflow logs in with)" -}}
{{- end -}}
{{- end -}}
{{- if and (not $v.prometheus.enabled) (not $v.prometheus.external.url) -}}
{{- $missing = append $missing "prometheus.external.url (prometheus.enabled is false: the Prometheus that scrapes the serving pods)" -}}
{{- end -}}
{{- if $missing -}}
{{- fail (printf "missing or inconsistent values:\n  - %s" (join "\n  - " $missing)) -}}
{{- end -}}
{{- end -}}
