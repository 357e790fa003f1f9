# oonplaybook: every target creates .venv when it is missing and installs into it.
#   make demo    run the whole pipeline on the bundled synthetic demo client
#   make test    unit tests, a papermill run of every notebook, nbval on the golden notebooks
#   make lab     JupyterLab on notebooks/ (installs the lab extra)
#   make golden  regenerate the reference (golden) notebooks in tests/golden/demo
#   make screenshots  PNGs of the report's first pages in docs/screenshots/
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_LINES ?= 20000
DEMO_SEED ?= 20251
# pytest-xdist workers for `make test` (CI has 2 cores; the stage kernels are single-threaded).
# Test files go whole to a worker (--dist loadfile: module fixtures built once); the golden
# notebooks run after, in one process and in order, since each reads the artifacts the one
# before it wrote and nbval runs a notebook's cells in one kernel.
TEST_WORKERS ?= 2

# The PHI salt is never in the repository: use yours, or a random one made for this checkout.
SALT_FILE := .oonplaybook-demo-salt
export OONPLAYBOOK_PHI_SALT ?= $(shell test -s $(SALT_FILE) || $(PYTHON) -c 'import secrets; print(secrets.token_hex(16))' > $(SALT_FILE); cat $(SALT_FILE))
export SM_FORMULA_ENGINE := patsy
export IPYKERNEL_CELL_NAME := <IPY-INPUT>
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: demo test lab golden notebooks lint bench install clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

data/demo/truth.json: $(VENV)/.installed src/oonplaybook/demo.py
	$(BIN)/oonplaybook demo-data --out data/demo --lines $(DEMO_LINES) --seed $(DEMO_SEED)

demo: $(VENV)/.installed data/demo/truth.json
	$(BIN)/oonplaybook run params/demo.yaml --no-progress

test: $(VENV)/.installed data/demo/truth.json
	$(BIN)/pytest -m "not slow" -p no:randomly -n $(TEST_WORKERS) --dist loadfile --ignore=tests/golden tests
	$(BIN)/pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
	  -p no:randomly tests/golden

golden: $(VENV)/.installed data/demo/truth.json
	$(BIN)/oonplaybook run params/demo.yaml --out tests/golden/demo --no-progress

# PNGs of the report's first pages (and of the letters) in docs/screenshots/, from a fresh demo run
# (needs chromium and poppler-utils; RUN=outputs/demo/<run-id> reuses a run instead)
screenshots: $(VENV)/.installed data/demo/truth.json
	$(BIN)/python scripts/screenshots.py $(if $(RUN),--run $(RUN))

notebooks: $(VENV)/.installed
	$(BIN)/pip install -q 'jupytext>=1.16'
	$(BIN)/jupytext --to ipynb --update notebooks/[0-9]*.py

lab: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev,lab]'
	$(BIN)/jupyter lab notebooks/

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

bench: $(VENV)/.installed
	for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) data/demo outputs tests/golden/demo/artifacts
