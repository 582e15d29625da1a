# curation — the two commands a newcomer types are `make run` and `make test`.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Tests and benchmarks never need a real secret; production must set its own.
TEST_ENV := SECRET_KEY=$${SECRET_KEY:-insecure-test-only-key}

.PHONY: run test bench lint format check venv deps dev-deps demo clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changed.
$(VENV)/.deps: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.deps $@

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

demo: deps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py harvest_sample
	$(PY) manage.py load_ranking_demo
	$(PY) manage.py ensure_local_admin

# Serve the embedded mode. Links (canonical, feeds, API) follow ADDRESS unless SITE_URL is set, and
# scheduled issues are published by the server itself (no broker, no beat needed): see README.
ADDRESS ?= 127.0.0.1:8000
run: demo
	$(PY) manage.py runserver $(ADDRESS)

test: dev-deps
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

bench: dev-deps
	$(TEST_ENV) $(PY) -m bench

# lint-imports: the apps import one way only, curation ← papers ← issues ← triage
# (contracts in pyproject.toml).
lint: dev-deps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

format: dev-deps
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

check: dev-deps
	$(TEST_ENV) $(PY) manage.py check
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var .pytest_cache
