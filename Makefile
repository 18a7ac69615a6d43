# LEDger — two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PYTEST_ARGS ?= -n 2
PORT   ?= 8000

.PHONY: run test install migrate demo lint screenshots bench worker clean-db ci

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV)/bin/python requirements.txt requirements-dev.txt constraints.txt clients/ledger-client/pyproject.toml
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt -c constraints.txt
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py load_demo

# Embedded mode: SQLite, files under var/, Celery tasks in-process (no broker needed).
run: demo
	@echo "LEDger at http://$(HOST):$(PORT)/  (admin: /admin/, API docs: /api/docs/)"
	DEBUG=true $(PY) manage.py runserver $(HOST):$(PORT)

# lint-imports first: an upward import between apps fails the run before the suite starts.
test: install
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff, then the import contracts (pyproject.toml [tool.importlinter]; README "Layout").
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

screenshots: install
	$(PY) -m pytest tests/browser -k screenshots --screenshots docs/screenshots -p no:xdist

bench: install
	$(PY) bench/bench_led.py
	$(PY) bench/bench_traveller.py
	$(PY) bench/bench_xrd.py
	$(PY) bench/bench_exchange.py
	$(PY) bench/bench_client.py

# A real Celery worker on Redis (production shape): CELERY_BROKER_URL=redis://127.0.0.1:6379/0 make worker
# -B runs the beat schedule (stale-file clean-up) in this worker; run it on one host only.
worker: install
	$(VENV)/bin/celery -A config worker -B -l info -Q ledger -c 2

clean-db:
	rm -f db.sqlite3 db.sqlite3-shm db.sqlite3-wal
