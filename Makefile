# The two commands of the README: `make lab` and `make test`. Everything else builds on $(STAMP).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.studio-installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: lab test lint format bench build clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: Python 3.11 or newer is needed (found: $$($(PYTHON) --version 2>&1))."; \
	  echo "  Debian/Ubuntu: sudo apt-get install python3 python3-venv"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "error: could not create $(VENV). Debian/Ubuntu: sudo apt-get install python3-venv"; \
	  rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

lab: $(STAMP)  ## JupyterLab on ./workspace (or $$STUDIO_WORKSPACE), opened on the Welcome notebook
	$(BIN)/studio lab

test: $(STAMP)  ## the whole test suite
	$(BIN)/python -m pytest

lint: $(STAMP)  ## ruff + mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)  ## benchmarks: ratios against a baseline measured in the same run
	$(BIN)/python -m benchmarks

build: $(STAMP)  ## the wheel, in dist/
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache
