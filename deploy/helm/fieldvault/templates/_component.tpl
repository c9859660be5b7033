{{/*
One component: ServiceAccount, Service, Deployment, PodDisruptionBudget,
HorizontalPodAutoscaler (optional) and its NetworkPolicy.
Call with (dict "root" $ "name" "identity").
*/}}
{{- define "fieldvault.component" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $components := fromYaml (include "fieldvault.components" $root) -}}
{{- $spec := index $components $name -}}
{{- $v := index $root.Values $spec.key -}}
{{- $ctx := dict "root" $root "component" $name -}}
{{- $fullname := include "fieldvault.componentName" $ctx -}}
{{- $np := $root.Values.networkPolicy -}}
{{- $metrics := and $spec.metrics $root.Values.global.metrics.enabled -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $fullname }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "fieldvault.labels" $ctx | nindent 4 }}
# Only the Vault users present a ServiceAccount token (Vault Kubernetes auth).
automountServiceAccountToken: {{ $spec.vault }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $fullname }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "fieldvault.labels" $ctx | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "fieldvault.selectorLabels" $ctx | nindent 4 }}
  ports:
    - name: {{ $spec.protocol }}
      port: {{ $spec.port }}
      targetPort: {{ $spec.protocol }}
      protocol: TCP
      {{- if eq $spec.protocol "grpc" }}
      appProtocol: grpc
      {{- end }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullname }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "fieldvault.labels" $ctx | nindent 4 }}
  {{- if $spec.vault }}
  annotations:
    checkov.io/skip1: CKV_K8S_38=The ServiceAccount token is this service's Vault Kubernetes auth credential
  {{- end }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "fieldvault.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "fieldvault.labels" $ctx | nindent 8 }}
      {{- with $v.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ $fullname }}
      automountServiceAccountToken: {{ $spec.vault }}
      enableServiceLinks: false
      securityContext:
        {{- include "fieldvault.podSecurityContext" $root | nindent 8 }}
      {{- with $root.Values.global.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      terminationGracePeriodSeconds: 30
      containers:
        - name: {{ $name }}
          image: {{ include "fieldvault.image" (dict "root" $root "image" $v.image) | quote }}
          imagePullPolicy: {{ $root.Values.global.image.pullPolicy }}
          command: [python, -m, {{ $spec.module }}{{ with $spec.subcommand }}, {{ . }}{{ end }}]
          ports:
            - name: {{ $spec.protocol }}
              containerPort: {{ $spec.port }}
              protocol: TCP
            {{- if $metrics }}
            {{- /* Scraped from the pod (a PodMonitor, port `metrics`): no Service,
            Ingress or HTTPRoute exposes it. */}}
            - name: metrics
              containerPort: {{ $root.Values.global.metrics.port }}
              protocol: TCP
            {{- end }}
          env:
            {{- include "fieldvault.env" (dict "root" $root "name" $name "spec" $spec "values" $v) | nindent 12 }}
          {{- if eq $spec.protocol "grpc" }}
          startupProbe:
            grpc: {port: {{ $spec.port }}}
            periodSeconds: 2
            failureThreshold: 30
          readinessProbe:
            grpc: {port: {{ $spec.port }}}
            periodSeconds: 5
            failureThreshold: 2
          livenessProbe:
            grpc: {port: {{ $spec.port }}}
            periodSeconds: 10
            failureThreshold: 3
          {{- else }}
          startupProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 2
            failureThreshold: 30
          readinessProbe:
            httpGet: {path: /readyz, port: http}
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          livenessProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 10
            failureThreshold: 3
          {{- end }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- include "fieldvault.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
      {{- if $root.Values.global.topologySpread.enabled }}
      topologySpreadConstraints:
        {{- range $key := list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
        - maxSkew: {{ $root.Values.global.topologySpread.maxSkew }}
          topologyKey: {{ $key }}
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "fieldvault.selectorLabels" $ctx | nindent 14 }}
        {{- end }}
      {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $fullname }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "fieldvault.labels" $ctx | nindent 4 }}
spec:
  minAvailable: {{ $v.podDisruptionBudget.minAvailable }}
  selector:
    matchLabels:
      {{- include "fieldvault.selectorLabels" $ctx | nindent 6 }}
{{- if $v.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $fullname }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "fieldvault.labels" $ctx | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $fullname }}
  minReplicas: {{ $v.autoscaling.minReplicas }}
  maxReplicas: {{ $v.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $v.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- if $np.enabled }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $fullname }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "fieldvault.labels" $ctx | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "fieldvault.selectorLabels" $ctx | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    {{- /* Peers that call this component, from the same namespace only. */}}
    {{- $callers := list -}}
    {{- range $other, $otherSpec := $components }}
    {{- if has $name $otherSpec.calls }}
    {{- $callers = append $callers $other }}
    {{- end }}
    {{- end }}
    {{- if $spec.public }}
    {{- if $root.Values.tests.enabled }}
    {{- $callers = append $callers "test" }}
    {{- end }}
    {{- /* The ingress controller (or Gateway API implementation) routes to the public components. */}}
    {{- with $np.gatewayIngressFrom }}
    - from:
        {{- toYaml . | nindent 8 }}
      ports:
        {{- include "fieldvault.tcpPorts" (list $spec.port) | nindent 8 }}
    {{- end }}
    {{- end }}
    {{- if $metrics }}
    {{- with $np.metricsScrapeFrom }}
    - from:
        {{- toYaml . | nindent 8 }}
      ports:
        {{- include "fieldvault.tcpPorts" (list $root.Values.global.metrics.port) | nindent 8 }}
    {{- end }}
    {{- end }}
    {{- range $caller := $callers }}
    - from:
        - podSelector:
            matchLabels:
              {{- include "fieldvault.selectorLabels" (dict "root" $root "component" $caller) | nindent 14 }}
      ports:
        {{- include "fieldvault.tcpPorts" (list $spec.port) | nindent 8 }}
    {{- end }}
  egress:
    {{- range $peer := $spec.calls }}
    - to:
        - podSelector:
            matchLabels:
              {{- include "fieldvault.selectorLabels" (dict "root" $root "component" $peer) | nindent 14 }}
      ports:
        {{- include "fieldvault.tcpPorts" (list (index $components $peer).port) | nindent 8 }}
    {{- end }}
    {{- include "fieldvault.egressRule" $np.nats }}
    {{- if $spec.traces }}
    {{- include "fieldvault.egressRule" $np.otlp }}
    {{- end }}
    {{- if $spec.database }}
    {{- include "fieldvault.egressRule" (dict "to" ($v.database.networkPolicyTo | default $np.postgresql.to) "ports" $np.postgresql.ports) }}
    {{- end }}
    {{- if $spec.vault }}
    {{- include "fieldvault.egressRule" $np.vault }}
    {{- end }}
    {{- if eq $name "notification" }}
    {{- include "fieldvault.egressRule" $np.notificationDestinations }}
    {{- end }}
{{- end }}
{{- end -}}

{{/* An egress rule to {to: [peers], ports: [tcp ports]}; nothing at all when there are no peers (never "anywhere"). */}}
{{- define "fieldvault.egressRule" -}}
{{- if .to }}
    - to:
        {{- toYaml .to | nindent 8 }}
      ports:
        {{- include "fieldvault.tcpPorts" .ports | nindent 8 }}
{{- end }}
{{- end -}}
