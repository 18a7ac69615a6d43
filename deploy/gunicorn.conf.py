"""gunicorn settings for LEDger (``gunicorn -c deploy/gunicorn.conf.py config.wsgi:application``).

Workers: WEB_CONCURRENCY (default 2 — sync workers; uploads and analyses are short, analyses run on
Celery). Prometheus multiprocess mode: each worker writes its counters into PROMETHEUS_MULTIPROC_DIR
and /metrics sums them; the directory is emptied when the master starts and a dead worker's live
gauges are dropped (child_exit), as prometheus_client's docs prescribe.
"""

import os
import shutil
from pathlib import Path

_root = Path(__file__).resolve().parent.parent
_run_dir = Path(os.environ.get("LEDGER_RUN_DIR", _root / "var" / "run"))
# Set before any worker imports prometheus_client (no preload_app): the workers inherit it.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_run_dir / "prometheus-web"))

bind = os.environ.get("LEDGER_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
timeout = int(os.environ.get("LEDGER_WEB_TIMEOUT_S", "60"))  # a request longer than this is killed
graceful_timeout = 30  # SIGTERM: requests in flight get this long to finish
keepalive = 5
max_requests = 2000  # recycle workers now and then (matplotlib/pandas memory)
max_requests_jitter = 200
# Only the proxy in front may set X-Forwarded-*; give its address (default: loopback).
forwarded_allow_ips = os.environ.get("LEDGER_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = None  # LEDger logs each request itself, as JSON with the request id (ops.middleware)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = "ledger-web"
control_socket_disable = True  # gunicorn's runtime control socket (one per user's home) is not used
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "pythonjsonlogger.json.JsonFormatter",
                            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "loggers": {"gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False}},
}


def on_starting(server):
    multiproc = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(multiproc, ignore_errors=True)  # counters of a previous run would be summed in
    multiproc.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
