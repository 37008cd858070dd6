# One entry point for people and CI. Everything it needs is installed into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The suite mostly waits on the servers and tools it starts: two pytest-xdist workers keep two
# cores busy. A test file stays on one worker, so its module fixtures (a dev server, a
# generated template) are made once. PYTEST_WORKERS= runs it in one process.
PYTEST_WORKERS ?= -n 2 --dist loadfile
# checkov pins versions that clash with the test tools, so it gets a venv of its own.
TOOLS  := .venv-tools
CHECKOV_STAMP := $(TOOLS)/.installed

.PHONY: install postgres redis chromium cdk dev test lint typecheck bench check clean screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(CHECKOV_STAMP): Makefile
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet 'checkov>=3.2,<4'
	touch $(CHECKOV_STAMP)

# PostgreSQL's server binaries for the database tests, which start a throwaway server on
# loopback (tests/postgres.py). Nothing to do when a server is already installed.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    postgresql; \
	fi

# redis-server for the state store tests, which start a throwaway server on loopback
# (tests/state/conftest.py). Nothing to do when one is already installed.
redis:
	@if ! command -v redis-server >/dev/null 2>&1; then \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    redis-server; \
	fi

# Headless Chromium opens the import chart of faasport coldstart --html in its test
# (tests/cli/test_coldstart.py) and drives the dev dashboard through Playwright
# (tests/local/dashboard/test_browser.py). Nothing to do when it is already installed.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    chromium; \
	fi

# The cdk extra (aws-cdk-lib, too large for dev) and Node.js, which its jsii runtime needs,
# for the test that synthesizes faasport.cdk (tests/deploy/aws/test_cdk.py).
CDK_STAMP := $(VENV)/.installed-cdk
$(CDK_STAMP): pyproject.toml $(STAMP)
	@if ! command -v node >/dev/null 2>&1; then \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    nodejs; \
	fi
	$(BIN)/python -m pip install --quiet -e '.[cdk]'
	touch $(CDK_STAMP)

cdk: $(CDK_STAMP)

install: postgres redis chromium $(STAMP) $(CHECKOV_STAMP) $(CDK_STAMP)

dev: $(STAMP)
	$(BIN)/faasport dev examples/phoney

test: postgres redis chromium $(STAMP) $(CHECKOV_STAMP) $(CDK_STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy
	FAASPORT_CHECKOV=$(TOOLS)/bin/checkov $(BIN)/python -m pytest -q $(PYTEST_WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

bench: postgres redis $(STAMP)
	$(BIN)/python bench/imports.py
	$(BIN)/python bench/adapter.py
	$(BIN)/python bench/local.py
	$(BIN)/python bench/gateway_policies.py
	$(BIN)/python bench/coldstart.py
	$(BIN)/python bench/gateway_http.py
	$(BIN)/python bench/events.py
	$(BIN)/python bench/state.py
	$(BIN)/python bench/dashboard.py

# docs/dashboard.png, the README's picture of the dev dashboard.
screenshots: chromium $(STAMP)
	$(BIN)/python docs/dashboard_screenshot.py

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
