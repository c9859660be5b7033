{{/* Chart name, truncated to the DNS label limit. */}}
{{- define "fieldvault.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-qualified name: <release>-fieldvault, or the release name when it contains the chart name. */}}
{{- define "fieldvault.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels every pod of the release carries; the default-deny policy selects them. */}}
{{- define "fieldvault.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "fieldvault.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Selector labels of one component. Call with (dict "root" $ "component" "identity"). */}}
{{- define "fieldvault.selectorLabels" -}}
{{ include "fieldvault.releaseSelectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Standard labels. Call with (dict "root" $ "component" "identity"). */}}
{{- define "fieldvault.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "fieldvault.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: fieldvault
{{- end -}}

{{/* Name of a component's objects: <fullname>-<component>. */}}
{{- define "fieldvault.componentName" -}}
{{- printf "%s-%s" (include "fieldvault.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
What the chart knows about each component: values key, Python module, env
prefix, port, protocol, whether it owns a database or uses Vault, and whom it
calls (which fixes who may call it: NetworkPolicy ingress is the inverse).
*/}}
{{- define "fieldvault.components" -}}
identity:
  key: identity
  module: identity
  envPrefix: FIELDVAULT_IDENTITY_
  protocol: grpc
  port: 17001
  database: true
  vault: true
  calls: []
customer-vault:
  key: customerVault
  module: customer_vault
  envPrefix: FIELDVAULT_CUSTOMER_VAULT_
  protocol: grpc
  port: 17002
  database: true
  vault: true
  calls: [identity]
work-order:
  key: workOrder
  module: work_order
  envPrefix: FIELDVAULT_WORK_ORDER_
  protocol: grpc
  port: 17003
  database: true
  vault: false
  calls: [identity, customer-vault]
notification:
  key: notification
  module: notification
  envPrefix: FIELDVAULT_NOTIFICATION_
  protocol: grpc
  port: 17004
  database: true
  vault: false
  calls: [identity]
gateway:
  key: gateway
  module: gateway
  envPrefix: FIELDVAULT_GATEWAY_
  protocol: http
  port: 8080
  database: false
  vault: false
  calls: [identity, customer-vault, work-order, notification]
{{- end -}}

{{/* Image reference. Call with (dict "root" $ "image" .Values.identity.image). */}}
{{- define "fieldvault.image" -}}
{{- $g := .root.Values.global.image -}}
{{- $tag := .image.tag | default $g.tag | default .root.Chart.AppVersion -}}
{{- if $g.registry -}}
{{- printf "%s/%s:%s" $g.registry .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Pod security context shared by every pod of the chart. */}}
{{- define "fieldvault.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container security context shared by every container of the chart. */}}
{{- define "fieldvault.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* An env var from an existing Secret key. Call with (list "NAME" secretName key). */}}
{{- define "fieldvault.secretEnv" -}}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ index . 1 | quote }}
      key: {{ index . 2 | quote }}
{{- end -}}

{{/* A NetworkPolicy port list of TCP ports. */}}
{{- define "fieldvault.tcpPorts" -}}
{{- range $i, $port := . }}
{{- if $i }}{{ "\n" }}{{ end -}}
- protocol: TCP
  port: {{ $port }}
{{- end }}
{{- end -}}
