# newsclean: two commands do everything on a fresh machine -> `make run`, `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INPUT ?= data/raw
OUTPUT ?= data/clean

# No network here, and a persistent Prefect home makes the temporary server start faster.
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_HOME ?= $(CURDIR)/.prefect
export DO_NOT_TRACK ?= 1

.PHONY: setup lint run test test-fast eval eval-extract eval-metadata eval-text eval-dedup eval-repairs bench report browser-check lock clean server-start server-stop server-status deploy worker bench-startup

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

run: setup
	$(BIN)/newsclean run --input $(INPUT) --output $(OUTPUT)

# The gates (pyflakes and friends via ruff, mypy over cleaners/), then every test.
lint: setup
	$(BIN)/ruff check cleaners flows evals reports tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not flows"

eval: eval-text eval-extract eval-metadata eval-dedup eval-repairs

eval-text: setup
	$(BIN)/newsclean eval text

eval-extract: setup
	$(BIN)/newsclean eval extract --gold ../shared/eval/extract-dev/ground-truth.json --pages ../shared/eval/extract-dev/html

eval-metadata: setup
	$(BIN)/newsclean eval metadata --wcxb ../shared/eval/wcxb-dev --aeb ../shared/eval/extract-dev

eval-dedup: setup
	$(BIN)/newsclean eval dedup --input ../shared/eval/syndication/dev.parquet

eval-repairs: setup
	$(BIN)/newsclean eval repairs

# Stage figures with same-run baselines, then end to end on generated 10 KB text pages
# (E2E_SIZES=10000,100000 E2E_REPEATS=2 for the memory-flatness check: ~20 min on 2 cores the
# first time, pages are generated once into bench/out/e2e-pages/ and reused).
E2E_SIZES ?= 10000
E2E_REPEATS ?= 1
bench: setup
	$(BIN)/python bench/run.py
	$(BIN)/python bench/bench_e2e.py --sizes $(E2E_SIZES) --repeats $(E2E_REPEATS)

# The HTML report (inline SVG plots, opens offline) of the tables under $(OUTPUT).
report: setup
	$(BIN)/newsclean report --output $(OUTPUT) --to bench/out/report.html

# The report in a real headless browser: installs Debian's chromium if it is missing (root or
# sudo, network for apt), then renders the report of $(OUTPUT) (running the pipeline first if
# there are no tables) and of seeded synthetic tables, checks every plot drew, and writes
# screenshots to bench/out/ (ignored by git). Exit 1 if a plot did not draw.
CHROMIUM ?= /usr/bin/chromium
browser-check: setup
	@test -x $(CHROMIUM) || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }
	test -d $(OUTPUT)/articles/_delta_log || $(BIN)/newsclean run --input $(INPUT) --output $(OUTPUT) --no-progress
	PYTHONPATH=tests $(BIN)/python -m browser.check --output $(OUTPUT) --html bench/out/report.html --png bench/out/report.png
	PYTHONPATH=tests $(BIN)/python -m browser.check --synthetic --html bench/out/report-synthetic.html --png bench/out/report-synthetic.png

# A background Prefect server that later runs reuse (URL kept under PREFECT_HOME).
server-start: setup
	$(BIN)/newsclean server start

server-stop: setup
	$(BIN)/newsclean server stop

server-status: setup
	$(BIN)/newsclean server status

# The deployments of prefect.yaml on the recorded server, and a worker for them (README "Scheduling").
API_URL = $$($(BIN)/python -c 'from flows.server import read_record; print(read_record()["api_url"])')
deploy: server-start
	export PREFECT_API_URL=$(API_URL) && \
	($(BIN)/prefect work-pool inspect newsclean >/dev/null 2>&1 || $(BIN)/prefect work-pool create newsclean --type process) && \
	$(BIN)/prefect --no-prompt deploy --all

worker: server-start
	PREFECT_API_URL=$(API_URL) $(BIN)/prefect worker start --pool newsclean

# Wall and CPU time of a one-off run on the seeds with no server: local engine vs Prefect's temporary server.
bench-startup: setup
	$(BIN)/python bench/bench_startup.py --repeats 5

# Regenerate the pinned lock from pyproject (run after changing dependencies).
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install -q --upgrade pip && .lockenv/bin/pip install -q -e '.[test]'
	.lockenv/bin/pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf $(OUTPUT)/articles $(OUTPUT)/duplicates $(OUTPUT)/rejected $(OUTPUT)/_state
