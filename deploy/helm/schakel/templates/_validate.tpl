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
{{- $known := include "schakel.knownSettings" . | fromYamlArray -}}
{{- range $name, $_ := $c.extraEnv -}}
{{- if not (hasPrefix "SCHAKEL_" $name) -}}
{{- fail (printf "config.extraEnv: %s is not a Schakel setting (names start with SCHAKEL_)" $name) -}}
{{- end -}}
{{- /* A name no process reads (misspelt, or of another version): every pod would ignore it and
warn at start, or refuse to start (a misspelt security setting). The processes read names
regardless of case, the checks below do not: in capitals only. Never the value. */ -}}
{{- if not (has $name $known) -}}
{{- if has (upper $name) $known -}}
{{- fail (printf "config.extraEnv: %s: write the name in capitals, %s (the checks of extraEnv compare names as written)" $name (upper $name)) -}}
{{- end -}}
{{- $closest := include "schakel.closestSetting" (dict "name" $name "known" $known) -}}
{{- fail (printf "config.extraEnv: %s is no Schakel setting%s (every pod would ignore it; the settings: the README's configuration table)" $name (ternary (printf ": did you mean %s?" $closest) "" (ne $closest ""))) -}}
{{- end -}}
{{- /* Every variable a secret supplies (schakel.secretSettings): the ConfigMap reaches every pod. */ -}}
{{- range $secret, $settings := include "schakel.secretSettings" $ | fromYaml -}}
{{- if has $name $settings -}}
{{- fail (printf "config.extraEnv: %s belongs to a secret: set secrets.%s, which reaches only the pods that use it (extraEnv reaches every pod)" $name $secret) -}}
{{- end -}}
{{- end -}}
{{- with index (include "schakel.chartSettings" $ | fromYaml) $name -}}
{{- fail (printf "config.extraEnv: %s is set by the chart: %s (in extraEnv it would be a second value of the same variable, and which one a process got would depend on the pod)" $name .) -}}
{{- end -}}
{{- end -}}
{{- include "schakel.validateWorkers" . -}}
{{- include "schakel.validateBootstrap" . -}}
{{- include "schakel.validateRegistryUrl" . -}}
{{- include "schakel.validateSecretValues" . -}}
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

