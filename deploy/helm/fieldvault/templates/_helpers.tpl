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
What the chart knows about each component: values key, Python module and the
subcommand that serves (none: `python -m <module>` serves), env prefix, port,
protocol, whether it owns a database or uses Vault, whether it serves metrics
on global.metrics.port and exports traces, whether it is public (the ingress
controller may reach it: networkPolicy.gatewayIngressFrom), and whom it calls
(which fixes who may call it: NetworkPolicy ingress is the inverse).
*/}}
{{- define "fieldvault.components" -}}
identity:
  key: identity
  module: identity
  envPrefix: FIELDVAULT_IDENTITY_
  subcommand: serve
  protocol: grpc
  port: 17001
  database: true
  vault: true
  metrics: true
  traces: true
  public: false
  calls: []
customer-vault:
  key: customerVault
  module: customer_vault
  envPrefix: FIELDVAULT_CUSTOMER_VAULT_
  subcommand: serve
  protocol: grpc
  port: 17002
  database: true
  vault: true
  metrics: true
  traces: true
  public: false
  calls: [identity]
work-order:
  key: workOrder
  module: work_order
  envPrefix: FIELDVAULT_WORK_ORDER_
  subcommand: serve
  protocol: grpc
  port: 17003
  database: true
  vault: false
  metrics: true
  traces: true
  public: false
  calls: [identity, customer-vault]
notification:
  key: notification
  module: notification
  envPrefix: FIELDVAULT_NOTIFICATION_
  subcommand: serve
  protocol: grpc
  port: 17004
  database: true
  vault: false
  metrics: true
  traces: true
  public: false
  calls: [identity, customer-vault]
gateway:
  key: gateway
  module: gateway
  subcommand: serve
  envPrefix: FIELDVAULT_GATEWAY_
  protocol: http
  port: 8080
  database: false
  vault: false
  metrics: true
  traces: true
  public: true
  calls: [identity, customer-vault, work-order, notification]
{{- /* The field app: pages over the gateway's REST API, sessions in NATS. It
serves no metrics and exports no traces (yet), and reaches nothing else. */}}
web:
  key: web
  module: web
  envPrefix: FIELDVAULT_WEB_
  protocol: http
  port: 8080
  database: false
  vault: false
  metrics: false
  traces: false
  public: true
  calls: [gateway]
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

{{/*
The gateway's public paths (the REST API, its keys, its description, its
probes); every other path is the web app's. `prefix`: the path and everything
under it (/v1 matches /v1/… but not /v10), otherwise exactly the path.
*/}}
{{- define "fieldvault.gatewayPaths" -}}
- {path: /v1, prefix: true}
- {path: /.well-known, prefix: true}
- {path: /openapi.json, prefix: false}
- {path: /docs, prefix: true}
- {path: /redoc, prefix: false}
- {path: /healthz, prefix: false}
- {path: /readyz, prefix: false}
{{- end -}}
