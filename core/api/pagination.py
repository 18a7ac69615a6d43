"""``?limit=&offset=`` pages, bounded counts, and keyset cursors for deep pages (issue 15).

An offset is read by skipping that many rows: page 50,000 of the metrics reads 500k index entries.
Every page therefore also offers ``next_cursor``, a link that carries the last row's ordering values;
following it asks for the rows after that one (a keyset: ``(name, created_at, id) > (…)``), which
costs the same on the first page and the last. ``next``/``previous`` stay offset links for clients
that page by number; a request with ``?cursor=`` answers with ``next`` as a cursor link too.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.pagination import EXACT_COUNT_LIMIT, bounded_count

DEFERRED_OFFSET = 1000  # from this offset on, page the ids by the index first (``_offset_page``)


def _ordering(queryset) -> list[tuple[str, bool]] | None:
    """[(field name, descending)] ending in the primary key, or None when the order is not a plain
    list of the model's own non-null columns (then no cursor is offered)."""
    terms = list(queryset.query.order_by or queryset.model._meta.ordering or [])
    out: list[tuple[str, bool]] = []
    opts = queryset.model._meta
    for term in terms:
        if not isinstance(term, str) or "__" in term or term.lstrip("-") == "?":
            return None
        name = term.lstrip("-")
        name = opts.pk.name if name == "pk" else name
        try:
            field = opts.get_field(name)
        except FieldDoesNotExist:
            return None
        if field.null or field.is_relation and not field.concrete:
            return None
        out.append((field.attname, term.startswith("-")))
    if not any(name == opts.pk.attname for name, _ in out):
        out.append((opts.pk.attname, out[-1][1] if out else False))
    return out


def _after(ordering: list[tuple[str, bool]], values: list) -> Q:
    """Rows strictly after ``values`` in ``ordering``: OR over i of (equal before i, beyond at i)."""
    q = Q()
    for i, (name, desc) in enumerate(ordering):
        term = Q(**{f"{n}": v for (n, _), v in zip(ordering[:i], values[:i], strict=True)})
        term &= Q(**{f"{name}__{'lt' if desc else 'gt'}": values[i]})
        q |= term
    return q


class Pagination(LimitOffsetPagination):
    """``count`` is exact up to ``core.pagination.EXACT_COUNT_LIMIT`` rows and the planner's estimate
    past it on PostgreSQL, with ``count_estimated: true`` saying which."""

    default_limit = 50
    max_limit = 500
    cursor_query_param = "cursor"
    count_estimated = False

    def get_count(self, queryset):
        count, self.count_estimated = bounded_count(queryset)
        return count

    def paginate_queryset(self, queryset, request, view=None):
        self._order, self._opts, self._next_values = _ordering(queryset), queryset.model._meta, None
        if self._order:  # the primary key breaks ties, so offset and cursor pages agree row for row
            queryset = queryset.order_by(*[f"{'-' if desc else ''}{name}" for name, desc in self._order])
        token = request.query_params.get(self.cursor_query_param)
        if not token:
            page = self._offset_page(queryset, request)
            if page is not None and self._order and self.offset + len(page) < self.count:
                self._next_values = self._values_of(page[-1]) if page else None
            return page
        if self._order is None:
            raise ValidationError({"cursor": ["this list's order cannot be paged by cursor; use offset"]})
        values = self._decode(token)
        self.request, self.limit, self.offset = request, self.get_limit(request), None
        self.count = self.get_count(queryset)
        rows = list(queryset.filter(_after(self._order, values))[: self.limit + 1])
        if len(rows) > self.limit:
            rows = rows[: self.limit]
            self._next_values = self._values_of(rows[-1])
        return rows

    def _offset_page(self, queryset, request):
        """LimitOffsetPagination's page; past ``DEFERRED_OFFSET`` rows a deferred join: the page's
        ids first (a narrow scan of the ordering's index, no row bodies, no joins of the serializer's
        select_related), then those rows by primary key, in that order — the same rows as the slice."""
        self.request, self.limit = request, self.get_limit(request)
        if self.limit is None:
            return None
        self.count = self.get_count(queryset)
        self.offset = self.get_offset(request)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        if self.count == 0 or self.offset > self.count:
            return []
        if self._order is None or self.offset < DEFERRED_OFFSET:
            return list(queryset[self.offset:self.offset + self.limit])
        ids = list(queryset.values_list("pk", flat=True)[self.offset:self.offset + self.limit])
        rows = {obj.pk: obj for obj in queryset.filter(pk__in=ids)}
        return [rows[pk] for pk in ids if pk in rows]

    def _values_of(self, obj) -> list:
        return [getattr(obj, name) for name, _ in self._order]

    def _encode(self, values: list) -> str:
        # isoformat keeps the microseconds (DjangoJSONEncoder rounds to milliseconds: a wrong keyset)
        values = [v.isoformat() if isinstance(v, dt.date) else v for v in values]
        body = json.dumps({"o": [f"{'-' if d else ''}{n}" for n, d in self._order], "v": values})
        return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")

    def _decode(self, token: str) -> list:
        try:
            body = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            order, raw = body["o"], body["v"]
        except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
            raise ValidationError({"cursor": ["not a cursor this list gave out"]}) from None
        if order != [f"{'-' if d else ''}{n}" for n, d in self._order] or len(raw) != len(self._order):
            raise ValidationError({"cursor": ["the cursor belongs to another ordering or list"]})
        try:  # get_field takes attnames too (sample_id); to_python parses the ISO datetimes back
            return [self._opts.get_field(name).to_python(v) for (name, _), v in zip(self._order, raw, strict=True)]
        except (DjangoValidationError, FieldDoesNotExist):
            raise ValidationError({"cursor": ["not a cursor this list gave out"]}) from None

    def get_next_link(self):
        if self.offset is None:  # a cursor request: the next cursor, if any
            return self.get_next_cursor_link()
        return super().get_next_link()

    def get_previous_link(self):
        if self.offset is None:
            return None
        return super().get_previous_link()

    def get_next_cursor_link(self):
        if self._next_values is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.offset_query_param)
        return replace_query_param(url, self.cursor_query_param, self._encode(self._next_values))

    def get_paginated_response(self, data):
        return Response({"count": self.count, "count_estimated": self.count_estimated,
                         "next": self.get_next_link(), "previous": self.get_previous_link(),
                         "next_cursor": self.get_next_cursor_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        props = schema["properties"]
        props["count_estimated"] = {"type": "boolean", "description": (
            f"true when count is PostgreSQL's estimate (past {EXACT_COUNT_LIMIT:,} rows)")}
        props["next_cursor"] = {"type": "string", "nullable": True, "format": "uri", "description": (
            "The next page by keyset (?cursor=…): as cheap deep in the list as at its start")}
        schema["properties"] = {k: props[k] for k in ["count", "count_estimated", "next", "previous", "next_cursor",
                                                      "results"] if k in props}
        schema["required"] = sorted({*schema.get("required", []), "count", "count_estimated", "results"})
        return schema

    def get_schema_operation_parameters(self, view):
        return [*super().get_schema_operation_parameters(view), {
            "name": self.cursor_query_param, "required": False, "in": "query",
            "description": "A next_cursor token from the previous page (replaces offset)",
            "schema": {"type": "string"}}]
