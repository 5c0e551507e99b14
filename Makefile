# The two commands of the README: `make lab` and `make test`. Everything else builds on $(STAMP).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.studio-installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

WIDGET := studio/widgets/static/canvas.js
GALLERY_WIDGET := studio/widgets/static/gallery.js
WIDGET_SOURCES := $(shell find widgets/src -type f 2>/dev/null) widgets/package.json \
	widgets/vite.config.ts widgets/vite.gallery.config.ts widgets/svelte.config.js widgets/tsconfig.json
NODE_MODULES := widgets/node_modules/.package-lock.json

# The lab extension (launcher tile, Studio panel): TypeScript built by JupyterLab's builder into
# the Python package (git-ignored), shipped in the wheel as share/jupyter/labextensions/.
LABEXT_NAME := generative-media-studio
LABEXT_DIR := jupyter_extension/studio_jupyter/labextension
LABEXT := $(LABEXT_DIR)/package.json
LABEXT_SOURCES := $(shell find jupyter_extension/src jupyter_extension/style -type f 2>/dev/null) \
	jupyter_extension/package.json jupyter_extension/tsconfig.json
LABEXT_NODE_MODULES := jupyter_extension/node_modules/.package-lock.json
# The editable install's equivalent of `jupyter labextension develop` + server extension enable.
LABEXT_DEV_LINK := $(VENV)/share/jupyter/labextensions/$(LABEXT_NAME)
SERVER_CONFIG := $(VENV)/etc/jupyter/jupyter_server_config.d/studio_jupyter.json

.PHONY: lab test lint format bench build clean widget labextension

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

# One build makes both bundles: the canvas and the sweep gallery.
$(WIDGET) $(GALLERY_WIDGET) &: $(NODE_MODULES) $(WIDGET_SOURCES)  ## the widgets' front ends, bundled into the package
	cd widgets && npm run build --silent

widget: $(WIDGET) $(GALLERY_WIDGET)

$(LABEXT_NODE_MODULES): jupyter_extension/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm is needed to build the lab extension. Debian/Ubuntu: sudo apt-get install nodejs npm"; exit 1; }
	cd jupyter_extension && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# `jupyter labextension build` needs the venv's jupyter (and jupyter-builder) first on PATH.
$(LABEXT): $(STAMP) $(LABEXT_NODE_MODULES) $(LABEXT_SOURCES)  ## the lab extension, built into the package
	rm -rf $(LABEXT_DIR) jupyter_extension/lib jupyter_extension/tsconfig.tsbuildinfo
	cd jupyter_extension && PATH="$(abspath $(BIN)):$$PATH" npm run build --silent
	@test -f $@ || { echo "error: the lab extension build did not produce $@"; exit 1; }

# The dev install finds the lab extension through a symlink (like `jupyter labextension
# develop`) and enables the server extension in the venv's config (like the wheel does).
$(LABEXT_DEV_LINK): | $(STAMP)
	mkdir -p $(dir $@)
	rm -rf $@
	ln -s $(abspath $(LABEXT_DIR)) $@

$(SERVER_CONFIG): jupyter_extension/jupyter-config/server-config/studio_jupyter.json | $(STAMP)
	mkdir -p $(dir $@)
	cp $< $@

labextension: $(LABEXT) $(LABEXT_DEV_LINK) $(SERVER_CONFIG)

lab: $(STAMP) $(WIDGET) $(GALLERY_WIDGET) labextension  ## JupyterLab on ./workspace (or $$STUDIO_WORKSPACE), opened on the Welcome notebook
	$(BIN)/studio lab

test: $(STAMP) $(WIDGET) $(GALLERY_WIDGET) labextension  ## the whole test suite
	$(BIN)/python -m pytest

lint: $(STAMP) $(NODE_MODULES) $(LABEXT_NODE_MODULES)  ## ruff + mypy + import contracts + notebooks stripped + svelte-check + tsc (lab extension)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m tests.notebooks.stripped notebooks studio/notebooks
	cd widgets && npm run check --silent
	cd jupyter_extension && npm run check --silent

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) $(WIDGET) $(GALLERY_WIDGET) labextension  ## benchmarks: ratios against a baseline measured in the same run
	$(BIN)/python -m benchmarks

build: $(STAMP) $(WIDGET) $(GALLERY_WIDGET) $(LABEXT)  ## the wheel, in dist/
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache \
		widgets/node_modules \
		studio/widgets/static jupyter_extension/node_modules jupyter_extension/lib \
		jupyter_extension/tsconfig.tsbuildinfo $(LABEXT_DIR)
