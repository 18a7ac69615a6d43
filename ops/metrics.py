"""LEDger's own Prometheus metrics, read at scrape time from the database and the broker.

Nothing is counted in the request path: each scrape runs three grouped queries and one passive
queue declare, so the numbers are right whichever process (web or worker, any host) did the work.
Request, latency and database-query metrics come from django-prometheus; under gunicorn they are
kept per process in PROMETHEUS_MULTIPROC_DIR and summed here (prometheus_client multiprocess mode).
"""

from __future__ import annotations

import logging
import os

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from . import selectors

log = logging.getLogger(__name__)


class LedgerCollector:
    def collect(self):
        files = GaugeMetricFamily("ledger_measurement_files", "Measurement files by processing status", labels=["status"])
        for status, n in selectors.file_status_counts().items():
            files.add_metric([status], n)
        yield files

        age = selectors.oldest_queued_age_s()
        yield GaugeMetricFamily("ledger_oldest_queued_file_age_seconds",
                                "Seconds since the oldest file still queued arrived (0 when none waits)", value=age or 0.0)

        durations = HistogramMetricFamily("ledger_analysis_duration_seconds",
                                          "Duration of the last analysis attempt of each finished file",
                                          labels=["kind", "status"])
        for row in selectors.analysis_durations():
            buckets = [(repr(float(b)), n) for b, n in row["buckets"]] + [("+Inf", row["count"])]
            durations.add_metric([row["kind"], row["status"]], buckets, row["sum_s"])
        yield durations

        up = GaugeMetricFamily("ledger_broker_up", "1 when the broker answered this scrape", labels=["queue"])
        length = GaugeMetricFamily("ledger_queue_length", "Messages waiting in the analysis queue", labels=["queue"])
        queue = selectors.queue_name()
        try:
            depth = selectors.queue_depth(timeout_s=2.0)
        except Exception as exc:  # noqa: BLE001 — a scrape reports the broker as down, it never fails
            log.warning("metrics: broker unreachable: %s", exc)
            up.add_metric([queue], 0)
        else:
            up.add_metric([queue], 1)
            length.add_metric([queue], depth or 0)  # in-process tasks (no broker) never wait
        yield up
        yield length


_ledger_registry = CollectorRegistry(auto_describe=False)
_ledger_registry.register(LedgerCollector())


def exposition() -> bytes:
    """The text exposition: process metrics (summed over gunicorn workers in multiprocess mode)
    followed by LEDger's own."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    return generate_latest(registry) + generate_latest(_ledger_registry)
