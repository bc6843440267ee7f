# Two commands for a fresh machine with Python 3.11: `make run` and `make test`.
# Everything goes into a local virtualenv (.venv); nothing is installed system-wide.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# Server used for the PostgreSQL run of the test suite (a throw-away database is created).
SURVEYAPP_TEST_PG_ADMIN_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
export SURVEYAPP_TEST_PG_ADMIN_URL
# `make run` prints links on the address it serves.
RUN_ENV := SURVEYAPP_ENV=development SURVEYAPP_BASE_URL=http://$(HOST):$(PORT)

.DEFAULT_GOAL := help
.PHONY: help install install-run compile browser deploy-tools run test test-fast test-sqlite test-postgresql \
	test-load lint i18n-check typecheck fmt bench bench-load clean

help:  ## Show the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Two stamps, re-made whenever pyproject.toml changes: `make run` needs only the app and its
# runtime dependencies (.installed-run); tests and linters also need the `test` extra
# (Playwright, schemathesis, pyxform, mypy, ...), installed by .installed-test.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install-run: $(VENV)/.installed-run  ## Create .venv with the app and what running it needs.

install: $(VENV)/.installed-test  ## Create .venv with the app and its test and lint tools.

browser:  ## Install Debian's Chromium for the browser tests, if missing (needs root or sudo).
	@if [ -x "$${SURVEYAPP_CHROMIUM:-/usr/bin/chromium}" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
		|| { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; \
	else \
		sudo apt-get install -y chromium; \
	fi

# nginx and age for tests/deploy (the shipped nginx site run in a real nginx, the walk-through's
# encrypted backups). The tests start nginx processes of their own; where no policy-rc.d
# forbids it (CI has one), Debian's package also starts its default site on port 80.
deploy-tools:  ## Install nginx and age for the deployment tests, if missing (needs root or sudo).
	@if [ -x /usr/sbin/nginx ] && command -v age >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx age >/dev/null \
		|| { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx age >/dev/null; }; \
	else \
		sudo apt-get install -y nginx age; \
	fi

compile: install-run  ## Compile the translation catalogs (.po -> .mo).
	SURVEYAPP_ENV=development $(BIN)/surveyapp i18n compile

run: compile  ## Migrate the local SQLite database, load the demo, serve with a job worker.
	$(RUN_ENV) $(BIN)/surveyapp db upgrade
	$(RUN_ENV) $(BIN)/surveyapp instruments load
	$(RUN_ENV) $(BIN)/surveyapp demo
	@echo "Serving on http://$(HOST):$(PORT)/ with a job worker for letters (Ctrl+C stops both)"
	$(RUN_ENV) $(BIN)/surveyapp jobs worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(RUN_ENV) $(BIN)/surveyapp run --host $(HOST) --port $(PORT)

test: install compile browser deploy-tools  ## Run the whole suite on SQLite, then on PostgreSQL.
	$(MAKE) --no-print-directory test-sqlite
	@if $(BIN)/python -c "import sys; from sqlalchemy import create_engine; create_engine(sys.argv[1], connect_args={'connect_timeout': 3}).connect().close()" "$(SURVEYAPP_TEST_PG_ADMIN_URL)" 2>/dev/null; then \
		$(MAKE) --no-print-directory test-postgresql && \
		if [ -n "$$CI" ] || [ "$$(id -u)" = 0 ]; then \
			$(MAKE) --no-print-directory test-load; \
		else \
			echo "NOTE: the load and fault tests restart PostgreSQL and need root: run 'sudo make test-load'."; \
		fi; \
	elif [ -n "$$CI" ]; then \
		echo "PostgreSQL is not reachable at $(SURVEYAPP_TEST_PG_ADMIN_URL); CI needs both runs." >&2; exit 1; \
	else \
		echo "NOTE: PostgreSQL is not reachable at $(SURVEYAPP_TEST_PG_ADMIN_URL): only the SQLite run was done."; \
		echo "      Start PostgreSQL (or set SURVEYAPP_TEST_PG_ADMIN_URL) and run 'make test-postgresql'."; \
	fi

# Two pytest-xdist workers (this machine has 2 cores), each on its own throw-away database;
# tests marked `slow` (pyproject.toml) are left to `make test`.
test-fast: install compile  ## The edit-test loop: SQLite only, no browser, load or slow tests.
	SURVEYAPP_TEST_DATABASE=sqlite $(BIN)/python -m pytest -q -n 2 -m 'not load and not slow' \
		--ignore=tests/browser

test-sqlite: install compile  ## Run the suite on a temporary SQLite database (two processes).
	SURVEYAPP_TEST_DATABASE=sqlite $(BIN)/python -m pytest -n 2

test-postgresql: install compile  ## Run the suite on throw-away PostgreSQL databases (two processes).
	SURVEYAPP_TEST_DATABASE=postgresql $(BIN)/python -m pytest -n 2

test-load: install compile  ## Load and fault tests: gunicorn + PostgreSQL, 50 residents, restarts (~3 min).
	SURVEYAPP_TEST_DATABASE=postgresql $(BIN)/python -m pytest -m load tests/load

lint: install  ## Check style and common mistakes with ruff, types with mypy, and the catalogs.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	$(MAKE) --no-print-directory i18n-check

# GNU msgfmt's checks (format strings, plural forms, header) are what Poedit, Weblate and
# gettext itself apply; Debian's gettext package provides msgfmt.
i18n-check: install-run  ## Check every catalog with `msgfmt -c` and `surveyapp i18n check`.
	@if command -v msgfmt >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q gettext >/dev/null \
		|| { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gettext >/dev/null; }; \
	else \
		sudo apt-get install -y gettext; \
	fi
	@for po in translations/*/LC_MESSAGES/*.po; do \
		msgfmt --check --output-file=/dev/null "$$po" || { echo "msgfmt -c failed: $$po" >&2; exit 1; }; \
	done
	SURVEYAPP_ENV=development $(BIN)/surveyapp i18n check

typecheck: install  ## Check types with mypy (the packages listed in pyproject's [tool.mypy]).
	$(BIN)/mypy

fmt: install  ## Fix what ruff can fix and format the code.
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install compile browser  ## Run the benchmark scripts (figures go into BENCHMARKS.md by hand).
	$(BIN)/python bench/bench_resident.py
	$(BIN)/python bench/bench_analysis.py
	$(BIN)/python bench/bench_did.py
	$(BIN)/python bench/bench_badges.py
	$(BIN)/python bench/bench_sqlite.py

bench-load: install compile  ## Page saves under load vs. a bare INSERT (wrk + PostgreSQL, ~3 min).
	@if command -v wrk >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null \
		|| { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null; }; \
	else \
		sudo apt-get install -y wrk; \
	fi
	$(BIN)/python bench/bench_load.py

clean:  ## Remove the virtualenv, caches and the local database.
	rm -rf $(VENV) .pytest_cache .ruff_cache instance *.egg-info
