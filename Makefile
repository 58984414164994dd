# Patchbay: `make run` serves the dashboard on a fresh machine; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Airbyte's SDK for tests/airbyte: its own venv, because it pins cryptography<49 and Patchbay pins >=50.
AIRBYTE_VENV := .venv-airbyte
AIRBYTE_REQUIREMENTS := tests/airbyte/requirements.txt
AIRBYTE_STAMP := $(AIRBYTE_VENV)/.installed
# Benchmarks only: Airbyte's in-process Stripe connector for bench/execute_overhead.py's third column.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint setup migrate worker beat bench bench-venv browser clean sdk airbyte-sdk

$(STAMP): requirements.txt sdk/pyproject.toml
	@echo "==> Creating virtualenv and installing requirements (first run takes a minute)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -r requirements.txt -e ./sdk
	@touch $(STAMP)

setup: $(STAMP)

# Rebuilt only when missing or when the pinned requirements change. A failed install leaves no stamp: the
# Airbyte SDK tests then skip with a reason (or fail in CI) and the next `make test` tries again.
$(AIRBYTE_STAMP): $(AIRBYTE_REQUIREMENTS)
	@echo "==> Creating $(AIRBYTE_VENV) with Airbyte's SDK for the compatibility tests"
	@test -x $(AIRBYTE_VENV)/bin/python || $(PYTHON) -m venv $(AIRBYTE_VENV)
	@($(AIRBYTE_VENV)/bin/python -m pip install --quiet --upgrade pip \
	  && $(AIRBYTE_VENV)/bin/python -m pip install --quiet -r $(AIRBYTE_REQUIREMENTS) && touch $(AIRBYTE_STAMP)) \
	  || echo "    Airbyte's SDK could not be installed: tests/airbyte/test_airbyte_sdk.py will skip (or fail in CI)"

airbyte-sdk: $(AIRBYTE_STAMP)

$(BENCH_STAMP): bench/requirements.txt
	@echo "==> Creating $(BENCH_VENV) with Airbyte's Stripe connector for the benchmark"
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	@($(BENCH_VENV)/bin/python -m pip install --quiet -r bench/requirements.txt && touch $(BENCH_STAMP)) \
	  || echo "    airbyte-agent-stripe could not be installed: the benchmark skips its column"

bench-venv: $(BENCH_STAMP)

migrate: setup
	@echo "==> Migrating the database and loading the connector catalog"
	@$(PY) manage.py migrate --no-input -v 1 | grep -vE "^\s+Applying|^Operations to perform|^  Apply all" || true

run: migrate
	@$(PY) manage.py bootstrap_local --url http://$(HOST):$(PORT)
	@echo "==> Serving Patchbay on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	@# DEBUG is off by default (no debug pages, even locally): --insecure lets runserver serve the static files.
	@$(PY) manage.py runserver --insecure $(HOST):$(PORT)

# Headless Chromium for the browser tests: Debian's package, never a browser download.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "==> Installing Debian's chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "    chromium could not be installed: browser tests will skip"; \
	  else echo "==> chromium not installed: browser tests will skip (apt-get install chromium)"; fi; }

# axe-core for the accessibility tests, from the npm registry, pinned by tests/browser/package-lock.json.
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	@echo "==> Installing axe-core for the accessibility tests"
	@cd tests/browser && npm ci --no-audit --no-fund --silent \
	  || echo "    npm could not install axe-core: accessibility tests will skip (or fail in CI)"

test: setup browser $(AXE) $(AIRBYTE_STAMP)
	@echo "==> Running the test suite"
	@$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check --diff . >/dev/null 2>&1 || true

worker: migrate
	@$(VENV)/bin/celery -A config worker -l info

beat: migrate
	@$(VENV)/bin/celery -A config beat -l info

bench: migrate bench-venv
	@$(PY) bench/execute_overhead.py

sdk: setup
	@$(PY) manage.py generate_sdk

clean:
	rm -rf $(VENV) $(AIRBYTE_VENV) $(BENCH_VENV) .pytest_cache .ruff_cache
