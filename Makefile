# Two commands on a fresh machine: `make demo` runs the example pipeline, `make test` runs the tests.
# Both create (or reuse) ./.venv and install the project into it; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_HOME := $(abspath $(or $(GUARDRAILS_HOME),.demo))

.PHONY: install demo test ui bench clean

# --compile-bytecode: machines that set PYTHONDONTWRITEBYTECODE would otherwise recompile dagster, mlflow and
# pandas from source in every process (each test worker, and each server the tests start).
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m definitions.demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=20

ui: $(STAMP)
	mkdir -p $(DEMO_HOME)/dagster_home
	DAGSTER_HOME=$(DEMO_HOME)/dagster_home $(BIN)/dagster dev -w workspace.yaml

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .demo
