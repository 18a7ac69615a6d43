"""PDF endpoints for traveller sheets and vial labels (under /api/v1/, see portal.api.urls).

Thin views: restrict to the user's projects → call the travellers selectors → render. Objects the
user may not see answer 404, as if they did not exist (the same rule as every other API view).
"""

from __future__ import annotations

import json

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.views import APIView

from core.access import restrict
from portal.travellers import sheet_for_sample, sheets_for_runs
from samples.models import ProcessRun, Sample
from samples.traveller import LABEL_LAYOUTS, render_labels, render_travellers
from samples.traveller.pdf import PAGE_SIZES
from samples.travellers import labels_for_samples

MAX_PK = 2**63 - 1  # BigAutoField; a larger id cannot exist and `pk__in` would overflow the driver (500)
MAX_BATCH = 200  # sheets or labels per request; a bigger print job belongs to the management command


class PDFRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: application/pdf`` without a 406; errors still go out as JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data).encode()


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _choice(request, name: str, choices, default: str) -> str:
    value = request.query_params.get(name) or default
    if value not in choices:
        raise ValidationError({name: [f"{value!r} is not one of {', '.join(choices)}."]})
    return value


def _list_param(request, name: str) -> list[str]:
    items = [x.strip() for x in request.query_params.get(name, "").split(",") if x.strip()]
    if not items:
        raise ValidationError({name: [f"Give one or more, comma-separated: ?{name}=A,B"]})
    if len(items) > MAX_BATCH:
        raise ValidationError({name: [f"At most {MAX_BATCH} per request (got {len(items)})."]})
    return list(dict.fromkeys(items))  # a repeated label prints once


PAGESIZE = OpenApiParameter("pagesize", str, enum=["A4", "Letter"], description="Paper size (default A4)")


def _pdf_schema(*params: OpenApiParameter, summary: str):
    return extend_schema(summary=summary, parameters=list(params), tags=["travellers"],
                         responses={(200, "application/pdf"): OpenApiTypes.BINARY})


class _PDFView(APIView):
    # Token first, so an anonymous client gets 401 with a WWW-Authenticate header rather than 403.
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, PDFRenderer]

    def pagesize(self, request) -> str:
        return _choice(request, "pagesize", list(PAGE_SIZES), "A4")


class RunTravellerView(_PDFView):
    """GET runs/<pk>/traveller.pdf[?pagesize=A4|Letter]"""

    @_pdf_schema(PAGESIZE, summary="Traveller sheet of a run (PDF)")
    def get(self, request, pk: int):
        run = restrict(ProcessRun.objects.all(), request.user).filter(pk=pk).first()
        if run is None:
            raise Http404
        pagesize = self.pagesize(request)
        sheets = sheets_for_runs([run], user=request.user)
        return pdf_response(render_travellers(sheets, pagesize=pagesize), f"{run.label}-traveller.pdf")


class SampleTravellerView(_PDFView):
    """GET samples/<label>/traveller.pdf[?pagesize=A4|Letter]"""

    @_pdf_schema(PAGESIZE, summary="Traveller sheet of a sample, with its results (PDF)")
    def get(self, request, label: str):
        sample = restrict(Sample.objects.select_related("project"), request.user).filter(label=label).first()
        if sample is None:
            raise Http404
        pagesize = self.pagesize(request)
        sheet = sheet_for_sample(sample, request=request)
        return pdf_response(render_travellers([sheet], pagesize=pagesize), f"{sample.label}-traveller.pdf")


class BatchTravellerView(_PDFView):
    """GET travellers.pdf?runs=1,2,3[&pagesize=…] — many runs, one sheet each, one PDF."""

    @_pdf_schema(PAGESIZE, OpenApiParameter("runs", str, required=True, description="Run ids, comma-separated"),
                 summary="Traveller sheets of many runs, one PDF")
    def get(self, request):
        raw = _list_param(request, "runs")
        try:
            ids = [int(x) for x in raw]
        except ValueError:
            raise ValidationError({"runs": ["Run ids are integers: ?runs=1,2,3"]}) from None
        pagesize = self.pagesize(request)
        in_range = [i for i in ids if 0 < i <= MAX_PK]
        found = set(restrict(ProcessRun.objects.filter(pk__in=in_range), request.user).values_list("pk", flat=True))
        missing = [str(i) for i in ids if i not in found]
        if missing:
            raise NotFound(f"No run with id {', '.join(missing)}.")
        sheets = sheets_for_runs(ids, user=request.user)
        return pdf_response(render_travellers(sheets, pagesize=pagesize), "travellers.pdf")


class LabelsView(_PDFView):
    """GET labels.pdf?samples=LABEL,LABEL[&layout=a4-3x10|roll-62mm]"""

    @_pdf_schema(OpenApiParameter("samples", str, required=True, description="Sample labels, comma-separated"),
                 OpenApiParameter("layout", str, enum=["a4-3x10", "roll-62mm"], description="Label sheet (default a4-3x10)"),
                 summary="Vial labels with QR codes (PDF)")
    def get(self, request):
        labels = _list_param(request, "samples")
        layout = _choice(request, "layout", list(LABEL_LAYOUTS), "a4-3x10")
        by_label = {s.label: s for s in restrict(Sample.objects.filter(label__in=labels), request.user)}
        missing = [x for x in labels if x not in by_label]
        if missing:
            raise NotFound(f"No sample {', '.join(missing)}.")
        data = labels_for_samples([by_label[x] for x in labels])
        return pdf_response(render_labels(data, layout=layout), "labels.pdf")
