# Two commands on a fresh machine: `make site` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test
NODE   := .cache/node
NSTAMP := $(NODE)/.installed

.PHONY: site serve test lint clean bench

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

# axe-core and the Nu Html Checker (vnu.jar) for the accessibility and HTML tests, pinned by
# tests/node/package-lock.json. Install scripts are skipped: vnu-jar's would try to download
# a Java runtime, and the jar itself is in the package. Without npm those tests skip.
$(NSTAMP): tests/node/package.json tests/node/package-lock.json
	@if command -v npm >/dev/null; then \
	  mkdir -p $(NODE) && cp tests/node/package.json tests/node/package-lock.json $(NODE)/ && \
	  npm ci --prefix $(NODE) --ignore-scripts --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: accessibility and HTML validation tests will be skipped"; fi

# ruff, mypy, and the layers of the package: a package imports only from those below it
# (the contracts are in pyproject.toml; docs/architecture.md draws them).
lint: $(TSTAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: $(TSTAMP) $(NSTAMP) lint
	$(BIN)/python -m pytest

# Reports cold-build times beside Pelican and Hugo (medians of BENCH_RUNS=3 runs, tools taking
# turns), rebuild times and peak memory on generated corpora (1k, 10k; BENCH_FULL=1 adds 100k;
# BENCH_SIZES=1000 picks sizes; BENCH_PEERS=0 skips the peers). It never fails on a time.
bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf build .bench .cache .dossier-cache .dossier-serve .build.lock .build.tmp-* .build.old-* $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
