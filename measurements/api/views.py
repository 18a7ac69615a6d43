from __future__ import annotations

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import restrict
from core.api.errors import ErrorResponseSerializer, PayloadTooLarge
from core.api.viewsets import CreateReadViewSet, LabelLookupMixin, ReadOnlyViewSet, RestrictedMixin
from core.downloads import api_wants_bom, csv_response
from measurements.filtersets import DerivedMetricFilterSet, MeasurementFileFilterSet
from measurements.metric_names import METRIC_NAMES
from measurements.models import Calibration, DerivedMetric, Instrument, MeasurementFile
from measurements.services import (
    calibration_add,
    measurement_file_ingest,
    measurement_file_reanalyze,
    resolve_target,
)
from samples.models import Sample

from . import export
from . import serializers as s

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_PK = 2**63 - 1
ERROR_BODY = ErrorResponseSerializer  # {"error": {"code", "message", "fields"}}
ERROR = OpenApiResponse(ERROR_BODY, description="An error in the one error shape")
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
        # Upload only (POST on the list): a file is multipart; reanalyze takes JSON. (self.action
        # is not set yet when parsers are chosen; the URL kwargs are.)
        if self.request is not None and self.request.method == "POST" and "pk" not in self.kwargs:
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action != "list":
            qs = qs.select_related("uploaded_by")
        return qs

    def _respond(self, mf: MeasurementFile, code: int, *, just_created: bool = False,
                 calibrations: list[Calibration] | None = None) -> Response:
        context = self.get_serializer_context()
        if just_created:
            context["just_created"] = mf
            context["just_created_calibrations"] = calibrations or []
        data = s.MeasurementFileSerializer(mf, context=context).data
        return Response(data, status=code, headers={"Location": data["url"]})

    def _previous(self, key: str) -> MeasurementFile | None:
        """The upload this user already made with this Idempotency-Key.

        The key is a column of the file row (indexed, unique per user): it survives restarts and
        is shared by every web worker. Only successful uploads store a key; a refused request is
        simply refused again on retry (validation is deterministic)."""
        # No ORDER BY: (uploaded_by, idempotency_key) is unique, and with the list's ordering and a
        # LIMIT PostgreSQL walked the created_at index of every file instead of this key's index.
        # A new key (the usual case) costs one lean lookup of the unique (uploaded_by, key) index; only a
        # retry loads the row with its related objects for the answer.
        mine = MeasurementFile.objects.filter(uploaded_by=self.request.user, idempotency_key=key)
        found = mine.order_by().values_list("pk", flat=True)[:1]
        if not found:
            return None
        return self.get_queryset().order_by().get(pk=found[0])

    @extend_schema(
        request={"multipart/form-data": s.MeasurementUploadSerializer},
        parameters=[OpenApiParameter(IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
                                     description="Any unique string; a retry with the same key returns the first answer")],
        responses={201: s.MeasurementFileSerializer,
                   200: OpenApiResponse(s.MeasurementFileSerializer, description="Same bytes or same key: the existing file"),
                   400: ERROR, 401: ERROR, 403: ERROR, 409: OpenApiResponse(ERROR_BODY, description=(
                       "The bytes are stored for another target, or with other parameters or kind "
                       "(re-analyse that file instead)")),
                   413: ERROR, 415: OpenApiResponse(ERROR_BODY, description="No parser reads these bytes"),
                   429: ERROR},
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
        # Among the samples the user may see: another project's label reads as one that does not exist.
        sample, pixel = resolve_target(fields["sample"], request.user)
        metadata = dict(fields["metadata"])
        if fields["column_map"]:
            metadata["column_map"] = fields["column_map"]
        # Two retries racing with one key: the service's unique index makes the loser answer with the winner.
        result = measurement_file_ingest(
            content=upload, filename=upload.name, sample=sample, pixel=pixel, kind=fields["kind"] or None,
            instrument=instrument_by_name_or_id(fields["instrument"]), user=request.user,
            measured_at=fields["measured_at"], metadata=metadata, parameters=fields["parameters"],
            calibrations=calibrations_by_ids(fields["calibrations"]), idempotency_key=key)
        if result.created:
            # The calibrations this request named are the row's: the response lists them without a query.
            return self._respond(result.file, status.HTTP_201_CREATED, just_created=True,
                                 calibrations=result.calibrations)
        return self._respond(result.file, status.HTTP_200_OK)

    @extend_schema(
        request=s.ReanalysisSerializer,
        responses={202: OpenApiResponse(s.MeasurementFileSerializer, description="Queued again; poll the file"),
                   400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: OpenApiResponse(
                       ERROR_BODY, description="The file is being analysed right now"), 429: ERROR},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def reanalyze(self, request, pk=None):
        """Analyse the file again, with new parameters, another kind, a column map or other
        calibrations. The current analysis stays, marked superseded, once the new one is stored."""
        mf = self.get_object()
        data = s.ReanalysisSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        calibrations = None if fields["calibrations"] is None else calibrations_by_ids(fields["calibrations"])
        mf = measurement_file_reanalyze(mf, parameters=fields["parameters"], kind=fields["kind"] or None,
                                        column_map=fields["column_map"], sample_column=fields["sample_column"],
                                        calibrations=calibrations, user=request.user)
        return self._respond(mf, status.HTTP_202_ACCEPTED)


def instrument_by_name_or_id(value: str) -> Instrument | None:
    if not value:
        return None
    is_id = value.isascii() and value.isdigit() and int(value) <= MAX_PK
    found = Instrument.objects.filter(pk=int(value)) if is_id else Instrument.objects.filter(name=value)
    instrument = found.first()
    if instrument is None:
        raise ValidationError({"instrument": [f"no instrument {value!r}; ask the lab manager to add it"]})
    return instrument


def calibrations_by_ids(value) -> list[Calibration]:
    """"3,7" or [3, 7] → those calibrations, every one of which must exist."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if any(not (p.isascii() and p.isdigit()) or int(p) > MAX_PK for p in parts):
            raise ValidationError({"calibrations": ["give calibration ids, comma-separated (e.g. 3,7)"]})
        ids = [int(p) for p in parts]
    else:
        ids = list(value or [])
    found = {c.pk: c for c in Calibration.objects.filter(pk__in=ids)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ValidationError({"calibrations": [f"no calibration {', '.join(missing)}"]})
    return [found[i] for i in ids]


class CalibrationViewSet(CreateReadViewSet):
    """Instrument calibrations (photodiode responsivity, spectrometer intensity, integrating
    sphere) with validity dates. A file from the instrument uses the one valid at its measured_at.
    POST (multipart) adds one; they are lab-wide, like instruments, and never deleted."""

    queryset = Calibration.objects.select_related("instrument", "uploaded_by")
    serializer_class = s.CalibrationSerializer
    filterset_fields = ["role"]
    ordering_fields = ["valid_from", "created_at"]
    ordering = ["instrument__name", "role", "-valid_from"]

    def get_parsers(self):
        if self.request is not None and self.request.method == "POST":
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()

    @extend_schema(request={"multipart/form-data": s.CalibrationUploadSerializer},
                   responses={201: s.CalibrationSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 413: ERROR,
                              415: OpenApiResponse(ERROR_BODY, description="Not a curve vs wavelength"), 429: ERROR})
    def create(self, request, *args, **kwargs):
        data = s.CalibrationUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        upload = fields["file"]
        if upload.size > settings.LEDGER_MAX_UPLOAD_BYTES:
            raise PayloadTooLarge(f"{upload.name}: over the upload limit.")
        cal = calibration_add(instrument=instrument_by_name_or_id(fields["instrument"]), role=fields["role"],
                              content=upload.read(), filename=upload.name, valid_from=fields["valid_from"],
                              valid_until=fields["valid_until"], notes=fields["notes"], user=request.user)
        return Response(s.CalibrationSerializer(cal, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


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

    queryset = s.with_warnings(DerivedMetric.objects.select_related("sample", "device__sample", "pixel"))
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
        table = export.MetricsTable(metrics, request.user)
        fmt = request.accepted_renderer.format
        if fmt == "xlsx":
            return FileResponse(export.xlsx_file(table), as_attachment=True, filename="ledger-metrics.xlsx",
                                content_type=XLSXRenderer.media_type)
        # No BOM for programs unless ?bom=1 (the web pages' export buttons ask for it): core.downloads.
        return csv_response(export.csv_chunks(table), "ledger-metrics.csv", bom=api_wants_bom(request.query_params))

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
        rows = s.with_warnings(rows.select_related("sample", "device__sample", "pixel")
                               .order_by("scope", "pixel__label", "name", "aggregate"))
        return Response(s.MetricSerializer(rows, many=True).data)


class MetricNamesView(APIView):
    """Human names and units of every metric (the registry the pages use): ``eqe_max`` → "EQE max", "%"."""

    @extend_schema(responses=s.MetricNameSerializer(many=True))
    def get(self, request):
        return Response([m.to_dict() for m in METRIC_NAMES.values()])
