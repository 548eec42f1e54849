# Two commands on a fresh clone: `make up` runs Clearway, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
LOAD_STAMP := $(VENV)/.installed-loadtest

.PHONY: up test lint types arch pytest bench loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(STAMP)

up: $(STAMP)
	$(BIN)/clearway up $(ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(DEV_STAMP)
	$(BIN)/mypy

arch: $(DEV_STAMP)
	$(BIN)/lint-imports

pytest: $(DEV_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint types arch pytest

WRK = @command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) \
		|| (echo "$@ needs wrk: install it with your package manager" && exit 1)

bench: $(DEV_STAMP)
	$(WRK)
	$(BIN)/python -m bench $(ARGS)

$(LOAD_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,loadtest]"
	touch $@ $(DEV_STAMP) $(STAMP)

# The published Taurus load test, on Clearway: `make loadtest ARGS=--quick` is a 3-minute smoke.
loadtest: $(LOAD_STAMP)
	$(WRK)
	$(BIN)/python -m bench.loadtest $(ARGS)

clean:
	rm -rf $(VENV) .clearway .pytest_cache .mypy_cache .ruff_cache
