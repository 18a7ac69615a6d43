from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from core.access import restrict
from core.api.errors import Conflict, PayloadTooLarge
from core.api.viewsets import CreateReadViewSet, LabelLookupMixin, ReadOnlyViewSet, RestrictedMixin
from measurements.filtersets import DerivedMetricFilterSet, MeasurementFileFilterSet
from measurements.models import DerivedMetric, Instrument, MeasurementFile
from measurements.services import measurement_file_ingest, resolve_target
from samples.models import Sample

from . import export
from . import serializers as s

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Multipart framing around the file; a body over limit + this is refused before it is parsed.
MULTIPART_SLACK_BYTES = 1024 * 1024


class MeasurementFileViewSet(CreateReadViewSet):
    """Measurement files. POST (multipart) is the instrument upload; GET a file to poll its
    status, failure reason and metrics."""

    queryset = MeasurementFile.objects.select_related("sample", "pixel", "instrument")
    serializer_class = s.MeasurementFileSerializer
    list_serializer_class = s.MeasurementFileListSerializer
    filterset_class = MeasurementFileFilterSet
    ordering_fields = ["created_at", "measured_at", "kind", "status"]
    ordering = ["-created_at", "-id"]
    instrument_actions = ("create",)

    def get_parsers(self):
        # Upload only: a file is multipart. (self.action is not set yet when parsers are chosen.)
        if self.request is not None and self.request.method == "POST":
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action != "list":
            qs = qs.select_related("uploaded_by")
        return qs

    def _respond(self, mf: MeasurementFile, code: int) -> Response:
        data = s.MeasurementFileSerializer(mf, context=self.get_serializer_context()).data
        return Response(data, status=code, headers={"Location": data["url"]})

    def _previous(self, key: str) -> MeasurementFile | None:
        """The upload this user already made with this Idempotency-Key.

        The key lives in the file's own metadata rather than the cache: it survives restarts,
        is shared by every web worker, and needs no new table. Only successful uploads store a
        key; a refused request is simply refused again on retry (validation is deterministic)."""
        return self.get_queryset().filter(uploaded_by=self.request.user, metadata__idempotency_key=key).first()

    @extend_schema(
        request={"multipart/form-data": s.MeasurementUploadSerializer},
        parameters=[OpenApiParameter(IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
                                     description="Any unique string; a retry with the same key returns the first answer")],
        responses={201: s.MeasurementFileSerializer,
                   200: OpenApiResponse(s.MeasurementFileSerializer, description="Same bytes or same key: the existing file")},
    )
    def create(self, request, *args, **kwargs):
        limit = settings.LEDGER_MAX_UPLOAD_BYTES
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit + MULTIPART_SLACK_BYTES:
            raise PayloadTooLarge(f"The upload is over the {limit / 1e6:.0f} MB limit.")
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()[:200]
        if key and (previous := self._previous(key)) is not None:
            return self._respond(previous, status.HTTP_200_OK)

        data = s.MeasurementUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload, fields = data.validated_data["file"], data.validated_data
        if upload.size > limit:
            raise PayloadTooLarge(f"{upload.name}: {upload.size / 1e6:.1f} MB is over the {limit / 1e6:.0f} MB limit.")
        sample, pixel = resolve_target(fields["sample"])
        if not restrict(type(sample).objects.filter(pk=sample.pk), request.user).exists():
            # Same answer as a label that does not exist: never confirm another project's labels.
            raise ValidationError({"sample": [f"no sample or pixel labelled {fields['sample']!r}"]})
        metadata = {**fields["metadata"], **({"idempotency_key": key} if key else {})}
        try:
            result = measurement_file_ingest(
                content=upload.read(), filename=upload.name, sample=sample, pixel=pixel, kind=fields["kind"] or None,
                instrument=self._instrument(fields["instrument"]), user=request.user,
                measured_at=fields["measured_at"], metadata=metadata, parameters=fields["parameters"])
        except IntegrityError:
            # Two retries raced past the sha256 check; the loser answers with the winner's row.
            mf = self.get_queryset().filter(uploaded_by=request.user, metadata__idempotency_key=key).first() if key else None
            if mf is None:
                raise Conflict("The same file is being uploaded concurrently; retry in a moment.") from None
            return self._respond(mf, status.HTTP_200_OK)
        return self._respond(result.file, status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @staticmethod
    def _instrument(value: str) -> Instrument | None:
        if not value:
            return None
        found = Instrument.objects.filter(pk=int(value)) if value.isdigit() else Instrument.objects.filter(name=value)
        instrument = found.first()
        if instrument is None:
            raise ValidationError({"instrument": [f"no instrument {value!r}; ask the lab manager to add it"]})
        return instrument


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class XLSXRenderer(BaseRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class MetricViewSet(ReadOnlyViewSet):
    """Derived metrics (every version; ``?superseded=false`` for the current ones). ``export``
    joins the current ones with each sample's lineage parameters as CSV or Excel."""

    queryset = DerivedMetric.objects.select_related("sample", "device__sample", "pixel")
    serializer_class = s.MetricSerializer
    filterset_class = DerivedMetricFilterSet
    ordering_fields = ["name", "value", "created_at"]
    ordering = ["name", "-created_at"]

    @extend_schema(
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "xlsx"], description="Default csv")],
        responses={(200, "text/csv"): OpenApiTypes.BINARY, (200, XLSXRenderer.media_type): OpenApiTypes.BINARY},
    )
    @action(detail=False, methods=["get"], renderer_classes=[CSVRenderer, XLSXRenderer], pagination_class=None)
    def export(self, request):
        """One row per pixel, device or sample; one column per current metric (unit in the header)
        and per recipe parameter of the sample's lineage. Accepts the list's filters."""
        metrics = self.filter_queryset(self.get_queryset()).filter(superseded=False)
        frame = export.metrics_table(metrics, request.user)
        fmt = request.accepted_renderer.format
        body = export.to_xlsx(frame) if fmt == "xlsx" else export.to_csv(frame)
        return Response(body, headers={"Content-Disposition": f'attachment; filename="ledger-metrics.{fmt}"'})

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors from the export (401, 400 on a bad filter) are JSON like everywhere else, not CSV.
        if response.status_code >= 400:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)



class SampleMetricsViewSet(LabelLookupMixin, RestrictedMixin, viewsets.GenericViewSet):
    """``samples/<label or id>/metrics/``: routed beside samples' SampleViewSet (same prefix, only
    this action), here because metrics sit a layer above samples."""

    queryset = Sample.objects.select_related("project")

    @extend_schema(responses=s.MetricSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None)
    def metrics(self, request, pk=None):
        """Current (non-superseded) metrics of the sample, its device and pixels: every metric row
        of a device or pixel carries the device's sample, so one filter covers all three."""
        sample = self.get_object()
        rows = restrict(DerivedMetric.objects.current().filter(sample=sample), request.user)
        rows = rows.select_related("sample", "device__sample", "pixel").order_by("scope", "pixel__label", "name", "aggregate")
        return Response(s.MetricSerializer(rows, many=True).data)
