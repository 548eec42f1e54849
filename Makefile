# Two commands on a fresh clone: `make up` runs Clearway, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
LOAD_STAMP := $(VENV)/.installed-loadtest

.PHONY: up test lint types arch pytest bench loadtest clean webapp web-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(STAMP)

# The browser app (web/), built when its sources changed; Node >= 20 only for building it.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) \
	web/index.html web/package.json web/package-lock.json web/vite.config.ts web/tsconfig.json
WEB_DIST := src/clearway/gateway/webapp_dist
WEB_STAMP := $(WEB_DIST)/.built

$(WEB_STAMP): $(WEB_SOURCES)
	cd web && npm ci --no-audit --no-fund && npm run build
	rm -rf $(WEB_DIST) && cp -r web/dist $(WEB_DIST) && touch $@

webapp:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(WEB_STAMP); \
	else echo "make: npm (Node >= 20) not found: serving the API without the web app"; fi

up: $(STAMP) webapp
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

# The web app's checks: lint, types, component tests, build within budget, client not stale,
# then the end-to-end walk in Chromium against a live `clearway up`.
web-test: $(DEV_STAMP) webapp
	cd web && npm run lint && npm run typecheck && npm test
	cd web && PATH="$(CURDIR)/$(BIN):$$PATH" npm run generate:check
	cd web && PATH="$(CURDIR)/$(BIN):$$PATH" npm run e2e

test: lint types arch pytest web-test

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
	rm -rf $(VENV) .clearway .pytest_cache .mypy_cache .ruff_cache web/node_modules web/dist $(WEB_DIST)
