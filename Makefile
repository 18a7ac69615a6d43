# LEDger — two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
# loadfile: a test module runs on one xdist worker, so a module's real server (tests/ops: slapd, the
# OIDC provider, `make serve`) is started once, not once per worker.
PYTEST_ARGS ?= -n 2 --dist loadfile
PORT   ?= 8000
# The base of the URLs in QR codes follows the port `make run` serves on; for a phone to open a
# scanned code, run with HOST=0.0.0.0 SITE_URL=http://<this machine's LAN address>:$(PORT).
SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test install install-ldap migrate demo lint screenshots bench bench-instructions bench-load worker serve clean-db ci

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV)/bin/python requirements.txt requirements-dev.txt requirements-ldap.txt constraints.txt clients/ledger-client/pyproject.toml
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt -c constraints.txt
	@# LDAP sign-in builds python-ldap against Debian's headers: installed when they are there (always in CI).
	@if [ -e /usr/include/lber.h ] || [ "$$CI" = true ]; then $(PIP) install --quiet -r requirements-ldap.txt -c constraints.txt; \
	 else echo "note: LDAP sign-in not installed (apt-get install libldap2-dev libsasl2-dev, then make install-ldap)"; fi
	@touch $(STAMP)

install: $(STAMP)

install-ldap: $(STAMP)
	$(PIP) install --quiet -r requirements-ldap.txt -c constraints.txt

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py load_demo

# Embedded mode: SQLite, files under var/, Celery tasks in-process (no broker needed).
run: demo
	@echo "LEDger at http://$(HOST):$(PORT)/  (admin: /admin/, API docs: /api/docs/)"
	DEBUG=true SITE_URL=$(SITE_URL) $(PY) manage.py runserver $(HOST):$(PORT)

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
	$(PY) bench/bench_analysis.py
	$(PY) bench/bench_traveller.py
	$(PY) bench/bench_xrd.py
	$(PY) bench/bench_exchange.py
	$(PY) bench/bench_client.py
	$(PY) bench/bench_insights.py

# Instruction counts (callgrind) of parse + analysis against the bare read: steady where CPU time
# on a shared machine is not. Needs valgrind; about a minute a run, three runs a case.
bench-instructions: install
	$(PY) bench/bench_instructions.py led el "lifetime: 1" "lifetime: 4" xrd

# The production shape on this machine: gunicorn (WEB_CONCURRENCY workers) + a Celery worker + beat
# under supervisord, after migrate and collectstatic. Needs DATABASE_URL (PostgreSQL), CELERY_BROKER_URL
# and SECRET_KEY; Ctrl-C or SIGTERM stops it cleanly. README "Running it for a lab".
serve: install
	exec deploy/serve

# Load test through gunicorn with 4 workers (loopback; needs PostgreSQL and Redis; its own database).
bench-load: install
	$(PY) bench/bench_load.py

# A real Celery worker on Redis (production shape): CELERY_BROKER_URL=redis://127.0.0.1:6379/0 make worker
# -B runs the beat schedule (stale-file clean-up) in this worker; run it on one host only.
worker: install
	$(VENV)/bin/celery -A config worker -B -l info -Q ledger -c 2

clean-db:
	rm -f db.sqlite3 db.sqlite3-shm db.sqlite3-wal
