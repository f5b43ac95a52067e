# syntax=docker/dockerfile:1
# Schakel: one image for every process (worker, adapters, webhook, one-shot jobs).
#   docker build -t schakel:local .
#   docker run --rm schakel:local --help
# Deployment with Compose: deploy/README.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: install the package and its pinned dependencies into a virtual environment ------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY schemas ./schemas
COPY streams ./streams
COPY adapters ./adapters
COPY schakel ./schakel
RUN pip install .

# The coordinators' web page (streams/web) is not in pyproject's package data: copy it next to
# the installed package until it is, and fail the build when a file is missing. (From / so that
# Python imports the installed package, not the sources in /src.)
RUN cd / \
    && site="$(python -c 'import pathlib, streams; print(pathlib.Path(streams.__file__).parent)')" \
    && case "$site" in /opt/venv/*) ;; *) echo "streams imported from $site" >&2; exit 1 ;; esac \
    && if [ ! -f "$site/web/index.html" ]; then cp -r /src/streams/web "$site/web"; fi \
    && python -c 'import streams.webui as w; missing = [f for f in ("index.html", *w.ASSETS) if not (w.WEB_DIR / f).is_file()]; assert not missing, missing'

# --- runtime ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="schakel" \
      org.opencontainers.image.description="Event-driven integration middleware for the social domain of Dutch municipalities" \
      org.opencontainers.image.licenses="EUPL-1.2"

# rocksdict (the worker's RocksDB store) links against the system libstdc++.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libstdc++6 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 schakel \
    && useradd --system --uid 10001 --gid schakel --home-dir /var/lib/schakel \
       --shell /usr/sbin/nologin schakel \
    && install -d -o schakel -g schakel -m 0750 /var/lib/schakel

COPY --from=build /opt/venv /opt/venv
COPY deploy/healthcheck.py deploy/create_topics.py /opt/schakel/

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SCHAKEL_DATA_DIR=/var/lib/schakel \
    SCHAKEL_WEB_HOST=0.0.0.0 \
    SCHAKEL_LOG_FORMAT=json

# Smoke test at build time: the entry point, the native modules and the packaged schemas.
RUN schakel --version \
    && python -c 'import rocksdict, faust, streams.app, adapters.registry' \
    && schakel schemas check

USER schakel:schakel
WORKDIR /var/lib/schakel

# worker API + /metrics, adapter /metrics, wijkteam webhook
EXPOSE 6066 9464 8088

# The worker's /health; Compose overrides the kind for adapters and the webhook.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/opt/schakel/healthcheck.py", "worker"]

ENTRYPOINT ["schakel"]
CMD ["worker"]
