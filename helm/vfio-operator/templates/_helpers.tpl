{{/* Names, labels and the few values that several templates derive. */}}

{{- define "vfio-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vfio-operator.fullname" -}}
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

{{- define "vfio-operator.agentName" -}}
{{- printf "%s-agent" (include "vfio-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vfio-operator.labels" -}}
app.kubernetes.io/name: {{ include "vfio-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{ include "vfio-operator.versionLabels" . }}
{{- end }}

{{/* The labels that are not selector labels. */}}
{{- define "vfio-operator.versionLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: vfio-operator
{{- end }}

{{- define "vfio-operator.operatorSelectorLabels" -}}
app.kubernetes.io/name: {{ include "vfio-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "vfio-operator.agentSelectorLabels" -}}
app.kubernetes.io/name: {{ include "vfio-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: node-agent
{{- end }}

{{- define "vfio-operator.operatorServiceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "vfio-operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- required "operator.serviceAccount.name is required when operator.serviceAccount.create is false" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "vfio-operator.agentServiceAccountName" -}}
{{- if .Values.agent.serviceAccount.create }}
{{- default (include "vfio-operator.agentName" .) .Values.agent.serviceAccount.name }}
{{- else }}
{{- required "agent.serviceAccount.name is required when agent.serviceAccount.create is false" .Values.agent.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "vfio-operator.image" -}}
{{- printf "%s:%s" .image.repository (default .chart.AppVersion .image.tag) }}
{{- end }}

{{/* Where the agent mounts a claim; the agent finds it there through VFIO_STORAGE_CLAIMS. */}}
{{- define "vfio-operator.claimPath" -}}
{{- printf "/var/lib/vfio-operator/claims/%s" . }}
{{- end }}

{{/* The PVC behind a claim: the one named by existingClaim, or the one the chart creates. */}}
{{- define "vfio-operator.claimPvc" -}}
{{- default .name .existingClaim }}
{{- end }}

{{/* VFIO_STORAGE_CLAIMS as the agent reads it: name=/path,name=/path (AgentConfig). */}}
{{- define "vfio-operator.storageClaimsEnv" -}}
{{- $entries := list }}
{{- range .Values.storage.claims }}
{{- $entries = append $entries (printf "%s=%s" .name (include "vfio-operator.claimPath" .name)) }}
{{- end }}
{{- join "," $entries }}
{{- end }}

{{/* The default claim, checked against the list so that a typo fails the install, not every snapshot. */}}
{{- define "vfio-operator.defaultClaim" -}}
{{- $names := list }}
{{- range .Values.storage.claims }}
{{- $names = append $names .name }}
{{- end }}
{{- if ne (len $names) (len (uniq $names)) }}
{{- fail (printf "storage.claims: every claim needs its own name, got %s" (join ", " $names)) }}
{{- end }}
{{- $default := default (first $names) .Values.storage.defaultClaim }}
{{- if not (has $default $names) }}
{{- fail (printf "storage.defaultClaim %q is not one of storage.claims (%s)" $default (join ", " $names)) }}
{{- end }}
{{- $default }}
{{- end }}

{{/* The Secret of the migration streams' certificates, which the operator keeps and the agents read. */}}
{{- define "vfio-operator.transportSecret" -}}
{{- default (printf "%s-transport" (include "vfio-operator.fullname" .)) .Values.transport.secretName }}
{{- end }}

{{/* The Secret of the key that seals blobs, which the operator makes and the agents mount. */}}
{{- define "vfio-operator.blobKeySecret" -}}
{{- default (printf "%s-blob-key" (include "vfio-operator.fullname" .)) .Values.blobs.keySecretName }}
{{- end }}

{{/* Annotations for a Prometheus that discovers pods by annotation; . is the port. */}}
{{- define "vfio-operator.scrapeAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ . | quote }}
prometheus.io/path: /metrics
{{- end }}
