"""Base viewsets: every queryset goes through ``core.access.restrict`` (the one place that knows
who sees what), objects are found by label or id, and nothing is ever hard-deleted (no DELETE
routes: the router answers 405)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated

from core.access import restrict

from .pagination import Pagination
from .permissions import InstrumentLimited
from .throttling import TokenRateThrottle


class LabelLookupMixin:
    """``/samples/DEV-0001/`` and ``/samples/12/`` both work: all digits is an id, anything
    else the ``label_field`` (labels always carry a letter prefix, so the two never clash)."""

    label_field = "label"
    lookup_value_regex = "[^/]+"

    def get_object(self):
        # List filters (?kind=…) do not apply to a detail route: only restrict() does.
        queryset = self.get_queryset()
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        # isdecimal() alone takes "³" or "٣" (int() refuses those: a 500); ids are ASCII digits.
        if value.isascii() and value.isdigit():
            if int(value) > 2**63 - 1:  # past BigAutoField: no such row (the driver would overflow)
                raise Http404
            lookup = {"pk": int(value)}
        else:
            lookup = {self.label_field: value}
        obj = get_object_or_404(queryset, **lookup)
        self.check_object_permissions(self.request, obj)
        return obj


class RestrictedMixin:
    """``queryset`` plus ``restrict``; ``list_serializer_class`` for compact lists."""

    permission_classes = [IsAuthenticated, InstrumentLimited]
    throttle_classes = [TokenRateThrottle]
    pagination_class = Pagination
    list_serializer_class = None
    instrument_actions: tuple[str, ...] = ()

    def get_queryset(self):
        return restrict(super().get_queryset(), self.request.user)

    def get_serializer_class(self):
        if self.action == "list" and self.list_serializer_class is not None:
            return self.list_serializer_class
        return super().get_serializer_class()


class ReadOnlyViewSet(RestrictedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class CreateReadViewSet(RestrictedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    pass
