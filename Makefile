# make run   — install if needed, migrate, load the demo shop, run web + worker + beat (+ PayPal stand-in)
# make test  — the whole test suite
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ADDR   ?= 127.0.0.1:8000

.PHONY: help install run test test-unit test-integration lint format migrate clean messages

help:
	@echo "make run    install (once), migrate, load demo data, start web + worker + beat on http://127.0.0.1:8000/"
	@echo "make test   run the whole test suite"
	@echo "make lint   ruff check + ruff format --check"
	@echo "make bench  seed a scaled shop, load it with Locust against Django's floor (bench/README.md)"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install only when the dependency lists change.
$(STAMP): pyproject.toml requirements.lock | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24" "setuptools>=68"
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
	touch $(STAMP)

# The Russian translations: locale/*/LC_MESSAGES/django.po are committed, the .mo files compiled here (gettext's msgfmt).
MO := locale/ru/LC_MESSAGES/django.mo
$(MO): locale/ru/LC_MESSAGES/django.po | $(STAMP)
	$(PY) manage.py compilemessages --ignore=.venv

install: $(STAMP) $(MO)

migrate: install
	$(PY) manage.py migrate --noinput

run: migrate
	@if $(PY) manage.py help load_demo >/dev/null 2>&1; then $(PY) manage.py load_demo; \
	else echo "make run: no load_demo command in this checkout; starting with an empty shop"; fi
	$(PY) manage.py runshop --addr $(ADDR)

# pytest exits 5 when it collected nothing: a broken test layout, not a pass.
test: install
	@$(VENV)/bin/pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit 5) - check the test layout" >&2; fi; \
	exit $$status

test-unit: install
	$(VENV)/bin/pytest -m "not integration and not e2e"

test-integration: install
	$(VENV)/bin/pytest tests/integration

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# After wrapping new strings: update the .po files, translate, `make install` compiles them.
messages: install
	$(PY) manage.py makemessages -l ru --ignore=.venv --ignore=tests --ignore=staticfiles

clean:
	rm -rf var/celery staticfiles test-artifacts .pytest_cache

# README pictures: docs/screenshots/*.png at 1280x900, taken by tests/e2e/test_screenshots.py.
.PHONY: screenshots
screenshots: install
	SHOP_SCREENSHOTS=1 DJANGO_ALLOW_ASYNC_UNSAFE=true $(VENV)/bin/pytest tests/e2e/test_screenshots.py -q

# Performance bench (bench/README.md): needs PostgreSQL and Redis; writes bench/results/<date>.json.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): pyproject.toml requirements.lock | $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev,bench]"
	touch $(BENCH_STAMP)

.PHONY: bench
bench: $(BENCH_STAMP)
	$(PY) -m bench.run
