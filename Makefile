# Touchplan: `make run` and `make test` do all set-up on a fresh machine (Python 3.11, make, git).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
READY := $(VENV)/.ready
export DAGSTER_HOME ?= $(CURDIR)/.dagster
export TOUCHPLAN_WAREHOUSE ?= $(CURDIR)/data/warehouse.duckdb
export TOUCHPLAN_EXPORTS ?= $(CURDIR)/data/exports
export TOUCHPLAN_CONFIG ?= $(CURDIR)/config
# The venv's tools (dbt) first, for every command make starts, `dagster dev`'s code server included.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
DEMO_CONTACTS ?= 2000

.PHONY: run test dev lint bench bench-ingest bench-pipeline lock install demo-data clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found: Touchplan needs Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# uv (a PyPI wheel) installs the locked set in seconds; the lock is the single source of versions.
$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@mkdir -p $(DAGSTER_HOME) && touch $(DAGSTER_HOME)/dagster.yaml
	@touch $(STAMP)

# Every installed module compiled to bytecode once (uv installs source only, and with PYTHONDONTWRITEBYTECODE set
# each `touchplan` and dbt process would compile Dagster, dbt and GX again: 8-10 s of CPU per process). Then dbt
# parses the project with the vars a default `make run` passes (pipelines/lib/dbt_parse_state.py), so its first
# dbt step starts from that parse instead of parsing the whole project again.
$(READY): $(STAMP)
	$(BIN)/python -m compileall -q -j 0 "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" >/dev/null \
	  || echo "warning: some installed modules did not compile to bytecode (they compile at each import instead)"
	$(BIN)/python -m pipelines.lib.dbt_parse_state
	@touch $(READY)

install: $(READY)

demo-data: $(READY)
	@if [ -z "$$(ls -A $(TOUCHPLAN_EXPORTS) 2>/dev/null)" ]; then \
	  $(BIN)/touchplan sample-data --out $(TOUCHPLAN_EXPORTS) --contacts $(DEMO_CONTACTS) --seed 42; \
	else echo "exports folder $(TOUCHPLAN_EXPORTS) is not empty: using the files there"; fi

run: demo-data
	$(BIN)/touchplan run

# Two workers, one test file each: module-scoped fixtures (a whole pipeline run, a Prism mock) are built once.
test: $(READY)
	@bash tests/contract/install_prism.sh || echo "warning: Prism not installed; SendGrid contract tests will be skipped outside CI"
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# `dagster dev` through a launcher that restores the Ctrl-C / SIGTERM handlers (pipelines/dev.py). DEV_ARGS: e.g.
# `make dev DEV_ARGS="-p 3001"`. The exports-folder sensor starts stopped: turn it on in the UI (docs/operations.md).
DEV_ARGS ?=
dev: $(READY)
	$(BIN)/python -m pipelines.dev -w workspace.yaml $(DEV_ARGS)

lint: $(READY)
	$(BIN)/ruff check pipelines tests benchmarks touchplan_sample_data
	$(BIN)/ruff format --check pipelines tests benchmarks touchplan_sample_data
	@mkdir -p $(dir $(TOUCHPLAN_WAREHOUSE))
	$(BIN)/sqlfluff lint dbt_project/models

# Speed and memory per stage (figures go to docs/benchmarks.md); BENCH_SIZE scales every benchmark.
BENCH_SIZE ?= 100000
bench: $(READY)
	$(BIN)/python -m benchmarks.bench_sample_data --contacts $(BENCH_SIZE)
	$(BIN)/python -m benchmarks.bench_ingest --rows $(BENCH_SIZE)
	$(BIN)/python -m benchmarks.bench_ingest_lower_bound --contacts $(BENCH_SIZE)
	$(BIN)/python -m benchmarks.bench_identity --contacts $(BENCH_SIZE)
	$(BIN)/python -m benchmarks.bench_quality --rows $(BENCH_SIZE)
	$(BIN)/python -m benchmarks.bench_planning --customers $(BENCH_SIZE) --campaigns 20
	$(BIN)/python -m benchmarks.bench_pipeline --contacts $(BENCH_SIZE)

# touchplan ingest against DuckDB's own readers on the same generated exports (prints both and the ratio)
bench-ingest: $(READY)
	$(BIN)/python -m benchmarks.bench_ingest_lower_bound --contacts $(BENCH_SIZE)

# the whole `touchplan run` on generated exports, per step (wall, CPU) and peak RSS (BENCH_SIZE=2000: the demo)
bench-pipeline: $(READY)
	$(BIN)/python -m benchmarks.bench_pipeline --contacts $(BENCH_SIZE)

lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet "uv==0.13.9"
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements.lock

clean:
	rm -rf data/warehouse.duckdb* data/outbox data/reports dbt_project/target .dagster/storage
