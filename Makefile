# Two commands on a fresh Debian machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check
# parallel workers for `make test` (pytest-xdist); `make test XDIST=0` runs in one process
XDIST  ?= auto

.PHONY: setup dev run test demo lint docs bench clean

setup: $(STAMP)  ## what the app needs to run (requirements.txt)

dev: $(DEV_STAMP)  ## plus the test and lint tools (requirements-dev.txt)

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"' \
		|| { echo "error: $(PYTHON) is older than 3.11"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) \
		|| { echo "error: cannot create a virtual environment: on Debian run 'sudo apt-get install python3-venv'"; exit 1; }
	$(PIP) --upgrade pip==25.3
	$(PIP) -r requirements.txt
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	@touch $(DEV_STAMP)

run: setup  ## build the demo warehouse if none is configured, then serve on http://127.0.0.1:8050
	$(PY) app.py

test: dev  ## the whole suite in parallel (browser tests need chromium and chromium-driver; .ci/run installs them)
	$(PY) -m pytest -n $(XDIST)

demo: setup  ## rebuild the demo warehouse at WAREHOUSE_URL (default data/warehouse.duckdb)
	$(PY) -m data_layer demo

lint: dev  ## ruff, and the rules between the rooms (tests/test_layers.py, docs/architecture.md)
	$(PY) -m ruff check .
	$(PY) -m pytest tests/test_layers.py -q -p no:cacheprovider

docs: setup  ## regenerate docs/indicators.md and docs/data-dictionary.md
	$(PY) -m data_layer docs

bench: dev  ## benchmarks at scales 1, 5 and 10 (builds the warehouses once); results go to docs/performance.md
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
