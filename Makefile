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

run: demo
	$(PY) manage.py runserver 127.0.0.1:8000

test: dev-deps
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

bench: dev-deps
	$(TEST_ENV) $(PY) -m bench

lint: dev-deps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: dev-deps
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

check: dev-deps
	$(TEST_ENV) $(PY) manage.py check
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var .pytest_cache
