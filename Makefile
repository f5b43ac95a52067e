# Two commands: `make demo` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Apache Kafka for the tests and `make kafka`: Java 17+ runs it, Maven fetches its jars once
# (cached in ~/.m2) into deploy/kafka/target/libs.
JAVA ?= java
MVN ?= mvn
KAFKA_PORT ?= 9092
KAFKA_LIBS := deploy/kafka/target/libs/.fetched
# Apicurio Registry (a Confluent-compatible schema registry) for the registry tests: Maven
# unpacks its distribution from Maven Central (cached in ~/.m2) into deploy/registry/target.
REGISTRY_APP := deploy/registry/target/apicurio/.fetched
# Helm renders the chart in deploy/helm for its test: built once by the Go toolchain from the Go
# module proxy (a few minutes on 2 cores), kept per version outside the work tree so that a new
# clone on the same machine does not build it again. The Kubernetes version is the one Helm's
# own release build sets (that of its client-go).
GO ?= go
HELM_VERSION := v3.22.0
HELM_KUBE_MINOR := 37
TOOLS ?= $(HOME)/.cache/schakel/tools
HELM ?= $(TOOLS)/helm-$(HELM_VERSION)/helm

.PHONY: demo test lint typecheck schemas-check system-deps bench bench-profile bench-adapters clean kafka kafka-libs registry-libs helm-tools reliability

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/schakel demo

# Maven and a Java 17 runtime from Debian, when either is missing.
define jvm-tools
	@if ! command -v $(MVN) >/dev/null || ! command -v $(JAVA) >/dev/null; then \
		echo "installing maven and a Java 17 runtime (Debian packages)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven openjdk-17-jre-headless >/dev/null; \
	fi
endef

$(KAFKA_LIBS): deploy/kafka/pom.xml
	$(jvm-tools)
	rm -rf deploy/kafka/target/libs
	$(MVN) -q -B -Dstyle.color=never -f deploy/kafka/pom.xml dependency:copy-dependencies
	touch $@

kafka-libs: $(KAFKA_LIBS)

$(REGISTRY_APP): deploy/registry/pom.xml
	$(jvm-tools)
	rm -rf deploy/registry/target
	$(MVN) -q -B -Dstyle.color=never -f deploy/registry/pom.xml dependency:unpack
	touch $@

registry-libs: $(REGISTRY_APP)

# One Apache Kafka node (KRaft) in the foreground on 127.0.0.1:$(KAFKA_PORT); Ctrl-C stops it.
kafka: $(STAMP) $(KAFKA_LIBS)
	JAVA=$(JAVA) $(BIN)/python -m schakel.kafka_cluster --port $(KAFKA_PORT)

$(HELM):
	GOBIN=$(abspath $(dir $@)) GOFLAGS="-mod=mod -trimpath" CGO_ENABLED=0 $(GO) install -ldflags \
		"-s -w -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
		-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
		-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(HELM_KUBE_MINOR) \
		-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
		-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(HELM_KUBE_MINOR)" \
		helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

helm-tools: $(HELM)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

schemas-check: $(STAMP)
	$(BIN)/schakel schemas check

# The browser test drives Debian's Chromium with its chromedriver (no browser download); the
# outbox tests and the demo start a throwaway PostgreSQL from its server binaries (initdb,
# pg_ctl); the alert tests run Prometheus's promtool (Debian's prometheus package) on
# deploy/prometheus, the alerts (deploy/helm/schakel/files, also as the chart renders them) and
# the Grafana dashboard. Installed here when missing (apt-get: needs root
# and the Debian mirrors, as in CI). Only promtool is used: a policy-rc.d that refuses
# (exit 101, when the host has none of its own) keeps the package's postinst from starting a
# Prometheus server, which would hold port 9090 (that of deploy/compose.dev.yml).
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "installing chromium and chromium-driver (Debian packages)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi
	@if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing postgresql (Debian package; the tests start their own server)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi
	@if ! command -v promtool >/dev/null; then \
		echo "installing promtool (Debian package prometheus; its server is not started)"; \
		rc=/usr/sbin/policy-rc.d; made=; \
		if [ ! -e $$rc ]; then printf '#!/bin/sh\nexit 101\n' >$$rc && chmod 755 $$rc && made=1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends prometheus >/dev/null; status=$$?; \
		if [ -n "$$made" ]; then rm -f $$rc; fi; \
		exit $$status; \
	fi

# Two test processes (pytest-xdist), each test file in one of them (its module fixtures start
# once): the suite mostly waits on brokers and workers, so two halve its time on two cores.
# Each process starts its own session Kafka node. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2

test: lint typecheck schemas-check system-deps kafka-libs registry-libs helm-tools
	JAVA=$(JAVA) HELM=$(HELM) $(BIN)/pytest -q -p no:cacheprovider --durations=30 \
		-n $(TEST_WORKERS) --dist loadfile

# `make bench`: every stream path on both brokers (embedded only without the Kafka jars), 100,000
# events; BENCH_LARGE=1 for 1,000,000; BENCH_ARGS for more options (python -m benchmarks.streams
# -h). The last line of output is one JSON object. Quix Streams (the peer measured alongside)
# pins confluent-kafka below the project's, so it lives in a venv of its own, $(BENCH_VENV), with
# py-spy (a binary) for `make bench-profile` (where the worker and the batch path spend time).
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
BENCH_EVENTS := $(if $(BENCH_LARGE),1000000,100000)
BENCH_ARGS ?=

$(BENCH_STAMP):
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet 'quixstreams==3.28.*' 'py-spy==0.4.3'
	touch $@

# The full reliability trials on a three-node Apache Kafka (tests/integration/reliability; make
# test runs 3 failover trials and 5 worker kills on small backlogs): 20 broker-failover trials
# (10 killing an event-topic leader, 10 a changelog leader) and 20 worker kills, on backlogs of
# 20,000 events. Slow: over an hour on 2 cores. Seeds are printed.
reliability: $(STAMP) $(KAFKA_LIBS)
	SCHAKEL_FAILOVER_TRIALS=20 SCHAKEL_EOS_KILLS=20 SCHAKEL_BACKLOG=20000 \
		SCHAKEL_RELIABILITY_TIMEOUT=0 JAVA=$(JAVA) \
		$(BIN)/pytest -q -p no:cacheprovider -s tests/integration/reliability

bench: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.streams --events $(BENCH_EVENTS) $(BENCH_ARGS)

bench-profile: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.profile --events 20000

bench-adapters: $(STAMP)
	$(BIN)/python -m benchmarks.adapters

clean:
	rm -rf $(VENV) $(BENCH_VENV) .mypy_cache .ruff_cache .pytest_cache var
