"""Request ids for logs: one id per HTTP request, carried into the Celery task that request enqueued.

The id lives in a ContextVar (set by ``ops.middleware.RequestIdMiddleware`` in the web process and
by the ``task_prerun`` handler in a worker); ``RequestIdFilter`` copies it onto every log record, so
the JSON formatter writes ``request_id`` on each line without callers passing it around.
Imported by ``settings.LOGGING``: keep it free of Django models.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("ledger_request_id", default="")
task_id_var: ContextVar[str] = ContextVar("ledger_task_id", default="")

# What a proxy may hand us in X-Request-ID; anything else is replaced (no log injection).
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Header name in the Celery task message (kombu headers travel with the message to any worker).
TASK_HEADER = "ledger_request_id"


def new_request_id(incoming: str | None = None) -> str:
    if incoming and _VALID_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        task_id = task_id_var.get()
        if task_id:
            record.task_id = task_id
        return True
