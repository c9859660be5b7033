{{/*
Environment of one component (its server and its migration Job alike).
Call with (dict "root" $ "name" "identity" "spec" <component spec> "values" <component values>),
plus "migration" true for a migration Job (its database URL may be the owner's).
Secrets come only from existing Secrets (secretKeyRef); nothing secret is inlined.
*/}}
{{- define "fieldvault.env" -}}
{{- if eq .name "web" -}}
{{ include "fieldvault.webEnv" . }}
{{- else -}}
{{ include "fieldvault.serviceEnv" . }}
{{- end -}}
{{- with .values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* NATS_URL of a component (the URL, or the Secret holding it with credentials) and
the JetStream replication of the streams and buckets it creates. */}}
{{- define "fieldvault.natsEnv" -}}
{{- $nats := .root.Values.global.nats -}}
{{- if $nats.credentialsSecret.name -}}
{{ include "fieldvault.secretEnv" (list (printf "%sNATS_URL" .spec.envPrefix) $nats.credentialsSecret.name $nats.credentialsSecret.key) }}
{{- else -}}
- name: {{ .spec.envPrefix }}NATS_URL
  value: {{ $nats.url | quote }}
{{- end }}
- name: {{ .spec.envPrefix }}NATS_REPLICAS
  value: {{ $nats.replicas | quote }}
{{- end -}}

{{/*
The field app's environment: where it listens, the gateway it calls (its
in-cluster Service, over the same REST API as any client), NATS for the
session bucket and the session lifetimes. No token issuer, database or Vault.
*/}}
{{- define "fieldvault.webEnv" -}}
{{- $root := .root -}}
{{- $v := .values -}}
{{- $p := .spec.envPrefix -}}
{{- $gateway := index (fromYaml (include "fieldvault.components" $root)) "gateway" -}}
- name: FIELDVAULT_ENVIRONMENT
  value: {{ $root.Values.global.environment | quote }}
- name: {{ $p }}LOG_LEVEL
  value: {{ $root.Values.global.logLevel | quote }}
- name: {{ $p }}HOST
  value: 0.0.0.0
- name: {{ $p }}PORT
  value: {{ .spec.port | quote }}
- name: {{ $p }}GATEWAY_URL
  value: {{ printf "http://%s:%v" (include "fieldvault.componentName" (dict "root" $root "component" "gateway")) $gateway.port | quote }}
{{ include "fieldvault.natsEnv" . }}
- name: {{ $p }}SESSION_IDLE_MINUTES
  value: {{ $v.session.idleMinutes | quote }}
- name: {{ $p }}SESSION_ABSOLUTE_HOURS
  value: {{ $v.session.absoluteHours | quote }}
{{- end -}}

{{/* The environment of the five backend services (gateway included). */}}
{{- define "fieldvault.serviceEnv" -}}
{{- $root := .root -}}
{{- $g := $root.Values.global -}}
{{- $v := .values -}}
{{- $p := .spec.envPrefix -}}
{{- $name := .name -}}
- name: FIELDVAULT_ENVIRONMENT
  value: {{ $g.environment | quote }}
- name: {{ $p }}LOG_LEVEL
  value: {{ $g.logLevel | quote }}
- name: {{ $p }}TOKEN_ISSUER
  value: {{ $g.tokenIssuer | quote }}
{{ include "fieldvault.natsEnv" . }}
- name: OTEL_SERVICE_NAME
  value: {{ $name | quote }}
{{- if $g.otlp.endpoint }}
- name: OTEL_TRACES_EXPORTER
  value: otlp
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $g.otlp.endpoint | quote }}
{{- else }}
- name: OTEL_TRACES_EXPORTER
  value: none
{{- end }}
{{- if eq .spec.protocol "grpc" }}
- name: {{ $p }}GRPC_HOST
  value: 0.0.0.0
- name: {{ $p }}GRPC_PORT
  value: {{ .spec.port | quote }}
{{- else }}
- name: {{ $p }}HTTP_HOST
  value: 0.0.0.0
- name: {{ $p }}HTTP_PORT
  value: {{ .spec.port | quote }}
{{- end }}
{{- if and .spec.metrics $g.metrics.enabled }}
- name: {{ $p }}METRICS_PORT
  value: {{ $g.metrics.port | quote }}
{{- end }}
{{- if .spec.database }}
{{- $migrationSecret := "" }}
{{- if .migration }}{{ with $v.database.migration }}{{ $migrationSecret = .secretName }}{{ end }}{{ end }}
{{- if $migrationSecret }}
{{- /* The migration Job as the tables' owner; it grants the runtime role its privileges. */}}
{{ include "fieldvault.secretEnv" (list (printf "%sDATABASE_URL" $p) $migrationSecret $v.database.migration.secretKey) }}
- name: {{ $p }}RUNTIME_DATABASE_ROLE
  value: {{ required (printf "%s.database.runtimeRole is required with database.migration.secretName" .spec.key) $v.database.runtimeRole | quote }}
{{- else }}
{{ include "fieldvault.secretEnv" (list (printf "%sDATABASE_URL" $p) (required (printf "%s.database.secretName is required" .spec.key) $v.database.secretName) $v.database.secretKey) }}
{{- end }}
{{- end }}
{{- if .spec.vault }}
- name: {{ $p }}VAULT_ADDR
  value: {{ required "global.vault.addr is required" $g.vault.addr | quote }}
