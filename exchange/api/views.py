"""Exchange endpoints under /api/v1/exchange/ and the printers: thin views over the selectors and
services. What the user cannot see is 404, as everywhere else in the API."""

from __future__ import annotations

import json
import re

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import restrict
from core.api.authentication import HashedTokenAuthentication
from core.api.permissions import is_instrument
from core.downloads import api_wants_bom, csv_response
from samples.models import ProcessRun, Project, Sample

from .. import services
from ..eln import MEDIA_TYPE, write_eln
from ..models import Printer, PrintJob
from ..peled_selectors import XLSX, peled_devices_for, peled_table, to_csv, to_xlsx
from ..selectors import project_archive, samples_archive, visible_print_jobs

MAX_SAMPLES = 200
MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024  # the reader's own limit on what an archive expands to


class _BinaryRenderer(BaseRenderer):
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data).encode()


class ElnRenderer(_BinaryRenderer):
    media_type, format = MEDIA_TYPE, "eln"


class CsvRenderer(_BinaryRenderer):
    media_type, format = "text/csv", "csv"


class XlsxRenderer(_BinaryRenderer):
    media_type, format = XLSX, "xlsx"


def download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class _View(APIView):
    authentication_classes = [HashedTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]


def _project(code: str, user) -> Project:
    project = restrict(Project.objects.filter(code=code), user).first()
    if project is None:
        raise NotFound(f"no project {code!r}")
    return project


class ProjectElnView(_View):
    renderer_classes = [JSONRenderer, ElnRenderer]

    @extend_schema(summary="Export a project as an .eln archive (RO-Crate 1.1 in a ZIP)", tags=["exchange"],
                   responses={(200, MEDIA_TYPE): OpenApiTypes.BINARY})
    def get(self, request, code: str):
        project = _project(code, request.user)
        archive = project_archive(project, request.user)
        return download(write_eln(archive), MEDIA_TYPE, f"{archive.root}.eln")


class SamplesElnView(_View):
    renderer_classes = [JSONRenderer, ElnRenderer]

    @extend_schema(summary="Export samples (with the samples they were made from) as an .eln archive", tags=["exchange"],
                   parameters=[OpenApiParameter("samples", str, required=True, description="Comma-separated labels: DEV-0001,FILM-0001")],
                   responses={(200, MEDIA_TYPE): OpenApiTypes.BINARY})
    def get(self, request):
        labels = list(dict.fromkeys(x.strip() for x in request.query_params.get("samples", "").split(",") if x.strip()))
        if not labels:
            raise ValidationError({"samples": ["Give one or more labels, comma-separated: ?samples=DEV-0001,FILM-0001"]})
        if len(labels) > MAX_SAMPLES:
            raise ValidationError({"samples": [f"At most {MAX_SAMPLES} per request (got {len(labels)})."]})
        qs = Sample.objects.filter(label__in=labels)
        found = set(restrict(qs, request.user).values_list("label", flat=True))
        missing = [x for x in labels if x not in found]
        if missing:
            raise NotFound(f"no sample labelled {', '.join(missing[:5])}")
        archive = samples_archive(qs, request.user)
        return download(write_eln(archive), MEDIA_TYPE, f"{archive.root}.eln")


ImportResultSerializer = inline_serializer("ElnImportResult", fields={
    "source": serializers.CharField(help_text="Who wrote the archive: LEDger or the other ELN's name"),
    "project": serializers.CharField(),
    "samples": serializers.ListField(child=serializers.CharField(), help_text="Labels of the samples created"),
    "files": serializers.IntegerField(help_text="Files attached (and analysed where LEDger reads them)"),
    "warnings": serializers.ListField(child=serializers.CharField(), help_text="What was left out, and why"),
})


class ElnImportView(_View):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="Import an .eln archive (LEDger's or another ELN's) into a project", tags=["exchange"],
                   request={"multipart/form-data": inline_serializer("ElnImport", fields={
                       "file": serializers.FileField(), "project": serializers.SlugField(help_text="Project code (created if missing)")})},
                   responses={201: ImportResultSerializer})
    def post(self, request):
        if is_instrument(request.user):
            raise PermissionDenied("Instrument tokens may only upload measurement files and read.")
        upload, code = request.FILES.get("file"), (request.data.get("project") or "").strip()
        errors = {}
        if upload is None:
            errors["file"] = ["Attach the .eln archive as 'file'."]
        if not code:
            errors["project"] = ["Name the project to import into."]
        if errors:
            raise ValidationError(errors)
        if not re.fullmatch(r"[-a-zA-Z0-9_]{1,32}", code):
            raise ValidationError({"project": ["A project code has up to 32 letters, digits, '-' and '_'."]})
        if upload.size > MAX_ARCHIVE_BYTES:
            raise ValidationError({"file": [f"{upload.size / 1e6:.0f} MB is over the {MAX_ARCHIVE_BYTES / 1e6:.0f} MB an import takes; "
                                            "use manage.py import_eln on the server"]})
        try:
            result = services.eln_import(upload.read(), project_code=code, user=request.user)
        except services.ImportRefused as exc:
            raise ValidationError({"file": [str(exc)]}) from None
        return Response({"source": result.source, "project": code, "samples": [s.label for s in result.samples],
                         "files": result.files, "warnings": result.warnings}, status=status.HTTP_201_CREATED)


