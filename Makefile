# Quick start: `make run` (baseline scenario) and `make test` (the test suite).
# Both create .venv from the .python-version interpreter on first use.
SHELL := /bin/bash
PYTHON_VERSION := $(shell cat .python-version)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= configs/baseline.yaml
ARGS ?=

.PHONY: run test test-fast lint format bench clean chromium viz

$(BIN)/python:
	@py=$$(command -v python$(PYTHON_VERSION) || true); \
	if [ -z "$$py" ] && command -v pyenv >/dev/null 2>&1; then \
	  py=$$(PYENV_VERSION=$$(pyenv versions --bare | grep -E '^$(PYTHON_VERSION)(\.[0-9]+)?$$' | tail -n 1) pyenv which python 2>/dev/null || true); \
	fi; \
	if [ -z "$$py" ]; then py=$$(command -v python3); fi; \
	if ! $$py -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 12) else 1)'; then \
	  echo "error: Python >= $(PYTHON_VERSION) is required (Mesa 3.5); found $$($$py --version)" >&2; exit 2; \
	fi; \
	echo "creating $(VENV) with $$($$py --version)"; \
	$$py -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/scenarios run $(CONFIG) $(ARGS)

# Browser tests drive Debian's Chromium (never a downloaded browser).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian chromium for the dashboard's browser tests"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	fi

viz: $(STAMP)
	$(BIN)/scenarios viz $(CONFIG) $(ARGS)

test: $(STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 --dist loadfile

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/run_bench.py

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache
