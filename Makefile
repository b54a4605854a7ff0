# Gatewayz: every target creates .venv on first use; nothing but Python is needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 0.0.0.0
PORT   ?= 8000
WORKERS ?= 1

.PHONY: install run migrate test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/gatewayz migrate

run: $(STAMP)
	$(BIN)/gatewayz migrate
	$(BIN)/gatewayz catalog load --default
	$(BIN)/gatewayz serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP)
	@command -v wrk >/dev/null || (apt-get install -y wrk >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y wrk >/dev/null 2>&1) || true)
	@command -v wrk >/dev/null || echo "wrk not available: the benchmark falls back to its Python load generator"
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) *.egg-info .gatewayz gatewayz.db*
