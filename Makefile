# ewto: two commands on a fresh machine (Python 3.11, make, git):
#   make demo   set everything up, simulate the coalition 2012-01..2021-12, run the monthly
#               cycle through the Airflow DAG, print the KPI headline
#   make test   lint and run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON      ?= $(shell command -v python3.11 || command -v python3)
# uv from PATH when present; otherwise a private copy in .tools/ (a venv, so it also works on
# Debian/Ubuntu pythons that refuse `pip install --user` as externally managed, PEP 668)
UV          := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
VENV        := $(CURDIR)/.venv
BIN         := $(VENV)/bin
EWTO_HOME   ?= $(CURDIR)/var
DEMO_SCALE  ?= 0.01
DEMO_SEED   ?= 42
DEMO_START  ?= 2012-01
DEMO_END    ?= 2021-12
export EWTO_HOME
LINT_PATHS  := $(wildcard ingestion dags tests benchmarks)

AIRFLOW_ENV := AIRFLOW_HOME=$(EWTO_HOME)/airflow \
	AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False \
	AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
	EWTO_DROP_DIR=$(EWTO_HOME)/drops \
	EWTO_AS_OF=$(DEMO_END) \
	PYTHONPATH=$(CURDIR) \
	PATH=$(BIN):$$PATH

.PHONY: help install demo test lint format clean

help:
	@echo "make demo    simulate the coalition and run the monthly cycle through Airflow"
	@echo "make test    lint and run the tests"
	@echo "make clean   remove the state folder ($(EWTO_HOME))"

$(UV):
	@echo "uv not found: installing it from PyPI into $(CURDIR)/.tools"
	@# a venv first; where the python has no venv module (Debian without python3.11-venv)
	@# fall back to pip --user, then to PEP 668's escape hatch, and say which was used
	@if $(PYTHON) -m venv $(CURDIR)/.tools 2>/dev/null && $(CURDIR)/.tools/bin/python -m pip install --quiet uv; then :; \
	else rm -rf $(CURDIR)/.tools; mkdir -p $(CURDIR)/.tools/bin; \
	  echo "no venv module: installing uv with pip --user"; \
	  $(PYTHON) -m pip install --user --quiet uv 2>/dev/null \
	    || $(PYTHON) -m pip install --user --quiet --break-system-packages uv; \
	  ln -sf "$$($(PYTHON) -m site --user-base)/bin/uv" $(CURDIR)/.tools/bin/uv; fi
	@$(UV) --version

# --compile-bytecode: the .pyc files are written once, at install. Where PYTHONDONTWRITEBYTECODE
# is set (this machine sets it), Python would otherwise compile dbt, GX, polars' wrappers etc.
# from source in every process: about 3 CPU-seconds more per dbt start, paid by every build
# (benchmarks/README.md). The stamp's name changed with the flag, so `make install` re-syncs
# an older .venv once.
$(BIN)/.installed-bytecode: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

install: $(BIN)/.installed-bytecode

demo: install
	@start=$$(date +%s); \
	$(BIN)/ewto simulate --out $(EWTO_HOME)/drops --start $(DEMO_START) --end $(DEMO_END) \
		--scale $(DEMO_SCALE) --seed $(DEMO_SEED) && \
	mkdir -p $(EWTO_HOME)/airflow && \
	$(AIRFLOW_ENV) $(BIN)/airflow db migrate > $(EWTO_HOME)/airflow/migrate.log 2>&1 && \
	echo "running the monthly cycle through Airflow (ewto_monthly_cycle); log: $(EWTO_HOME)/airflow/demo-run.log" && \
	$(AIRFLOW_ENV) $(BIN)/airflow dags test ewto_monthly_cycle > $(EWTO_HOME)/airflow/demo-run.log 2>&1 \
		|| { tail -n 40 $(EWTO_HOME)/airflow/demo-run.log; exit 1; } && \
	grep -q "state=success" $(EWTO_HOME)/airflow/demo-run.log \
		|| { echo "the DAG run did not succeed:"; tail -n 40 $(EWTO_HOME)/airflow/demo-run.log; exit 1; } && \
	echo && $(AIRFLOW_ENV) $(BIN)/ewto kpi --as-of $(DEMO_END) && \
	echo && echo "demo took $$(( $$(date +%s) - start )) s; state in $(EWTO_HOME); try: $(BIN)/ewto kpi --json"

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

format: install
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

test: install lint
	PATH=$(BIN):$$PATH $(BIN)/pytest -q

clean:
	rm -rf $(EWTO_HOME)