{{/* The connection to Kafka and the registry's TLS files (schemas/kafka_client.py and
schemas/registry_client.py check the same at every start: here it stops the install instead of
every pod). */}}
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
{{- $registryTls := .Values.secrets.schemaRegistryTls -}}
{{- if and $registryTls.existingSecret $registryTls.keyKey (not $registryTls.certKey) -}}
{{- fail "secrets.schemaRegistryTls.keyKey needs secrets.schemaRegistryTls.certKey: the client certificate of that key (mutual TLS)" -}}
{{- end -}}
{{- /* schemas.environment.registry_files_without_tls: an http:// URL (the scheme as urlsplit reads
it: white space and control characters before it dropped, tabs and line breaks in it, any case)
with the registry's TLS files; the message never shows the URL (it may hold a password). */ -}}
{{- if $registryTls.existingSecret -}}
{{- $ws := include "schakel.whitespace" . -}}
{{- range $item := splitList "," .Values.config.schemaRegistryUrl -}}
{{- $item = regexReplaceAll `[\t\r\n]` (regexReplaceAll `^[\x00-\x20]+` (trimAll $ws $item) "") "" -}}
{{- if regexMatch `^(?i)http:` $item -}}
{{- fail "secrets.schemaRegistryTls is set but config.schemaRegistryUrl names an http:// registry: its connection would go out unencrypted, credentials and all (every process refuses to start so); give every registry URL as https://, or remove secrets.schemaRegistryTls" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Every variable the chart sets itself (not from a secret: schakel.secretSettings), and what
sets it: config.extraEnv may not set it again. tests/unit/test_helm_values.py checks
that every variable a rendered container gets is here or a secret's. */}}
{{- define "schakel.chartSettings" -}}
SCHAKEL_PROFILE: always production
SCHAKEL_KAFKA_BOOTSTRAP: set config.kafkaBootstrap
SCHAKEL_KAFKA_SECURITY_PROTOCOL: set config.kafkaSecurityProtocol
SCHAKEL_KAFKA_SASL_MECHANISM: set config.kafkaSaslMechanism
SCHAKEL_KAFKA_SASL_USERNAME: set config.kafkaSaslUsername
SCHAKEL_SCHEMA_REGISTRY_URL: set config.schemaRegistryUrl
SCHAKEL_OIN: set config.oin
SCHAKEL_PARTITIONS: set config.partitions
SCHAKEL_REPLICATION_FACTOR: set config.replicationFactor
SCHAKEL_NAMESPACE: set config.namespace
SCHAKEL_LOG_LEVEL: set config.logLevel
SCHAKEL_LOG_FORMAT: always json
SCHAKEL_DATA_DIR: each pod's data volume
SCHAKEL_WEB_HOST: every interface, for the probes and Services
SCHAKEL_WEB_URL: each worker's own address (set workers.port and clusterDomain)
SCHAKEL_WEB_PORT: set workers.port
SCHAKEL_STORE: always rocksdb
SCHAKEL_SESSION_TIMEOUT_MS: set workers.sessionTimeoutMs
SCHAKEL_HEARTBEAT_MS: set workers.heartbeatMs
SCHAKEL_RULES_DIR: set workers.rules
SCHAKEL_METRICS_PORT: set adapters.metricsPort
SCHAKEL_POLL_INTERVAL_S: set adapters.pollIntervalSeconds
SCHAKEL_WEBHOOK_PORT: set adapters.wijkteamWebhook.port
SCHAKEL_MAX_REQUEST_BYTES: set adapters.wijkteamWebhook.maxRequestBytes
{{- end -}}

{{/* The characters Python's str.strip() removes (str.isspace), as a cutset for trimAll: where a
process strips white space around a value or an item of a list, the checks below strip the same
(Go's own trim knows other characters). tests/unit/test_helm_values.py compares it with Python's. */}}
{{- define "schakel.whitespace" -}}
{{ "\t\n\v\f\r\x1c\x1d\x1e\x1f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000" }}
{{- end -}}

{{/* The consumer group's timing, as WorkerSettings checks it: a worker that heartbeats no more
often than its session lasts is taken for dead between two heartbeats, again and again. */}}
{{- define "schakel.validateWorkers" -}}
{{- $w := .Values.workers -}}
{{- if ge (int $w.heartbeatMs) (int $w.sessionTimeoutMs) -}}
{{- fail (printf "workers.heartbeatMs (%d) must be below workers.sessionTimeoutMs (%d), Kafka's advice: at most a third of it (the workers refuse to start otherwise: SCHAKEL_HEARTBEAT_MS, exit 2)" (int $w.heartbeatMs) (int $w.sessionTimeoutMs)) -}}
{{- end -}}
{{- end -}}

{{/* config.kafkaBootstrap as schemas.settings.check_bootstrap checks it, exactly: items separated
by commas, each (white space around it ignored) HOST:PORT with the pattern of _BOOTSTRAP_ITEM (an
IPv6 address in brackets) and a port 1-65535. A `fail`, not a pattern of values.schema.json:
Helm's schema errors quote the value, and this one may hold a password (as the process's message,
the chart's names the value and never shows it). */}}
{{- define "schakel.validateBootstrap" -}}
{{- $value := .Values.config.kafkaBootstrap -}}
{{- $ws := include "schakel.whitespace" . -}}
{{- range $item := splitList "," $value -}}
{{- $item = trimAll $ws $item -}}
{{- $port := regexFind `[0-9]+$` $item | atoi -}}
{{- if or (not (regexMatch `^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})$` $item)) (lt $port 1) (gt $port 65535) -}}
{{- $scheme := ternary " (how to connect, e.g. SASL_SSL, is config.kafkaSecurityProtocol)" "" (contains "://" $value) -}}
{{- fail (printf "config.kafkaBootstrap: expected HOST:PORT addresses separated by commas, e.g. kafka-1:9092,kafka-2:9092 (an IPv6 address in brackets, a port 1-65535; no scheme, no user name or password)%s" $scheme) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* config.schemaRegistryUrl as schemas.settings.check_http_urls checks it: http(s) URLs separated
by commas, each with a host and, if any, a port 1-65535. The process parses each with Python's
urllib.parse.urlsplit; this is an approximation that never refuses what the process accepts and
refuses the usual mistakes (no or another scheme, no host, a port that is no number or out of
range, an empty item). Like urlsplit it first drops white space around the item, the control
characters and spaces before it and every tab and line break in it. It accepts some URLs the
process refuses: an invalid address in brackets (urlsplit checks it as IPv6), a bracket in the
user info, characters that NFKC-normalise to a delimiter. A `fail`, not a schema pattern: a URL
may carry a password, which Helm's schema errors would quote. */}}
{{- define "schakel.validateRegistryUrl" -}}
{{- $ws := include "schakel.whitespace" . -}}
{{- /* The scheme (any case), `//`, user info up to the last `@`, then the host: a name and an
optional port (empty, or 1-65535 with leading zeros: int() reads them), or an address in
brackets as urlsplit finds one (from the first `[` up to the first `]`, or to the end) with a port
after the `]`; then a path, query or fragment. */ -}}
{{- $port := `(?::(?:0*(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?)?` -}}
{{- $host := printf `(?:[^/?#@:\[]+%s|[^/?#@\[]*\[[^/?#@\]]+(?:\][^/?#@:]*%s)?)` $port $port -}}
{{- $url := printf `^(?s)(?i:https?)://(?:[^/?#]*@)?%s(?:[/?#].*)?$` $host -}}
{{- range $item := splitList "," .Values.config.schemaRegistryUrl -}}
{{- $item = regexReplaceAll `^[\x00-\x20]+` (trimAll $ws $item) "" -}}
{{- if not (regexMatch $url (regexReplaceAll `[\t\r\n]` $item "")) -}}
{{- fail "config.schemaRegistryUrl: expected http(s) URLs separated by commas, e.g. https://registry.example:8081 (each with a host; a port 1-65535)" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A secret from a `value` (the chart makes its Secret) as the process that reads it checks it
at its start; a Secret the platform makes cannot be read here. No message shows a secret. */}}
{{- define "schakel.validateSecretValues" -}}
{{- $ws := include "schakel.whitespace" . -}}
{{- $s := .Values.secrets -}}
{{- /* schemas.settings.MIN_KEY_LENGTH (tests/unit/test_helm_values.py ties them). The adapters
read the key from a file (SCHAKEL_PSEUDONYM_KEY_FILE) and ignore the white space around it. */ -}}
{{- $minKey := 32 -}}
{{- if and $s.pseudonymKey.value (not $s.pseudonymKey.existingSecret) -}}
{{- if not (regexMatch (printf `^(?s:.{%d,})$` $minKey) (trimAll $ws $s.pseudonymKey.value)) -}}
{{- fail (printf "secrets.pseudonymKey.value is shorter than %d characters (the white space around it not counted: the adapters ignore it): a short key can be guessed, and with it every pseudonym turned back into its BSN (make one with: openssl rand -hex 32)" $minKey) -}}
{{- end -}}
{{- end -}}
{{- /* schemas.settings._parse_tokens (the workers) */ -}}
{{- if and $s.apiTokens.value (not $s.apiTokens.existingSecret) -}}
{{- $names := dict -}}
{{- $owners := dict -}}
{{- range $item := splitList "," $s.apiTokens.value -}}
{{- $item = trimAll $ws $item -}}
{{- if $item -}}
{{- $parts := regexSplit ":" $item 3 -}}
{{- if or (ne (len $parts) 3) (has "" $parts) -}}
{{- fail "secrets.apiTokens.value: expected name:role:token items separated by commas" -}}
{{- end -}}
{{- $name := index $parts 0 -}}
{{- $token := index $parts 2 -}}
{{- if not (has (index $parts 1) (list "regisseur" "beheerder" "auditor")) -}}
{{- fail (printf "secrets.apiTokens.value: the role of %q must be regisseur, beheerder or auditor" $name) -}}
{{- end -}}
{{- if hasKey $names $name -}}
{{- fail (printf "secrets.apiTokens.value: client name %q is given more than once: each client one name, as the audit trail names it" $name) -}}
{{- end -}}
{{- if hasKey $owners $token -}}
{{- fail (printf "secrets.apiTokens.value: clients %q and %q have the same token: give each client a token of its own" (get $owners $token) $name) -}}
{{- end -}}
{{- $_ := set $names $name true -}}
{{- $_ = set $owners $token $name -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- /* WebhookSettings.webhook_senders and serve_webhook (no sender: exit 2) */ -}}
{{- if and $s.webhookTokens.value (not $s.webhookTokens.existingSecret) -}}
{{- $sources := dict -}}
{{- range $item := splitList "," $s.webhookTokens.value -}}
{{- $item = trimAll $ws $item -}}
{{- if $item -}}
{{- $parts := regexSplit "=" $item 2 -}}
{{- if or (ne (len $parts) 2) (has "" $parts) -}}
{{- fail "secrets.webhookTokens.value: expected source=token items separated by commas" -}}
{{- end -}}
{{- $source := index $parts 0 -}}
{{- $token := index $parts 1 -}}
{{- if and (hasKey $sources $token) (ne (get $sources $token) $source) -}}
{{- fail (printf "secrets.webhookTokens.value: %s and %s have the same token: give each source a token of its own" (get $sources $token) $source) -}}
{{- end -}}
{{- $_ := set $sources $token $source -}}
{{- end -}}
{{- end -}}
{{- if not $sources -}}
{{- fail "secrets.webhookTokens.value holds no source=token item: no sender could authenticate" -}}
{{- end -}}
{{- end -}}
{{- /* schemas/registry_client.py RegistryConnection */ -}}
{{- if and $s.schemaRegistryAuth.value (not $s.schemaRegistryAuth.existingSecret) (not (contains ":" $s.schemaRegistryAuth.value)) -}}
{{- fail "secrets.schemaRegistryAuth.value: expected user:password" -}}
{{- end -}}
{{- /* schemas/kafka_client.py: the password file less one trailing line ending must not be empty */ -}}
{{- $password := $s.kafkaSaslPassword.value -}}
{{- if and $password (not $s.kafkaSaslPassword.existingSecret) (not (trimSuffix "\r" (trimSuffix "\n" $password))) -}}
{{- fail "secrets.kafkaSaslPassword.value is empty but for a line ending" -}}
{{- end -}}
{{- end -}}

{{/* (dict "name" "SCHAKEL_…" "known" (list …)): the known variable that `name` resembles most,
as the processes name it (schemas.environment.unknown_variables: difflib's ratio, at least 0.6, on
the names without SCHAKEL_, regardless of case), here by the longest common subsequence L of
the two: 2L over their lengths together, at least 0.6, the highest (of equals the last in
order, as difflib); empty if none. tests/unit/test_helm_settings.py compares the two. */}}
{{- define "schakel.closestSetting" -}}
{{- $given := splitList "" (trimPrefix "SCHAKEL_" (upper .name)) -}}
{{- $best := "" -}}
{{- $bestCommon := 0 -}}
{{- $bestTotal := 1 -}}
{{- range $known := .known -}}
{{- $other := splitList "" (trimPrefix "SCHAKEL_" $known) -}}
{{- $previous := list 0 -}}
{{- range $given -}}
{{- $previous = append $previous 0 -}}
{{- end -}}
{{- range $b := $other -}}
{{- $row := list 0 -}}
{{- range $i, $a := $given -}}
{{- $row = append $row (ternary (add1 (index $previous $i)) (max (index $row $i) (index $previous (add1 $i))) (eq $a $b)) -}}
{{- end -}}
{{- $previous = $row -}}
{{- end -}}
{{- $common := last $previous -}}
{{- $total := add (len $given) (len $other) -}}
{{- if and (ge (mul 10 $common) (mul 3 $total)) (ge (mul $common $bestTotal) (mul $bestCommon $total)) -}}
{{- $best = $known -}}
{{- $bestCommon = $common -}}
{{- $bestTotal = $total -}}
{{- end -}}
{{- end -}}
{{- $best -}}
{{- end -}}
