# Two commands on a fresh machine: `make demo` runs the example pipeline, `make test` runs the tests.
# Both create (or reuse) ./.venv and install the project into it; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_HOME := $(abspath $(or $(GUARDRAILS_HOME),.demo))

.PHONY: install demo test test-oldest-dagster airflow-demo test-airflow ui bench clean

# '.[all,dev]': the example and the tests use every adapter; a user installs only the extras they use (README).
# --compile-bytecode: machines that set PYTHONDONTWRITEBYTECODE would otherwise recompile dagster, mlflow and
# pandas from source in every process (each test worker, and each server the tests start).
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[all,dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m definitions.demo

# The main suite, then the Airflow adapter's tests in their own virtualenv (see AIRFLOW_VENV below): Airflow 3.3 is
# part of what `make test` proves, and cannot share .venv with MLflow's fastapi (test-airflow installs it).
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=20
	$(MAKE) --no-print-directory test-airflow

# The oldest Dagster that guardrails/dagster/_compat.py supports (SUPPORTED_DAGSTER), in a virtualenv of its own;
# `make test` runs on the newest that pyproject.toml allows. Only the Dagster-facing tests run here; they load
# the example code location, which needs every extra in [all] (MLflow, scikit-learn, GX, pandera), not just [dagster].
OLDEST_DAGSTER := dagster==1.12.20 dagster-webserver==1.12.20 dagster-postgres==0.28.20 dagster-dg-cli==1.12.20
OLDEST_VENV := .venv-dagster-oldest
OLDEST_STAMP := $(OLDEST_VENV)/.installed

$(OLDEST_STAMP): pyproject.toml Makefile
	test -x $(OLDEST_VENV)/bin/python || $(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --upgrade pip uv
	$(OLDEST_VENV)/bin/uv pip install --quiet --compile-bytecode --python $(OLDEST_VENV)/bin/python -e '.[all,dev]' \
		$(OLDEST_DAGSTER)
	touch $(OLDEST_STAMP)

test-oldest-dagster: $(OLDEST_STAMP)
	$(OLDEST_VENV)/bin/python -m pytest -n 2 --dist loadgroup --durations=10 tests/dagster tests/incidents

# Airflow in a virtualenv of its own: apache-airflow-core 3.3 needs fastapi<0.137, which would move the fastapi that
# [mlflow] installed (0.165) in the main one. [airflow] and [dagster] co-install without moving a package, so the
# conformance table runs both adapters here; GX and pandera are left out. [mlflow] (the Airflow model guard) needs only
# fastapi<1, so it fits Airflow's pin; it holds pyarrow<26, importlib-metadata<10 and cachetools<8 to the main venv's.
AIRFLOW_VENV := .venv-airflow
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed

$(AIRFLOW_STAMP): pyproject.toml Makefile
	test -x $(AIRFLOW_VENV)/bin/python || $(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip uv
	$(AIRFLOW_VENV)/bin/uv pip install --quiet --compile-bytecode --python $(AIRFLOW_VENV)/bin/python -e '.[airflow,dagster,duckdb,engines,mlflow]' \
		'pytest>=8,<9.2' pytest-xdist hypothesis 'psycopg2-binary>=2.9' 'asyncpg>=0.30'
	touch $(AIRFLOW_STAMP)

# The example DAG headless on a temporary AIRFLOW_HOME: a good day, a bad day quarantined, a release.
airflow-demo: $(AIRFLOW_STAMP)
	$(AIRFLOW_VENV)/bin/python -m definitions.airflow_demo

test-airflow: $(AIRFLOW_STAMP)
	$(AIRFLOW_VENV)/bin/python -m pytest -n 2 --dist loadgroup --durations=10 tests/airflow \
		tests/conformance/test_airflow_entry_point.py tests/test_core_isolation.py

ui: $(STAMP)
	mkdir -p $(DEMO_HOME)/dagster_home
	DAGSTER_HOME=$(DEMO_HOME)/dagster_home $(BIN)/dagster dev -w workspace.yaml

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) $(OLDEST_VENV) $(AIRFLOW_VENV) .demo
