{{- define "o2ims.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "o2ims.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "o2ims.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "o2ims.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "o2ims.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "o2ims.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: nephoran
{{- end -}}

{{- define "o2ims.selectorLabels" -}}
app.kubernetes.io/name: {{ include "o2ims.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "o2ims.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "o2ims.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The configuration file: the values' config with the chart's own keys. */}}
{{- define "o2ims.config" -}}
{{- $cfg := deepCopy .Values.config -}}
{{- if not (get $cfg "service-uri") -}}
{{- $_ := set $cfg "service-uri" (printf "http://%s.%s.svc:%v" (include "o2ims.fullname" .) .Release.Namespace .Values.service.port) -}}
{{- end -}}
{{- range $k, $v := $cfg -}}
{{- if eq (toString $v) "" -}}{{- $_ := unset $cfg $k -}}{{- end -}}
{{- end -}}
{{- if .Values.insecureAllowUnauthenticated -}}
{{- $_ := set $cfg "insecure-allow-unauthenticated" true -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* The agent listener's certificate names: agent.hosts, else the
Service's cluster DNS names. */}}
{{- define "o2ims.agentHosts" -}}
{{- if .Values.agent.hosts -}}
{{- join "," .Values.agent.hosts -}}
{{- else -}}
{{- $svc := include "o2ims.fullname" . -}}
{{- printf "%s,%s.%s,%s.%s.svc" $svc $svc .Release.Namespace $svc .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* Refuse value sets the server would refuse, or that lose data. */}}
{{- define "o2ims.validate" -}}
{{- if and (not (index .Values.config "oidc-issuer-url")) (not (index .Values.config "oidc-jwks-url")) (not .Values.insecureAllowUnauthenticated) -}}
{{- fail "config.oidc-issuer-url (or config.oidc-jwks-url) is required: the server refuses to serve without authentication beyond loopback; set insecureAllowUnauthenticated to run without it" -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.database.existingSecret) -}}
{{- fail "several replicas need PostgreSQL: set database.existingSecret (SQLite belongs to one replica)" -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (not .Values.database.existingSecret) -}}
{{- fail "autoscaling needs PostgreSQL: set database.existingSecret" -}}
{{- end -}}
{{- if and .Values.agent.enabled (or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled) -}}
{{- fail "the agent listener needs one replica: its edge CA is per data directory, so each replica would have another (set replicaCount 1, autoscaling off)" -}}
{{- end -}}
{{- if and .Values.persistence.existingClaim (or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled) -}}
{{- fail "persistence.existingClaim is one replica's data directory: set replicaCount 1, autoscaling off" -}}
{{- end -}}
{{- end -}}
