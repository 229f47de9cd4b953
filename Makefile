# Two commands a new machine needs: `make demo` and `make test`.
# Python packages go into .venv; each install step re-runs only when its inputs change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint check-types system-deps opencode bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/hive demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

check-types: $(VENV)/.installed-test
	$(BIN)/mypy

system-deps:
	bash scripts/system-deps.sh

# The OpenCode binary the agent tests run, in .cache/opencode (scripts/opencode.sh).
opencode:
	bash scripts/opencode.sh

test: lint check-types system-deps opencode
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python bench/create.py
	$(BIN)/python bench/include_copy.py
	$(BIN)/python bench/checkout.py
	$(BIN)/python bench/services.py
	$(BIN)/python bench/timings.py
	$(BIN)/python bench/events.py
	$(BIN)/python bench/recovery.py
	$(BIN)/python bench/resources.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
