{{- define "app.fullname" -}}
{{ .Release.Name }}-app
{{- end -}}
