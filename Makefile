# One entry point for people and CI. Everything it needs is installed into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# checkov pins versions that clash with the test tools, so it gets a venv of its own.
TOOLS  := .venv-tools
CHECKOV_STAMP := $(TOOLS)/.installed

.PHONY: install dev test lint typecheck bench check clean

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

install: $(STAMP) $(CHECKOV_STAMP)

dev: $(STAMP)
	$(BIN)/faasport dev examples/phoney

test: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy
	FAASPORT_CHECKOV=$(TOOLS)/bin/checkov $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/imports.py
	$(BIN)/python bench/adapter.py
	$(BIN)/python bench/local.py

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
