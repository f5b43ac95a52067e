{{/*
Names, labels and the pieces every pod shares. Checks of the values are in _validate.tpl.
*/}}

{{- define "schakel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 30 | trimSuffix "-" -}}
{{- end -}}

{{/* The name prefix of every object: at most 30 characters, so that "-vroegsignalering" and
the StatefulSet's pod suffix still fit a 63-character DNS label. */}}
{{- define "schakel.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 30 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 30 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 30 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object: the release's (schakel.releaseLabels) and the name and instance. */}}
{{- define "schakel.labels" -}}
{{ include "schakel.releaseLabels" . }}
app.kubernetes.io/name: {{ include "schakel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "schakel.releaseLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: schakel
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "worker"). */}}
{{- define "schakel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "schakel.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}


{{/* The settings every process shares (the ConfigMap's data), as a YAML map. */}}
{{- define "schakel.config" -}}
SCHAKEL_PROFILE: production
SCHAKEL_KAFKA_BOOTSTRAP: {{ .Values.config.kafkaBootstrap | quote }}
SCHAKEL_KAFKA_SECURITY_PROTOCOL: {{ .Values.config.kafkaSecurityProtocol | quote }}
{{- if hasPrefix "SASL_" .Values.config.kafkaSecurityProtocol }}
SCHAKEL_KAFKA_SASL_MECHANISM: {{ .Values.config.kafkaSaslMechanism | quote }}
SCHAKEL_KAFKA_SASL_USERNAME: {{ .Values.config.kafkaSaslUsername | quote }}
{{- end }}
{{- with .Values.secrets.kafkaTls.existingSecret }}
{{- $tls := $.Values.secrets.kafkaTls }}
{{- range $setting, $key := dict "SCHAKEL_KAFKA_CA_FILE" $tls.caKey "SCHAKEL_KAFKA_CERT_FILE" $tls.certKey "SCHAKEL_KAFKA_KEY_FILE" $tls.keyKey }}
{{- if $key }}
{{ $setting }}: /run/secrets/schakel-kafka/{{ $key }}
{{- end }}
{{- end }}
{{- end }}
SCHAKEL_SCHEMA_REGISTRY_URL: {{ .Values.config.schemaRegistryUrl | quote }}
SCHAKEL_OIN: {{ .Values.config.oin | quote }}
SCHAKEL_PARTITIONS: {{ .Values.config.partitions | int | quote }}
SCHAKEL_REPLICATION_FACTOR: {{ .Values.config.replicationFactor | int | quote }}
SCHAKEL_DATA_DIR: /var/lib/schakel
SCHAKEL_WEB_HOST: "0.0.0.0"
{{- with .Values.config.namespace }}
SCHAKEL_NAMESPACE: {{ . | quote }}
{{- end }}
{{- with .Values.secrets.schemaRegistryTls.existingSecret }}
{{- $tls := $.Values.secrets.schemaRegistryTls }}
{{- range $setting, $key := dict "SCHAKEL_SCHEMA_REGISTRY_CA_FILE" $tls.caKey "SCHAKEL_SCHEMA_REGISTRY_CERT_FILE" $tls.certKey "SCHAKEL_SCHEMA_REGISTRY_KEY_FILE" $tls.keyKey }}
{{- if $key }}
{{ $setting }}: /run/secrets/schakel-registry/{{ $key }}
{{- end }}
{{- end }}
{{- end }}
SCHAKEL_LOG_LEVEL: {{ .Values.config.logLevel | quote }}
SCHAKEL_LOG_FORMAT: json
{{- range $name, $value := .Values.config.extraEnv }}
{{ $name }}: {{ include "schakel.envValue" $value }}
{{- end }}
{{- end -}}

{{/* A value as an environment variable: quoted, a whole number without an exponent (YAML
numbers reach the templates as floats: 1048576 would print as 1.048576e+06). */}}
{{- define "schakel.envValue" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) -}}
{{ int64 . | quote }}
{{- else -}}
{{ toString . | quote }}
{{- end -}}
{{- end -}}

{{/* Pod-level settings of every pod: (dict "root" $ "component" "worker"). */}}
{{- define "schakel.podSpec" -}}
{{- $root := .root -}}
{{- /* No pod talks to the Kubernetes API. No service links: Kubernetes would set
<SERVICE>_PORT variables, and a Service named e.g. schakel-web would set SCHAKEL_WEB_PORT. */ -}}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Metadata of every pod template: (dict "root" $ "component" "worker" ["extraLabels" dict]). */}}
{{- define "schakel.podMetadata" -}}
{{- $root := .root -}}
labels:
  {{- include "schakel.releaseLabels" $root | nindent 2 }}
  {{- include "schakel.selectorLabels" . | nindent 2 }}
  {{- with .extraLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  {{- with $root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/config: {{ include "schakel.config" $root | sha256sum }}
  {{- with $root.Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* The container fields every Schakel container shares: (dict "root" $ ["tag" "..."]); the
tag defaults to image.tag, then to the chart's appVersion. */}}
{{- define "schakel.containerBase" -}}
{{- $image := .root.Values.image -}}
image: {{ $image.repository }}:{{ .tag | default $image.tag | default .root.Chart.AppVersion }}
imagePullPolicy: {{ $image.pullPolicy }}
securityContext:
  {{- toYaml .root.Values.containerSecurityContext | nindent 2 }}
{{- end -}}

{{/* Every secret under `secrets` (key: its name there) and the settings it supplies: the one
list of the chart's secrets. secrets.yaml makes a Secret of each `value`, secretEnv takes the
variable from here, and _validate.tpl refuses every name here in config.extraEnv (which every
pod reads): a secret reaches only the pods that use it. tests/unit/test_helm.py checks that
each secret field of schemas/settings.py is here. */}}
{{- define "schakel.secretSettings" -}}
pseudonymKey: [SCHAKEL_PSEUDONYM_KEY, SCHAKEL_PSEUDONYM_KEY_FILE]
apiTokens: [SCHAKEL_API_TOKENS]
webhookTokens: [SCHAKEL_WEBHOOK_TOKENS]
outboxDsn: [SCHAKEL_OUTBOX_DSN]
schemaRegistryAuth: [SCHAKEL_SCHEMA_REGISTRY_AUTH]
schemaRegistryToken: [SCHAKEL_SCHEMA_REGISTRY_TOKEN]
schemaRegistryTls: [SCHAKEL_SCHEMA_REGISTRY_CA_FILE, SCHAKEL_SCHEMA_REGISTRY_CERT_FILE, SCHAKEL_SCHEMA_REGISTRY_KEY_FILE]
kafkaSaslPassword: [SCHAKEL_KAFKA_SASL_PASSWORD, SCHAKEL_KAFKA_SASL_PASSWORD_FILE]
kafkaTls: [SCHAKEL_KAFKA_CA_FILE, SCHAKEL_KAFKA_CERT_FILE, SCHAKEL_KAFKA_KEY_FILE]
{{- end -}}

{{/* The registry's credentials (env): every process that talks to the registry (all but the
Job's `topics` step). */}}
{{- define "schakel.registrySecrets" -}}
[schemaRegistryAuth, schemaRegistryToken]
{{- end -}}

{{/* The secrets of the registration Job (a hook: it runs before the release's own Secrets
exist, so a Secret the chart makes from a `value` for it has a copy made as a hook, see
secrets.yaml): the registry's credentials (its `schemas-register` container) and the Kafka
password (its `topics` step). */}}
{{- define "schakel.setupSecrets" -}}
[schemaRegistryAuth, schemaRegistryToken, kafkaSaslPassword]
{{- end -}}

{{/* The settings of the connection to Kafka that only a process talking to Kafka gets (not the
Job's `schemas-register`, which talks only to the registry), and those of the registry's TLS
files (not the Job's `topics` step, which talks only to Kafka). */}}
{{- define "schakel.kafkaSecuritySettings" -}}
[SCHAKEL_KAFKA_SECURITY_PROTOCOL, SCHAKEL_KAFKA_SASL_MECHANISM, SCHAKEL_KAFKA_SASL_USERNAME, SCHAKEL_KAFKA_CA_FILE, SCHAKEL_KAFKA_CERT_FILE, SCHAKEL_KAFKA_KEY_FILE]
{{- end -}}
{{- define "schakel.registryTlsSettings" -}}
[SCHAKEL_SCHEMA_REGISTRY_CA_FILE, SCHAKEL_SCHEMA_REGISTRY_CERT_FILE, SCHAKEL_SCHEMA_REGISTRY_KEY_FILE]
{{- end -}}

{{/* The name of a secret's Secret: (dict "root" $ "name" "apiTokens" ["hook" true]). The
platform's Secret, else the one the chart makes from the value (with "hook": the copy made as
a hook, for the registration Job). */}}
{{- define "schakel.secretName" -}}
{{- $secret := index .root.Values.secrets .name -}}
{{- if $secret.existingSecret -}}
{{ $secret.existingSecret }}
{{- else if .hook -}}
{{ include "schakel.fullname" .root }}-setup-{{ .name | kebabcase }}
{{- else -}}
{{ include "schakel.fullname" .root }}-{{ .name | kebabcase }}
{{- end -}}
{{- end -}}

{{/* An environment variable from a secret: (dict "root" $ "name" "apiTokens" ["hook" true]);
the variable is the secret's first in schakel.secretSettings. */}}
{{- define "schakel.secretEnv" -}}
{{- $secret := index .root.Values.secrets .name -}}
- name: {{ index (include "schakel.secretSettings" .root | fromYaml) .name | first }}
  valueFrom:
    secretKeyRef:
      name: {{ include "schakel.secretName" . }}
      key: {{ $secret.key }}
{{- end -}}

{{/* Volumes and mounts every pod has: /tmp (the root file system is read-only) and the TLS
files of Kafka and of the registry when configured. */}}
{{- define "schakel.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- include "schakel.kafkaTlsVolume" . }}
{{- include "schakel.registryTlsVolume" . }}
{{- end -}}
{{- define "schakel.mounts" -}}
{{ include "schakel.tmpMount" . }}
{{- include "schakel.kafkaSaslMount" . }}
{{- include "schakel.kafkaTlsMount" . }}
{{- include "schakel.registryTlsMount" . }}
{{- end -}}
{{- define "schakel.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* The pseudonym key as a file (SCHAKEL_PSEUDONYM_KEY_FILE), for the adapters only. */}}
{{- define "schakel.pseudonymKeyVolume" -}}
- name: pseudonym-key
  secret:
    secretName: {{ include "schakel.secretName" (dict "root" . "name" "pseudonymKey") }}
    defaultMode: 0440
    items:
      - key: {{ .Values.secrets.pseudonymKey.key }}
        path: pseudonym_key
{{- end -}}
{{- define "schakel.pseudonymKeyMount" -}}
- name: pseudonym-key
  mountPath: /run/secrets/schakel
  readOnly: true
{{- end -}}

{{/* The shared settings as an env list (the registration Job, which runs before the ConfigMap
exists): (dict "root" $ "only" "kafka"|"registry"). "kafka": the Job's `topics` step, which
talks only to Kafka, without the registry's TLS files (it has none mounted); "registry": its
`schemas-register`, which talks only to the registry, without Kafka's security settings and TLS
files (plaintext, the default: it opens no Kafka connection). */}}
{{- define "schakel.setupEnv" -}}
{{- $config := include "schakel.config" .root | fromYaml }}
{{- $drop := ternary "schakel.registryTlsSettings" "schakel.kafkaSecuritySettings" (eq .only "kafka") }}
{{- range $name := include $drop .root | fromYamlArray }}
{{- $config = omit $config $name }}
{{- end }}
{{- range $name, $value := $config }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* What every process that talks to a secured Kafka needs (all but the Job's
`schemas-register`): the SASL password as a file (SCHAKEL_KAFKA_SASL_PASSWORD_FILE, not the
variable: the process drops one trailing line ending of a file, so a Secret made with
`--from-file` of a password file works; a mounted Secret also follows a rotation, read at the
process's next start) in /run/secrets/schakel-kafka-sasl: the env entry, (dict "root" $) ... */}}
{{- define "schakel.kafkaEnv" -}}
{{- $secret := .root.Values.secrets.kafkaSaslPassword }}
{{- if or $secret.existingSecret $secret.value }}
- name: SCHAKEL_KAFKA_SASL_PASSWORD_FILE
  value: /run/secrets/schakel-kafka-sasl/password
{{- end }}
{{- end -}}

{{/* ... its volume, (dict "root" $ ["hook" true]: the registration Job reads the hook copy of
a Secret made from a value) ... */}}
{{- define "schakel.kafkaSaslVolume" -}}
{{- $secret := .root.Values.secrets.kafkaSaslPassword }}
{{- if or $secret.existingSecret $secret.value }}
- name: kafka-sasl
  secret:
    secretName: {{ include "schakel.secretName" (dict "root" .root "name" "kafkaSaslPassword" "hook" .hook) }}
    defaultMode: 0440
    items:
      - key: {{ $secret.key }}
        path: password
{{- end }}
{{- end -}}

{{/* ... and its mount. */}}
{{- define "schakel.kafkaSaslMount" -}}
{{- $secret := .Values.secrets.kafkaSaslPassword }}
{{- if or $secret.existingSecret $secret.value }}
- name: kafka-sasl
  mountPath: /run/secrets/schakel-kafka-sasl
  readOnly: true
{{- end }}
{{- end -}}

{{/* ... and the TLS Secret as files in /run/secrets/schakel-kafka (SCHAKEL_KAFKA_CA_FILE,
_CERT_FILE, _KEY_FILE). */}}
{{- define "schakel.kafkaTlsVolume" -}}
{{- with .Values.secrets.kafkaTls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- end -}}
{{- define "schakel.kafkaTlsMount" -}}
{{- if .Values.secrets.kafkaTls.existingSecret }}
- name: kafka-tls
  mountPath: /run/secrets/schakel-kafka
  readOnly: true
{{- end }}
{{- end -}}

{{/* What every process that talks to a secured schema registry needs (all but the Job's
`topics` step): env entries, (dict "root" $ ["hook" true]) ... */}}
{{- define "schakel.registryEnv" -}}
{{- $root := .root -}}
{{- $hook := .hook -}}
{{- range $name := include "schakel.registrySecrets" $root | fromYamlArray }}
{{- $secret := index $root.Values.secrets $name }}
{{- if or $secret.existingSecret $secret.value }}
{{ include "schakel.secretEnv" (dict "root" $root "name" $name "hook" $hook) }}
{{- end }}
{{- end }}
{{- end -}}

{{/* ... and the TLS Secret as files. */}}
{{- define "schakel.registryTlsVolume" -}}
{{- with .Values.secrets.schemaRegistryTls.existingSecret }}
- name: registry-tls
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- end -}}
{{- define "schakel.registryTlsMount" -}}
{{- if .Values.secrets.schemaRegistryTls.existingSecret }}
- name: registry-tls
  mountPath: /run/secrets/schakel-registry
  readOnly: true
{{- end }}
{{- end -}}
