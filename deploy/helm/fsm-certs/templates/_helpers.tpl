{{/*
Names. Objects are called <fullname>-<app> (fullname: the release name, or
<release>-fsm-certs when the release name does not contain "fsm-certs"). Two names are fixed by
the apps themselves: the Service `issuer-gateway` (the gateway's certificate is for
issuer-gateway.<namespace>.svc) and the key-encryption-key Secret `fsm-certs-kek`.
*/}}
{{- define "fsm-certs.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "fsm-certs.name" -}}
{{- printf "%s-%s" (include "fsm-certs.fullname" .root) .app -}}
{{- end -}}

{{- define "fsm-certs.gatewayServiceName" -}}issuer-gateway{{- end -}}
{{- define "fsm-certs.kekSecretName" -}}fsm-certs-kek{{- end -}}
{{- define "fsm-certs.kekSecretKey" -}}kek{{- end -}}

{{- define "fsm-certs.chartLabel" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" -}}
{{- end -}}

{{/* Labels of every object; call with (dict "root" $ "app" "<component>"). */}}
{{- define "fsm-certs.labels" -}}
helm.sh/chart: {{ include "fsm-certs.chartLabel" .root }}
app.kubernetes.io/name: fsm-certs
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: fsm-certs
{{- if .app }}
app.kubernetes.io/component: {{ .app }}
{{- end }}
{{- end -}}

{{- define "fsm-certs.selectorLabels" -}}
app.kubernetes.io/name: fsm-certs
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .app }}
{{- end -}}

{{- define "fsm-certs.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The service-certificate validity: the two spellings in FSM's documentation, which must agree. */}}
{{- define "fsm-certs.serviceCertValidity" -}}
{{- $nested := .Values.fsm.certificateProvider.serviceCertValidityDuration | default "" -}}
{{- $flat := .Values.fsm.serviceCertValidityDuration | default "" -}}
{{- if and $flat $nested (ne $flat $nested) (ne $nested "24h") -}}
{{- fail (printf "fsm.serviceCertValidityDuration=%s and fsm.certificateProvider.serviceCertValidityDuration=%s disagree: set only one of them" $flat $nested) -}}
{{- end -}}
{{- $flat | default $nested | default "24h" -}}
{{- end -}}

{{/* Provider settings that need each other; the schema checks each value alone. */}}
{{- define "fsm-certs.validate" -}}
{{- $fsm := .Values.fsm -}}
{{- $_ := include "fsm-certs.serviceCertValidity" . -}}
{{- if eq $fsm.certificateProvider.kind "vault" -}}
{{- if not $fsm.vault.host -}}
{{- fail "fsm.vault.host is required with fsm.certificateProvider.kind=vault (e.g. --set fsm.vault.host=vault.fsm-system.svc.cluster.local)" -}}
{{- end -}}
{{- if and (not $fsm.vault.token) (not (and $fsm.vault.secret.name $fsm.vault.secret.key)) -}}
{{- fail "fsm.certificateProvider.kind=vault needs a Vault token: set fsm.vault.token, or both fsm.vault.secret.name and fsm.vault.secret.key (a Secret in the release namespace)" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.vaultBootstrap.enabled (ne $fsm.certificateProvider.kind "vault") -}}
{{- fail "vaultBootstrap.enabled=true only applies with fsm.certificateProvider.kind=vault" -}}
{{- end -}}
{{- if and .Values.redis.url .Values.redis.existingUrlSecret.name -}}
{{- fail "set only one of redis.url and redis.existingUrlSecret.name" -}}
{{- end -}}
{{- if and .Values.redis.existingUrlSecret.name (not .Values.redis.existingUrlSecret.key) -}}
{{- fail "redis.existingUrlSecret.key is required with redis.existingUrlSecret.name" -}}
{{- end -}}
{{- if and .Values.keyEncryptionKey.existingSecret.name (not .Values.keyEncryptionKey.existingSecret.key) -}}
{{- fail "keyEncryptionKey.existingSecret.key is required with keyEncryptionKey.existingSecret.name" -}}
{{- end -}}
{{- end -}}

{{- define "fsm-certs.deployRedis" -}}
{{- if and (not .Values.redis.url) (not .Values.redis.existingUrlSecret.name) -}}true{{- end -}}
{{- end -}}

{{- define "fsm-certs.redisPasswordSecretName" -}}{{ include "fsm-certs.name" (dict "root" . "app" "redis") }}{{- end -}}
{{- define "fsm-certs.redisUrlSecretName" -}}{{ include "fsm-certs.name" (dict "root" . "app" "redis-url") }}{{- end -}}
{{- define "fsm-certs.adminTokenSecretName" -}}
{{- .Values.auth.adminToken.existingSecret | default (include "fsm-certs.name" (dict "root" . "app" "admin-token")) -}}
{{- end -}}
{{- define "fsm-certs.tokensSecretName" -}}
{{- .Values.auth.existingTokensSecret | default (include "fsm-certs.name" (dict "root" . "app" "gateway-tokens")) -}}
{{- end -}}
{{- define "fsm-certs.vaultTokenSecretName" -}}{{ include "fsm-certs.name" (dict "root" . "app" "vault-token") }}{{- end -}}

{{/* REDIS_URL (and the password it refers to) for every app that talks to Redis. */}}
{{- define "fsm-certs.redisEnv" -}}
{{- if include "fsm-certs.deployRedis" . }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "fsm-certs.redisPasswordSecretName" . }}
      key: password
# Kubernetes expands $(REDIS_PASSWORD) from the variable above; the password is alphanumeric.
- name: REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s.%s.svc:6379" (include "fsm-certs.name" (dict "root" . "app" "redis")) .Release.Namespace | quote }}
{{- else if .Values.redis.existingUrlSecret.name }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingUrlSecret.name }}
      key: {{ .Values.redis.existingUrlSecret.key }}
{{- else }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "fsm-certs.redisUrlSecretName" . }}
      key: url
{{- end }}
- name: FSM_REDIS_PREFIX
  value: {{ .Values.redis.prefix | quote }}
{{- end -}}

{{/* Settings every long-running app shares. */}}
{{- define "fsm-certs.commonEnv" -}}
- name: FSM_NAMESPACE
  value: {{ .Release.Namespace | quote }}
- name: FSM_SECRET_STORE
  value: kubernetes
- name: FSM_TRUST_DOMAIN
  value: {{ .Values.fsm.trustDomain | quote }}
- name: FSM_CA_BUNDLE_SECRET_NAME
  value: {{ .Values.fsm.caBundleSecretName | quote }}
- name: FSM_SERVICE_CERT_VALIDITY
  value: {{ include "fsm-certs.serviceCertValidity" . | quote }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{ include "fsm-certs.redisEnv" . | trim }}
{{- end -}}

{{/* The key-encryption key: from the operator's Secret as env, else read from fsm-certs-kek by the app. */}}
{{- define "fsm-certs.kekEnv" -}}
{{- if .Values.keyEncryptionKey.existingSecret.name }}
- name: FSM_KEY_ENCRYPTION_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.keyEncryptionKey.existingSecret.name }}
      key: {{ .Values.keyEncryptionKey.existingSecret.key }}
{{- end }}
{{- end -}}

