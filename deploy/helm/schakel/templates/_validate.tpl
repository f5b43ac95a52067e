{{/*
Checks of the values, run by configmap.yaml (rendered in every release). Each message names
the value and the rule broken.
*/}}
{{- define "schakel.validate" -}}
{{- $c := .Values.config -}}
{{- if not (regexMatch "^[0-9]{20}$" (toString $c.oin)) -}}
{{- fail "config.oin is required: the municipality's OIN, 20 digits in quotes (unquoted, YAML reads a number and drops the leading zeros); part of every event id, do not change it later" -}}
{{- end -}}
{{- if not $c.kafkaBootstrap -}}
{{- fail "config.kafkaBootstrap is required: host:port[,host:port] of the Kafka cluster" -}}
{{- end -}}
{{- if not $c.schemaRegistryUrl -}}
{{- fail "config.schemaRegistryUrl is required: the URL of a Confluent-compatible schema registry" -}}
{{- end -}}
{{- /* Types and ranges of single values: values.schema.json. */ -}}
{{- $partitions := int $c.partitions -}}
{{- if gt (int .Values.workers.replicas) $partitions -}}
{{- fail (printf "workers.replicas (%d) must not exceed config.partitions (%d): each partition is processed by one worker, further replicas would stay idle (deploy/README.md, \"Scaling workers\")" (int .Values.workers.replicas) $partitions) -}}
{{- end -}}
{{- range $name, $_ := $c.extraEnv -}}
{{- if not (hasPrefix "SCHAKEL_" $name) -}}
{{- fail (printf "config.extraEnv: %s is not a Schakel setting (names start with SCHAKEL_)" $name) -}}
{{- end -}}
{{- /* Every variable a secret supplies (schakel.secretSettings): the ConfigMap reaches every pod. */ -}}
{{- range $secret, $settings := include "schakel.secretSettings" $ | fromYaml -}}
{{- if has $name $settings -}}
{{- fail (printf "config.extraEnv: %s belongs to a secret: set secrets.%s, which reaches only the pods that use it (extraEnv reaches every pod)" $name $secret) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- include "schakel.requireSecret" (dict "root" . "name" "apiTokens" "why" "the workers' API clients") -}}
{{- $auth := .Values.secrets.schemaRegistryAuth -}}
{{- $token := .Values.secrets.schemaRegistryToken -}}
{{- if and (or $auth.existingSecret $auth.value) (or $token.existingSecret $token.value) -}}
{{- fail "secrets.schemaRegistryAuth and secrets.schemaRegistryToken: set one of them, not both" -}}
{{- end -}}
{{- include "schakel.validateKafka" . -}}
{{- $a := .Values.adapters -}}
{{- if or $a.iwmo.enabled $a.socialeDienst.enabled $a.vroegsignalering.enabled $a.outbox.enabled $a.wijkteamWebhook.enabled -}}
{{- include "schakel.requireSecret" (dict "root" . "name" "pseudonymKey" "why" "the adapters pseudonymise every BSN with it") -}}
{{- end -}}
{{- if $a.wijkteamWebhook.enabled -}}
{{- include "schakel.requireSecret" (dict "root" . "name" "webhookTokens" "why" "the senders of adapters.wijkteamWebhook") -}}
{{- end -}}
{{- if $a.outbox.enabled -}}
{{- include "schakel.requireSecret" (dict "root" . "name" "outboxDsn" "why" "the database adapters.outbox polls") -}}
{{- end -}}
{{- range $key := list "iwmo" "socialeDienst" "vroegsignalering" -}}
{{- $adapter := index $a $key -}}
{{- if and $adapter.enabled (not $adapter.input) -}}
{{- fail (printf "adapters.%s.input is required when the adapter is enabled: the volume its source system delivers to" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* (dict "root" $ "name" "apiTokens" "why" "..."): existingSecret or value, not neither. */}}
{{- define "schakel.requireSecret" -}}
{{- $secret := index .root.Values.secrets .name -}}
{{- if not (or $secret.existingSecret $secret.value) -}}
{{- fail (printf "secrets.%s.existingSecret (or secrets.%s.value) is required: %s" .name .name .why) -}}
{{- end -}}
{{- if not $secret.key -}}
{{- fail (printf "secrets.%s.key is required: the key of the Secret that holds the value" .name) -}}
{{- end -}}
{{- end -}}

{{/* The connection to Kafka (schemas/kafka_client.py checks the same at every start: here it
stops the install instead of every pod). */}}
{{- define "schakel.validateKafka" -}}
{{- $protocol := .Values.config.kafkaSecurityProtocol -}}
{{- $password := .Values.secrets.kafkaSaslPassword -}}
{{- $tls := .Values.secrets.kafkaTls -}}
{{- if hasPrefix "SASL_" $protocol -}}
{{- if not .Values.config.kafkaSaslUsername -}}
{{- fail (printf "config.kafkaSaslUsername is required with config.kafkaSecurityProtocol %s: the SASL user name (its password: secrets.kafkaSaslPassword)" $protocol) -}}
{{- end -}}
{{- include "schakel.requireSecret" (dict "root" . "name" "kafkaSaslPassword" "why" (printf "the SASL password of config.kafkaSaslUsername (config.kafkaSecurityProtocol %s)" $protocol)) -}}
{{- else if or $password.existingSecret $password.value -}}
{{- fail (printf "secrets.kafkaSaslPassword is set but config.kafkaSecurityProtocol %s uses no SASL: set SASL_SSL (or SASL_PLAINTEXT), or remove the password" $protocol) -}}
{{- end -}}
{{- if $tls.existingSecret -}}
{{- if not (has $protocol (list "SSL" "SASL_SSL")) -}}
{{- fail (printf "secrets.kafkaTls is set but config.kafkaSecurityProtocol %s uses no TLS: set SSL or SASL_SSL" $protocol) -}}
{{- end -}}
{{- if and $tls.keyKey (not $tls.certKey) -}}
{{- fail "secrets.kafkaTls.keyKey needs secrets.kafkaTls.certKey: the client certificate of that key (mutual TLS)" -}}
{{- end -}}
{{- end -}}
{{- end -}}