class PeledView(_View):
    renderer_classes = [JSONRenderer, CsvRenderer, XlsxRenderer]

    @extend_schema(summary="Devices as a table in the Perovskite Database Project's shape, plus an LED block", tags=["exchange"],
                   parameters=[OpenApiParameter("format", str, enum=["csv", "xlsx"], description="Default csv"),
                               OpenApiParameter("project", str, description="Project code"),
                               OpenApiParameter("devices", str, description="Comma-separated device labels")],
                   responses={(200, "text/csv"): OpenApiTypes.BINARY, (200, XLSX): OpenApiTypes.BINARY})
    def get(self, request):
        fmt = request.query_params.get("format") or "csv"
        if fmt not in ("csv", "xlsx"):
            raise ValidationError({"format": ["Use csv or xlsx."]})
        labels = [x.strip() for x in request.query_params.get("devices", "").split(",") if x.strip()][:MAX_SAMPLES]
        frame = peled_table(peled_devices_for(request.user, project=request.query_params.get("project") or None,
                                              labels=labels or None), request.user)
        if fmt == "xlsx":
            return download(to_xlsx(frame), XLSX, "peled-devices.xlsx")
        return csv_response(to_csv(frame), "peled-devices.csv", bom=api_wants_bom(request.query_params))


class PrinterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Printer
        fields = ["id", "name", "kind", "model", "host", "port", "label", "width_mm", "height_mm", "dpi", "location", "enabled"]


class PrintJobSerializer(serializers.ModelSerializer):
    printer = serializers.CharField(source="printer.name")
    sample = serializers.CharField(source="sample.label", allow_null=True, default=None)
    run = serializers.CharField(source="run.label", allow_null=True, default=None)

    class Meta:
        model = PrintJob
        fields = ["id", "printer", "sample", "run", "title", "url", "lines", "status", "failure_reason", "bytes_sent",
                  "created_at", "sent_at"]


class PrinterListView(_View):
    @extend_schema(summary="The lab's label printers (configured in the admin)", tags=["printers"],
                   responses={200: PrinterSerializer(many=True)})
    def get(self, request):
        return Response(PrinterSerializer(Printer.objects.filter(enabled=True), many=True).data)


class PrintJobCreateView(_View):
    @extend_schema(summary="Print the label of a sample or a run; sent from the server, poll the job for its status",
                   tags=["printers"], request=inline_serializer("PrintJobRequest", fields={
                       "printer": serializers.CharField(help_text="Printer name or id"),
                       "sample": serializers.CharField(required=False, help_text="Sample label"),
                       "run": serializers.CharField(required=False, help_text="Run label (RUN-0006)")}),
                   responses={202: PrintJobSerializer})
    def post(self, request):
        if is_instrument(request.user):
            raise PermissionDenied("Instrument tokens may only upload measurement files and read.")
        data = request.data if isinstance(request.data, dict) else {}
        name = str(data.get("printer") or "")
        printer = Printer.objects.filter(enabled=True, **({"pk": int(name)} if name.isdigit() else {"name": name})).first()
        if printer is None:
            raise ValidationError({"printer": [f"no enabled printer {name!r}"]})
        sample = run = None
        if data.get("sample"):
            sample = restrict(Sample.objects.filter(label=str(data["sample"])), request.user).first()
            if sample is None:
                raise NotFound(f"no sample labelled {data['sample']!r}")
        elif data.get("run"):
            run = restrict(ProcessRun.objects.filter(label=str(data["run"])), request.user).select_related(
                "recipe_version__recipe", "operator").first()
            if run is None:
                raise NotFound(f"no run labelled {data['run']!r}")
        else:
            raise ValidationError({"sample": ["Give the sample (or the run) whose label to print."]})
        job = services.print_label(printer=printer, sample=sample, run=run, user=request.user)
        job = PrintJob.objects.select_related("printer", "sample", "run").get(pk=job.pk)
        return Response(PrintJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class PrintJobDetailView(_View):
    @extend_schema(summary="A print job and its status (queued, sent, failed with the reason)", tags=["printers"],
                   responses={200: PrintJobSerializer})
    def get(self, request, pk: int):
        if pk > 2**63 - 1:
            raise NotFound("no such print job")
        job = visible_print_jobs(request.user).filter(pk=pk).first()
        if job is None:
            raise NotFound("no such print job")
        return Response(PrintJobSerializer(job).data)


__all__ = ["ElnImportView", "PeledView", "PrintJobCreateView", "PrintJobDetailView", "PrinterListView",
           "ProjectElnView", "SamplesElnView"]
