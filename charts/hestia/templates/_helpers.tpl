{{/* The chart's name, and the objects' full name (the release name, with "-hestia" unless it has it). */}}
{{- define "hestia.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "hestia.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "hestia.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "hestia.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "hestia.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "hestia.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: set it to an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "hestia.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hestia.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "hestia.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "hestia.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
What the operator does in the namespaces it watches, and nothing more: the same rules as deploy/rbac/role.yaml
(test/unit/helm-chart.test.ts compares them). It never writes workloads: it reads them, and reports on them
through Events.
*/}}
{{- define "hestia.namespacedRules" -}}
- apiGroups: [e2e.stakater.com]
  resources: [runners]
  verbs: [get, list, watch, patch, update]
- apiGroups: [e2e.stakater.com]
  resources: [runners/status]
  verbs: [get, patch, update]
# Jobs carry a blockOwnerDeletion ownerReference to their Runner: where OwnerReferencesPermissionEnforcement is
# on (OpenShift), that needs update on the owner's finalizers. The operator adds no finalizers.
- apiGroups: [e2e.stakater.com]
  resources: [runners/finalizers]
  verbs: [update]
# Notifications: Destinations and Notifications are read, never written but for their status.
- apiGroups: [e2e.stakater.com]
  resources: [destinations, notifications]
  verbs: [get, list, watch]
- apiGroups: [e2e.stakater.com]
  resources: [destinations/status, notifications/status]
  verbs: [get, patch, update]
# The one Secret a Destination names, read by name when delivering: never listed or watched.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
# deletecollection: the history limits delete the finished Jobs of one namespace in one request, by a selector naming them.
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, delete, deletecollection]
# The pods of a finished Job, listed once per failed run or run with spec.testResults: the failed container's
# termination message, whether the infrastructure ended the run (result Error), a report in the termination message.
- apiGroups: [""]
  resources: [pods]
  verbs: [list]
# spec.testResults from Log: the report container's log, read once per finished run.
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
# A run ended by its deadline whose pods are all gone: the scheduler's FailedScheduling Events say why.
- apiGroups: [""]
  resources: [events]
  verbs: [list]
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets]
  verbs: [get, list, watch]
- apiGroups: [apps.openshift.io]
  resources: [deploymentconfigs]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end }}

{{/* Read access to the kinds of rbac.extraWatchedResources (spec.resources): read verbs only. */}}
{{- define "hestia.extraWatchedRules" -}}
{{- range .Values.rbac.extraWatchedResources }}
- apiGroups: {{ toJson .apiGroups }}
  resources: {{ toJson .resources }}
  verbs: [get, list, watch]
{{- end }}
{{- end }}

{{/* Cluster-scoped reads, granted only when the operator watches every namespace. */}}
{{- define "hestia.clusterScopedRules" -}}
# namespaceSelector, and every namespace being a place selectors look.
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch]
# To notice the DeploymentConfig API appearing (or going) on a running cluster.
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [get, list, watch]
{{- end }}
