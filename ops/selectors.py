"""Reads for the probes and the metrics: cheap aggregate queries over measurement files, and the
broker's own view of the queue and the workers."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.utils import timezone

from measurements.models import FileStatus, MeasurementFile

# Upper bounds (s) of the analysis-duration histogram: most analyses take well under a second,
# the timeout (LEDGER_ANALYSIS_TIMEOUT_S, 600 s by default) is the last bucket before +Inf.
DURATION_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0)


def file_status_counts() -> dict[str, int]:
    counts = {status: 0 for status in FileStatus.values}
    for row in MeasurementFile.objects.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def oldest_queued_age_s() -> float | None:
    """Seconds since the oldest file still ``queued`` arrived (None when nothing waits)."""
    oldest = MeasurementFile.objects.filter(status=FileStatus.QUEUED).aggregate(t=Min("created_at"))["t"]
    return None if oldest is None else max(0.0, (timezone.now() - oldest).total_seconds())


def analysis_durations() -> list[dict]:
    """Per kind and terminal status: count, total seconds and cumulative bucket counts of the last
    attempt's duration (``finished_at − started_at``). One grouped query over finished files."""
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    buckets = {f"le_{i}": Count("id", filter=Q(duration__lte=timedelta(seconds=b))) for i, b in enumerate(DURATION_BUCKETS_S)}
    rows = (MeasurementFile.objects.order_by()
            .filter(status__in=[FileStatus.DONE, FileStatus.FAILED], started_at__isnull=False, finished_at__isnull=False)
            .annotate(duration=duration).values("kind", "status")
            .annotate(n=Count("id"), total=Sum("duration"), **buckets))
    out = []
    for row in rows:
        total = row["total"]
        out.append({"kind": row["kind"], "status": row["status"], "count": row["n"],
                    "sum_s": total.total_seconds() if total is not None else 0.0,
                    "buckets": [(b, row[f"le_{i}"]) for i, b in enumerate(DURATION_BUCKETS_S)]})
    return out


def queue_name() -> str:
    return settings.CELERY_TASK_DEFAULT_QUEUE


def queue_depth(timeout_s: float = 2.0) -> int | None:
    """Messages waiting in the analysis queue on the broker (None without a broker: tasks run in-process)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    from celery import current_app as app  # the project app (config.celery), without importing upwards
    from kombu.exceptions import ChannelError

    with app.connection_for_read(connect_timeout=timeout_s) as conn:
        conn.ensure_connection(max_retries=1)
        try:
            return conn.default_channel.queue_declare(queue=queue_name(), passive=True).message_count
        except ChannelError as exc:
            # 404: Redis keeps no key for an empty list, RabbitMQ has no queue nobody declared yet —
            # either way nothing is waiting. Anything else is a broker fault and propagates.
            if "NOT_FOUND" in str(exc) or getattr(exc, "code", None) == 404:
                return 0
            raise


def workers_on_queue(timeout_s: float) -> list[str]:
    """Names of the workers that answer within ``timeout_s`` and consume the analysis queue.

    Asks for the first reply only (fast when a worker is up); waits the whole timeout only when
    that first worker serves other queues."""
    from celery import current_app as app  # the project app (config.celery), without importing upwards

    queue = queue_name()

    def ours(replies) -> list[str]:
        return sorted(name for name, queues in (replies or {}).items() if any(q.get("name") == queue for q in queues))

    found = ours(app.control.inspect(timeout=timeout_s, limit=1).active_queues())
    if found:
        return found
    return ours(app.control.inspect(timeout=timeout_s).active_queues())
