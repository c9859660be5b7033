# syntax=docker/dockerfile:1
# fieldvault: the image of every service, chosen by the build argument SERVICE
# (a folder under services/: identity, customer_vault, work_order,
# notification, gateway or web). Build from the repository root (the uv
# workspace), or `make images` for all of them:
#   docker build --build-arg SERVICE=customer_vault -t fieldvault-customer-vault .
#
# The stages: `build` makes the service's virtualenv, `runtime` is what every
# image shares (the virtualenv, no pip, uid 10001), and one short stage per
# service adds what differs (its migrations, listen address, port and module);
# the last line picks that stage. BuildKit builds only the stages it needs.
#
# Base images are pinned to the patch release (tests/deploy/test_images.py). For
# a release build also pin the digest:
#   docker buildx imagetools inspect python:3.11.14-slim-trixie
# and write the FROM lines as python:3.11.14-slim-trixie@sha256:<that digest>.

# No default: without --build-arg SERVICE the last FROM names no image and the
# build stops there, rather than quietly building some service.
ARG SERVICE

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

# --- build: the service's virtualenv from the workspace lock --------------------
FROM python:3.11.14-slim-trixie AS build
ARG SERVICE

COPY --from=uv /uv /bin/uv

# Bytecode compiled at build time (the runtime root FS is read-only); copy, not
# hardlink, because the cache is a mount; never download a Python: the image's
# is the one the runtime stage has at the same path.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /src

# The service's distribution is fieldvault-<service>: uv normalises package
# names (PEP 503), so fieldvault-customer_vault is fieldvault-customer-vault.
#
# 1. Third-party dependencies only, from the lock and the manifests of this
#    service and the workspace libs it uses: this layer is rebuilt when they
#    change, not on every source edit. --frozen: the lock is taken as it is
#    (the other members' manifests are absent, so it cannot be re-checked).
COPY pyproject.toml uv.lock ./
COPY libs/platform/pyproject.toml libs/platform/
COPY libs/protos/pyproject.toml libs/protos/
COPY services/${SERVICE}/pyproject.toml services/${SERVICE}/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package fieldvault-${SERVICE}

# 2. The workspace members themselves, installed as wheels (--no-editable), so
#    the runtime stage needs the virtualenv only, not the source tree. The web
#    app's templates and static files are package data inside src/web: in the
#    wheel.
COPY libs/platform/src libs/platform/src
COPY libs/protos/src libs/protos/src
COPY services/${SERVICE}/src services/${SERVICE}/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package fieldvault-${SERVICE}

# --- runtime: the virtualenv and an unprivileged user, for every service ------
FROM python:3.11.14-slim-trixie AS runtime

# No package manager for Python is left: the virtualenv never had pip (uv
# creates it without), and the system interpreter's pip, setuptools, wheel and
# ensurepip go. No compiler was ever installed. apt/dpkg stay, so image
# scanners can still read the package database; as uid 10001 on a read-only
# root filesystem they cannot install anything.
RUN set -eux; \
    groupadd --system --gid 10001 fieldvault; \
    useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin fieldvault; \
    rm -rf /usr/local/bin/pip* /usr/local/bin/wheel \
        /usr/local/lib/python3.11/ensurepip \
        /usr/local/lib/python3.11/site-packages/pip \
        /usr/local/lib/python3.11/site-packages/pip-* \
        /usr/local/lib/python3.11/site-packages/setuptools \
        /usr/local/lib/python3.11/site-packages/setuptools-* \
        /usr/local/lib/python3.11/site-packages/pkg_resources \
        /usr/local/lib/python3.11/site-packages/_distutils_hack \
        /usr/local/lib/python3.11/site-packages/distutils-precedence.pth \
        /usr/local/lib/python3.11/site-packages/wheel \
        /usr/local/lib/python3.11/site-packages/wheel-*

WORKDIR /app
COPY --from=build /app/.venv /app/.venv

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

USER 10001:10001

# --- one stage per service: what differs -----------------------------------------
# Inside a container a service must listen on all interfaces; its default
# (127.0.0.1) is for a laptop, where it should not be reachable from the network.
# The four with a database carry their Alembic folder: `python -m <service>
# migrate` (a Helm hook Job) reads it from FIELDVAULT_MIGRATIONS_DIR, since the
# service is installed as a wheel, away from its source tree. Files copied here
# belong to root: uid 10001 can read them, not change them.

FROM runtime AS service-identity
COPY services/identity/migrations /app/migrations
ENV FIELDVAULT_MIGRATIONS_DIR=/app/migrations \
    FIELDVAULT_IDENTITY_GRPC_HOST=0.0.0.0
EXPOSE 17001
CMD ["python", "-m", "identity"]

FROM runtime AS service-customer_vault
COPY services/customer_vault/migrations /app/migrations
ENV FIELDVAULT_MIGRATIONS_DIR=/app/migrations \
    FIELDVAULT_CUSTOMER_VAULT_GRPC_HOST=0.0.0.0
EXPOSE 17002
CMD ["python", "-m", "customer_vault"]

FROM runtime AS service-work_order
COPY services/work_order/migrations /app/migrations
ENV FIELDVAULT_MIGRATIONS_DIR=/app/migrations \
    FIELDVAULT_WORK_ORDER_GRPC_HOST=0.0.0.0
EXPOSE 17003
CMD ["python", "-m", "work_order"]

FROM runtime AS service-notification
COPY services/notification/migrations /app/migrations
ENV FIELDVAULT_MIGRATIONS_DIR=/app/migrations \
    FIELDVAULT_NOTIFICATION_GRPC_HOST=0.0.0.0
EXPOSE 17004
CMD ["python", "-m", "notification"]

FROM runtime AS service-gateway
ENV FIELDVAULT_GATEWAY_HTTP_HOST=0.0.0.0
EXPOSE 8080
CMD ["python", "-m", "gateway"]

# The web app's default port (8000) is for a laptop too, where the gateway has
# 8080; in a pod it is alone, and serves on 8080 like the gateway.
FROM runtime AS service-web
ENV FIELDVAULT_WEB_HOST=0.0.0.0 \
    FIELDVAULT_WEB_PORT=8080
EXPOSE 8080
CMD ["python", "-m", "web"]

# --- the image: the stage of the service asked for -------------------------------
FROM service-${SERVICE}
