# scrm developer entry points. `make run` and `make test` work on a bare checkout: they create
# .venv, install the project, and (for run) migrate and seed the demo data once.

# The interpreter that creates .venv: python3.11 (the version the project targets) when it is
# installed, else python3. Override with `make PYTHON=python3.12 run`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1:8000
DEMO_PASSWORD = $(or $(SCRM_DEMO_PASSWORD),scrm-demo-2026)

.PHONY: run test lint typecheck venv screenshots

# DEBUG defaults to off (production: real secrets required, HTTPS only); the development server
# turns it on itself. `make test` needs nothing: pytest sets DEBUG=1 (pyproject.toml, pytest-env).
run: export DEBUG = 1
run: $(STAMP)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --if-empty
	@echo ""
	@echo "scrm at http://$(HOST)/admin/ (API http://$(HOST)/api/v1/, docs /api/docs/)"
	@echo "Demo logins, password $(DEMO_PASSWORD):"
	@echo "  admin       superuser"
	@echo "  manager1    Sales manager"
	@echo "  lead1       Team lead (lead2 too)"
	@echo "  rep1        Sales rep (rep1 .. rep20)"
	@echo "  hr1         HR"
	@echo "  legal1      Legal"
	@echo "  auditor1    Auditor"
	@echo "  security1   Security officer"
	@echo "Everyone but the reps is asked for a two-factor code after the password:"
	@echo "  $(BIN)/python manage.py demo_otp USER prints it (secrets for an app: README.md)"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST)

# Two runs: the browser journeys (tests/browser) keep pytest-playwright's event loop alive for
# the rest of their session, and Django refuses database work in a thread that runs one.
test: $(STAMP)
	$(BIN)/pytest --ignore=tests/browser
	$(BIN)/pytest tests/browser

# ruff, then mypy ([tool.mypy] in pyproject.toml). The django-stubs plugin imports the settings,
# which refuse to start without real secrets unless DEBUG is on. `make typecheck`: mypy alone.
lint: export DEBUG = 1
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

typecheck: export DEBUG = 1
typecheck: $(STAMP)
	$(BIN)/mypy

venv: $(STAMP)

# The main pages per demo role, signed in through the real login + TOTP, 1366x900, zh-hans:
# docs/screenshots/<role>-<page>.png over a throwaway SQLite demo (tools/screenshots.py; needs
# /usr/bin/chromium). `make screenshots ONLY=rep1,hr1` for some roles.
screenshots: export DEBUG = 1
screenshots: $(STAMP)
	$(BIN)/python tools/screenshots.py $(if $(ONLY),--only $(ONLY))

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# --- benchmarks (docs/benchmarks.md) ------------------------------------------------------------
# `make bench` rebuilds a throwaway PostgreSQL database at a small scale (1 % of 1 M customers /
# 10 M messages / 500 staff: under a minute to generate), runs benchmarks 1, 2, 3, 6, 7 and 5
# (ingest after the reads: its messages are all "now" and would crowd the newest days the
# searches walk), then the retention purge (it deletes, so it runs last), and writes the
# figures into docs/benchmarks.md (section "make bench run: $(BENCH_LABEL)").
#   make bench                                         quick: scale 0.01, 200 requests per case
#   make bench BENCH_SCALE=1 BENCH_DB=scrm_bench BENCH_LABEL=full      1 M / 10 M (~9 min to build)
#   make bench BENCH_FRESH=0 BENCH_DB=scrm_bench BENCH_LABEL=full      reuse an existing dataset
# BENCH_DB must start with scrm_bench; the generator and every script refuse any other database.
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
BENCH_DB ?= scrm_bench_quick
BENCH_SCALE ?= 0.01
BENCH_REQUESTS ?= 200
BENCH_LABEL ?= quick
BENCH_FRESH ?= 1
BENCH_LOAD_DURATION ?= 2m
BENCH_URL = $(BENCH_PG)/$(BENCH_DB)

.PHONY: bench bench-pg-config
# The PostgreSQL settings of bench/postgresql.conf (ALTER SYSTEM), then a restart of the local
# cluster: the full-scale figures in docs/benchmarks.md were taken with them.
bench-pg-config:
	grep -E '^[a-z_]+ = ' bench/postgresql.conf | while read -r name _ value; do \
		psql "$(BENCH_PG)/postgres" -qc "ALTER SYSTEM SET $$name = '$$value'" || exit 1; \
	done
	pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql)" main restart

# The benchmarks run on the development keys (.scrm-dev-keys.json); bench/load_test.py starts
# its gunicorn with DEBUG off and those keys exported.
bench: export DEBUG = 1
bench: $(STAMP)
	@case "$(BENCH_DB)" in scrm_bench*) ;; *) echo "BENCH_DB must start with scrm_bench"; exit 2;; esac
	@mkdir -p bench/results/$(BENCH_LABEL)
	@if [ "$(BENCH_FRESH)" = 1 ]; then \
		psql "$(BENCH_PG)/postgres" -qc 'DROP DATABASE IF EXISTS "$(BENCH_DB)" WITH (FORCE)' && \
		psql "$(BENCH_PG)/postgres" -qc "CREATE DATABASE \"$(BENCH_DB)\" ENCODING 'UTF8' TEMPLATE template0" && \
		DATABASE_URL=$(BENCH_URL) $(BIN)/python manage.py migrate --no-input -v 0 && \
		DATABASE_URL=$(BENCH_URL) $(BIN)/python manage.py generate_dataset --scale $(BENCH_SCALE) \
			--json bench/results/$(BENCH_LABEL)/generate.json || exit 1; \
	fi
	DATABASE_URL=$(BENCH_URL) $(BIN)/python bench/api_latency.py --requests $(BENCH_REQUESTS) --label $(BENCH_LABEL)
	DATABASE_URL=$(BENCH_URL) $(BIN)/python bench/search_bench.py --requests $(BENCH_REQUESTS) --label $(BENCH_LABEL)
	DATABASE_URL=$(BENCH_URL) $(BIN)/python bench/load_test.py --duration $(BENCH_LOAD_DURATION) --label $(BENCH_LABEL)
	DATABASE_URL=$(BENCH_URL) $(BIN)/python bench/audit_cost.py --label $(BENCH_LABEL)
	DATABASE_URL=$(BENCH_URL) $(BIN)/python bench/ingest_bench.py --label $(BENCH_LABEL)
	DATABASE_URL=$(BENCH_URL) $(BIN)/python bench/purge_bench.py --label $(BENCH_LABEL)
	$(BIN)/python bench/report.py --label $(BENCH_LABEL)
