"""Celery signal handlers: the request id goes into the task message's headers at publish time and
comes back out in the worker before the task runs, so the worker's log lines carry the id of the
upload that caused them."""

from __future__ import annotations

import logging

from celery import signals

from .request_id import TASK_HEADER, request_id_var, task_id_var

log = logging.getLogger("ledger.tasks")
_tokens: dict[str, tuple] = {}


@signals.before_task_publish.connect
def _add_request_id(headers=None, **kwargs) -> None:
    request_id = request_id_var.get()
    if request_id and headers is not None and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


@signals.task_prerun.connect
def _set_request_id(task_id=None, task=None, **kwargs) -> None:
    # Custom message headers appear as attributes of the task's request (Celery protocol 2).
    # In eager mode the web process's own id is still set, so keep it when the message has none.
    request_id = getattr(task.request, TASK_HEADER, None) or request_id_var.get()
    _tokens[task_id] = (request_id_var.set(request_id or ""), task_id_var.set(task_id or ""))
    name = getattr(task, "name", "?")
    log.info("task %s started", name, extra={"task_name": name, "task_args": repr(getattr(task.request, "args", ""))[:200]})


@signals.task_postrun.connect
def _clear_request_id(task_id=None, **kwargs) -> None:
    tokens = _tokens.pop(task_id, None)
    if tokens:
        request_id_var.reset(tokens[0])
        task_id_var.reset(tokens[1])
