"""Counts that stay cheap on big tables, for the HTML lists and the API alike (issue 15).

``COUNT(*)`` over a restricted 1M-row table costs more than the page it numbers. Up to
``EXACT_COUNT_LIMIT`` rows the count is exact (a count over a LIMIT, so it stops there); past it,
on PostgreSQL, it is the planner's estimate of the same query — and says so (``estimated``), so a
page shows "about 250,000" and the API ``"count_estimated": true``, never a silent guess. Other
databases count exactly (SQLite serves small labs).
"""

from __future__ import annotations

import json
from functools import cached_property

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet

EXACT_COUNT_LIMIT = 10_000


def bounded_count(queryset: QuerySet, limit: int = EXACT_COUNT_LIMIT) -> tuple[int, bool]:
    """(rows, whether that is an estimate)."""
    queryset = queryset.order_by()
    n = queryset[: limit + 1].count()
    if n <= limit:
        return n, False
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.count(), False
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    # The planner may guess fewer rows than the LIMIT just found: the true count is above limit.
    return max(int(plan[0]["Plan"]["Plan Rows"]), limit + 1), True


class EstimatedPaginator(Paginator):
    """Django's Paginator with ``bounded_count``; ``estimated`` tells the template to say "about"."""

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        if isinstance(self.object_list, QuerySet):
            return bounded_count(self.object_list)
        return len(self.object_list), False

    @cached_property
    def count(self) -> int:
        return self._counted[0]

    @property
    def estimated(self) -> bool:
        return self._counted[1]


def annotate_rows(rows: list, annotated: QuerySet, *names: str) -> list:
    """Copy ``names`` (annotations of ``annotated``, e.g. counts) onto ``rows`` in one query over
    just these rows' ids. A COUNT annotation on the list's own queryset makes the database group
    every row of the table before it can take the page's 25 (the run and device lists, issue 15)."""
    values = {v["pk"]: v for v in annotated.filter(pk__in=[r.pk for r in rows]).values("pk", *names)}
    for row in rows:
        for name in names:
            setattr(row, name, values.get(row.pk, {}).get(name))
    return rows
