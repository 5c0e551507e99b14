# The two commands of the README: `make lab` and `make test`. Everything else builds on $(STAMP).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.studio-installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

WIDGET := studio/widgets/static/canvas.js
WIDGET_SOURCES := $(shell find widgets/src -type f 2>/dev/null) widgets/package.json \
	widgets/vite.config.ts widgets/svelte.config.js widgets/tsconfig.json
NODE_MODULES := widgets/node_modules/.package-lock.json

.PHONY: lab test lint format bench build clean widget

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

$(NODE_MODULES): widgets/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm is needed to build the canvas. Debian/Ubuntu: sudo apt-get install nodejs npm"; exit 1; }
	cd widgets && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WIDGET): $(NODE_MODULES) $(WIDGET_SOURCES)  ## the canvas front end, bundled into the package
	cd widgets && npm run build --silent

widget: $(WIDGET)

lab: $(STAMP) $(WIDGET)  ## JupyterLab on ./workspace (or $$STUDIO_WORKSPACE), opened on the Welcome notebook
	$(BIN)/studio lab

test: $(STAMP) $(WIDGET)  ## the whole test suite
	$(BIN)/python -m pytest

lint: $(STAMP) $(NODE_MODULES)  ## ruff + mypy + svelte-check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd widgets && npm run check --silent

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) $(WIDGET)  ## benchmarks: ratios against a baseline measured in the same run
	$(BIN)/python -m benchmarks

build: $(STAMP) $(WIDGET)  ## the wheel, in dist/
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache widgets/node_modules \
		studio/widgets/static