- name: {{ $p }}VAULT_AUTH_METHOD
  value: kubernetes
- name: {{ $p }}VAULT_KUBERNETES_ROLE
  value: {{ required (printf "%s.vault.role is required" .spec.key) $v.vault.role | quote }}
- name: {{ $p }}VAULT_KUBERNETES_JWT_PATH
  value: /var/run/secrets/kubernetes.io/serviceaccount/token
{{- end }}
{{- range $peer := .spec.calls }}
{{- $peerSpec := index (fromYaml (include "fieldvault.components" $root)) $peer }}
- name: {{ $p }}{{ $peerSpec.module | upper }}_ADDR
  value: {{ printf "%s:%v" (include "fieldvault.componentName" (dict "root" $root "component" $peer)) $peerSpec.port | quote }}
{{- end }}
{{- if has $name (list "customer-vault" "work-order" "notification") }}
{{ include "fieldvault.secretEnv" (list (printf "%sSERVICE_ACCOUNT_SECRET" $p) (required (printf "%s.serviceAccountSecret.secretName is required" .spec.key) $v.serviceAccountSecret.secretName) $v.serviceAccountSecret.secretKey) }}
{{- end }}
{{- if and (has $name (list "identity" "notification")) $g.operatorToken.sha256Secret.name }}
{{ include "fieldvault.secretEnv" (list (printf "%sOPERATOR_TOKEN_SHA256" $p) $g.operatorToken.sha256Secret.name $g.operatorToken.sha256Secret.key) }}
{{- end }}
{{- if eq $name "identity" }}
{{ include "fieldvault.secretEnv" (list (printf "%sSERVICE_ACCOUNT_SECRETS_SHA256" $p) (required "identity.serviceAccountSecretsSha256.secretName is required" $v.serviceAccountSecretsSha256.secretName) $v.serviceAccountSecretsSha256.secretKey) }}
- name: {{ $p }}PUBLIC_BASE_URL
  value: {{ $v.publicBaseUrl | quote }}
{{- end }}
{{- if eq $name "notification" }}
{{ include "fieldvault.secretEnv" (list (printf "%sWEBHOOK_SECRET_KEY" $p) (required "notification.webhookSecretKey.secretName is required" $v.webhookSecretKey.secretName) $v.webhookSecretKey.secretKey) }}
- name: {{ $p }}APP_BASE_URL
  value: {{ $v.appBaseUrl | quote }}
- name: {{ $p }}EMAIL_TRANSPORT
  value: smtp
- name: {{ $p }}SMTP_HOST
  value: {{ $v.smtp.host | quote }}
- name: {{ $p }}SMTP_PORT
  value: {{ $v.smtp.port | quote }}
- name: {{ $p }}SMTP_SECURITY
  value: {{ $v.smtp.security | quote }}
- name: {{ $p }}SMTP_USERNAME
  value: {{ $v.smtp.username | quote }}
- name: {{ $p }}MAIL_FROM
  value: {{ $v.smtp.mailFrom | quote }}
{{- if $v.smtp.passwordSecret.name }}
{{ include "fieldvault.secretEnv" (list (printf "%sSMTP_PASSWORD" $p) $v.smtp.passwordSecret.name $v.smtp.passwordSecret.key) }}
{{- end }}
{{- if $v.sms.gatewayUrl }}
- name: {{ $p }}SMS_GATEWAY_URL
  value: {{ $v.sms.gatewayUrl | quote }}
- name: {{ $p }}SMS_SENDER
  value: {{ $v.sms.sender | quote }}
{{- if $v.sms.tokenSecret.name }}
{{ include "fieldvault.secretEnv" (list (printf "%sSMS_GATEWAY_TOKEN" $p) $v.sms.tokenSecret.name $v.sms.tokenSecret.key) }}
{{- end }}
{{- end }}
{{- end }}
{{- if eq $name "gateway" }}
{{- /* One rate-limit budget for all gateway replicas, in a NATS key-value bucket. */}}
- name: {{ $p }}RATE_LIMIT_STORE
  value: nats
{{- with $v.trustedProxies }}
- name: {{ $p }}TRUSTED_PROXIES
  value: {{ join "," . | quote }}
{{- end }}
{{- with $v.corsOrigins }}
- name: {{ $p }}CORS_ORIGINS
  value: {{ join "," . | quote }}
{{- end }}
{{- end }}
{{- end -}}
