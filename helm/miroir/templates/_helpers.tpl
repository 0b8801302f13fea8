{{- define "miroir.fullname" -}}
{{- printf "%s-miroir" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "miroir.meiliName" -}}
{{- printf "%s-meili" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "miroir.secretName" -}}
{{- if .Values.keys.existingSecret -}}{{ .Values.keys.existingSecret }}{{- else -}}{{ include "miroir.fullname" . }}-keys{{- end -}}
{{- end -}}

{{- define "miroir.labels" -}}
app.kubernetes.io/name: miroir
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
