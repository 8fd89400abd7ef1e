# Two commands on a fresh machine: `make site` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test

.PHONY: site serve test lint clean

site: $(STAMP)
	$(BIN)/dossier build .

# Preview while editing: rebuilds on every change and reloads the open pages.
serve: $(STAMP)
	$(BIN)/dossier serve .

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TSTAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

lint: $(TSTAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

test: $(TSTAMP) lint
	$(BIN)/python -m pytest

clean:
	rm -rf build .build.lock .build.tmp-* .build.old-* $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