{{/* Vault connection settings (ca-service and vault-bootstrap). `bootstrap` reads the token as env only. */}}
{{- define "fsm-certs.vaultEnv" -}}
{{- $vault := .root.Values.fsm.vault -}}
- name: VAULT_HOST
  value: {{ $vault.host | quote }}
- name: VAULT_PORT
  value: {{ $vault.port | toString | quote }}
- name: VAULT_PROTOCOL
  value: {{ $vault.protocol | quote }}
- name: VAULT_ROLE
  value: {{ $vault.role | quote }}
{{- if $vault.token }}
- name: VAULT_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ if .bootstrap }}{{ include "fsm-certs.name" (dict "root" .root "app" "vault-bootstrap") }}{{ else }}{{ include "fsm-certs.vaultTokenSecretName" .root }}{{ end }}
      key: token
{{- else if .bootstrap }}
- name: VAULT_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $vault.secret.name }}
      key: {{ $vault.secret.key }}
{{- else }}
- name: VAULT_TOKEN_SECRET_NAME
  value: {{ $vault.secret.name | quote }}
- name: VAULT_TOKEN_SECRET_KEY
  value: {{ $vault.secret.key | quote }}
{{- end }}
{{- if .root.Values.vaultTLS.caSecret.name }}
- name: VAULT_CACERT
  value: /etc/fsm-certs/vault-ca/ca.crt
{{- end }}
{{- end -}}

{{- define "fsm-certs.vaultCaVolume" -}}
{{- if .Values.vaultTLS.caSecret.name }}
- name: vault-ca
  secret:
    secretName: {{ .Values.vaultTLS.caSecret.name }}
    items:
      - key: {{ .Values.vaultTLS.caSecret.key }}
        path: ca.crt
{{- end }}
{{- end -}}

{{- define "fsm-certs.vaultCaMount" -}}
{{- if .Values.vaultTLS.caSecret.name }}
- name: vault-ca
  mountPath: /etc/fsm-certs/vault-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by every app; call with (dict "root" $ "app" "<name>" "spec" .Values.<app>). */}}
{{- define "fsm-certs.podScheduling" -}}
{{- with .spec.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .spec.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .spec.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .root.Values.topologySpread.enabled }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "fsm-certs.selectorLabels" . | nindent 8 }}
    matchLabelKeys: [pod-template-hash]
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "fsm-certs.selectorLabels" . | nindent 8 }}
    matchLabelKeys: [pod-template-hash]
{{- end }}
{{- end -}}

{{- define "fsm-certs.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
