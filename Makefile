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

.PHONY: run test lint venv

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
	@echo ""
	$(BIN)/python manage.py runserver $(HOST)

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)
