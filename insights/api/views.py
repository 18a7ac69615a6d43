"""REST endpoints of the insights app (under /api/v1/insights/):

    GET  drivers/   ?recipe=&project=&metric=…&download=csv|xlsx    → the ranked drivers table
    GET  control/   ?recipe=&project=&metric=&sigma=                  → I-MR charts, rule hits, lots
    POST suggest/   version, objective, batch, ranges/fixed            → proposals with predictions
    POST plan/      version, project, proposals                        → planned (draft) runs

Views stay thin: validate with a serializer, call a selector or service, serialise the result.
"""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import restrict
from core.api.permissions import InstrumentLimited
from core.downloads import api_wants_bom, csv_response
from measurements.api.export import to_csv, to_xlsx
from recipes.models import Recipe, RecipeVersion
from samples.models import Project

from .. import selectors, services
from ..science.spc import RULES

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _num(value):
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value


class FamilyQuerySerializer(serializers.Serializer):
    recipe = serializers.IntegerField(required=False, help_text="Recipe id (default: the one with most versions)")
    project = serializers.CharField(required=False, help_text="Project code (default: every project you belong to)")

    def family(self, user) -> tuple[Recipe | None, Project | None]:
        data = self.validated_data
        recipe = project = None
        if "recipe" in data:
            recipe = restrict(Recipe.objects.filter(pk=data["recipe"]), user).first()
            if recipe is None:
                raise ValidationError({"recipe": [f"no recipe {data['recipe']}"]})
        else:
            recipe = selectors.default_recipe(user)
        if data.get("project"):
            project = restrict(Project.objects.filter(code=data["project"]), user).first()
            if project is None:
                raise ValidationError({"project": [f"no project {data['project']!r} you belong to"]})
        return recipe, project


class DriversQuerySerializer(FamilyQuerySerializer):
    metric = serializers.ListField(child=serializers.CharField(), required=False,
                                   help_text="Metric name(s), repeatable (default: eqe_max, luminance_max, t50 when measured)")
    # Not "format": DRF reads ?format= as a renderer override.
    download = serializers.ChoiceField(choices=["json", "csv", "xlsx"], required=False, default="json",
                                       help_text="csv or xlsx: the table as a file")


class DriverSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True)
    metric = serializers.CharField()
    parameter = serializers.CharField(help_text="Column name: '<recipe> · <step>.<key> [unit]', '… · version', '… · lot X'")
    parameter_label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["numeric", "categorical"])
    effect = serializers.FloatField(allow_null=True, help_text="Spearman ρ, or the rank-biserial r of `level` vs the rest")
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True)
    q_value = serializers.FloatField(allow_null=True, help_text="Benjamini–Hochberg over the table")
    slope = serializers.FloatField(allow_null=True, help_text="Huber robust slope, metric units per parameter unit")
    slope_ci_low = serializers.FloatField(allow_null=True)
    slope_ci_high = serializers.FloatField(allow_null=True)
    level = serializers.CharField(allow_null=True)
    level_shift = serializers.FloatField(allow_null=True)
    n_runs = serializers.IntegerField(allow_null=True, help_text="Runs behind the statistic when devices share them")
    n_units = serializers.IntegerField()
    n_rows = serializers.IntegerField(help_text="Pixels (or samples) behind the unit medians")
    warnings = serializers.ListField(child=serializers.CharField())


class ConfoundingSerializer(serializers.Serializer):
    first = serializers.CharField()
    second = serializers.CharField()
    strength = serializers.FloatField()
    measure = serializers.CharField()


class DriversResponseSerializer(serializers.Serializer):
    recipe = serializers.CharField(allow_null=True)
    metrics = serializers.ListField(child=serializers.CharField())
    rows = DriverSerializer(many=True)
    confounded = ConfoundingSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())
    skipped = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))


class DriversView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["insights"], parameters=[DriversQuerySerializer], responses={
        (200, "application/json"): OpenApiResponse(DriversResponseSerializer, description="without download"),
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="download=csv"),
        (200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="download=xlsx"),
        (400, "application/json"): OpenApiResponse(description="unknown recipe, project or metric")},
        summary="Which recipe parameter moved which metric (ranked, with confidence intervals)")
    def get(self, request: Request) -> Response | HttpResponse:
        query = DriversQuerySerializer(data={**request.query_params.dict(), "metric": request.query_params.getlist("metric")})
        query.is_valid(raise_exception=True)
        recipe, project = query.family(request.user)
        data = selectors.insights_data(request.user, recipe=recipe, project=project)
        wanted = query.validated_data.get("metric") or []
        unknown = [m for m in wanted if m not in data.metrics]
        if unknown:
            raise ValidationError({"metric": [f"{', '.join(unknown)} not measured on this family; measured: "
                                              f"{', '.join(data.metrics) or 'nothing'}"]})
        metrics = wanted or [m for m in selectors.PREFERRED_METRICS if m in data.metrics][:3] or data.metrics[:3]
        table = selectors.drivers_for(data, metrics) if metrics else None
        fmt = query.validated_data.get("download", "json")
        if fmt in ("csv", "xlsx"):
            frame = selectors.drivers_export_frame(data, table) if table else None
            if fmt == "csv":
                return csv_response(b"" if frame is None else to_csv(frame), "drivers.csv",
                                    bom=api_wants_bom(request.query_params))
            response = HttpResponse(b"" if frame is None else to_xlsx(frame), content_type=XLSX)
            response["Content-Disposition"] = f'attachment; filename="drivers.{fmt}"'
            return response
        rows = []
        for r in table.rows if table else []:
            rows.append({"rank": r.rank, "metric": r.metric, "parameter": r.parameter, "parameter_label": data.label(r.parameter),
                         "kind": r.kind, "effect": _num(r.effect), "ci_low": _num(r.ci_low), "ci_high": _num(r.ci_high),
                         "p_value": _num(r.p_value), "q_value": _num(r.q_value), "slope": _num(r.slope),
                         "slope_ci_low": _num(r.slope_ci_low), "slope_ci_high": _num(r.slope_ci_high), "level": r.level,
                         "level_shift": _num(r.level_shift), "n_runs": r.n_runs, "n_units": r.n_units, "n_rows": r.n_rows,
                         "warnings": r.warnings})
        return Response({"recipe": recipe.name if recipe else None, "metrics": metrics, "rows": rows,
                         "confounded": [vars(c) for c in table.confounded] if table else [],
                         "warnings": table.warnings if table else [],
                         "skipped": [list(s) for s in table.skipped] if table else []})


class ControlQuerySerializer(FamilyQuerySerializer):
    metric = serializers.CharField(required=False, help_text="Default: eqe_max (or the first measured)")
    sigma = serializers.ChoiceField(choices=["average_mr", "median_mr"], required=False, default="average_mr")


class PointSerializer(serializers.Serializer):
    label = serializers.CharField()
    date = serializers.DateField(allow_null=True)
    value = serializers.FloatField()
    rules = serializers.ListField(child=serializers.IntegerField())
    excluded_from_limits = serializers.BooleanField()


class HitSerializer(serializers.Serializer):
    rule = serializers.IntegerField()
    description = serializers.CharField()
    side = serializers.CharField()
    points = serializers.ListField(child=serializers.CharField())


class ChartSerializer(serializers.Serializer):
    version = serializers.CharField()
    centre = serializers.FloatField(allow_null=True)
    sigma = serializers.FloatField(allow_null=True)
    ucl = serializers.FloatField(allow_null=True)
    lcl = serializers.FloatField(allow_null=True)
    mr_centre = serializers.FloatField(allow_null=True)
    mr_ucl = serializers.FloatField(allow_null=True)
    points = PointSerializer(many=True)
    hits = HitSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())


class LotSerializer(serializers.Serializer):
    lot = serializers.CharField()
    n = serializers.IntegerField()
    median = serializers.FloatField()
    shift_sigma = serializers.FloatField(allow_null=True, help_text="(lot median − median of all points) / σ̂")
    p_value = serializers.FloatField(allow_null=True)
    n_out_of_control = serializers.IntegerField()
    flagged = serializers.BooleanField()
    reason = serializers.CharField()
    points = serializers.ListField(child=serializers.CharField())


class LotViewSerializer(serializers.Serializer):
    column = serializers.CharField()
    lots = LotSerializer(many=True)


class ControlResponseSerializer(serializers.Serializer):
    recipe = serializers.CharField(allow_null=True)
    metric = serializers.CharField(allow_null=True)
    unit = serializers.CharField()
    rules = serializers.DictField(child=serializers.CharField())
    charts = ChartSerializer(many=True)
    lots = LotViewSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())


class ControlView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["insights"], parameters=[ControlQuerySerializer], responses={200: ControlResponseSerializer, 400: OpenApiResponse(
        description="unknown recipe, project or metric")},
        summary="Individuals/moving-range charts per recipe version, with rule hits and the by-lot view")
    def get(self, request: Request) -> Response:
        query = ControlQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        recipe, project = query.family(request.user)
        data = selectors.insights_data(request.user, recipe=recipe, project=project)
        metric = query.validated_data.get("metric") or next((m for m in selectors.PREFERRED_METRICS if m in data.metrics),
                                                             data.metrics[0] if data.metrics else None)
        if metric is not None and metric not in data.metrics:
            raise ValidationError({"metric": [f"{metric} is not measured on this family"]})
        view = selectors.control_charts(data, metric, sigma=query.validated_data["sigma"]) if metric else None
        charts = []
        for c in view.charts if view else []:
            charts.append({"version": c.group, "centre": c.centre, "sigma": c.sigma, "ucl": c.ucl, "lcl": c.lcl,
                           "mr_centre": c.mr_centre, "mr_ucl": c.mr_ucl,
                           "points": [{"label": p.label, "date": p.date, "value": p.value, "rules": p.rules,
                                       "excluded_from_limits": p.excluded_from_limits} for p in c.points],
                           "hits": [{"rule": h.rule, "description": h.description, "side": h.side,
                                     "points": [c.points[i].label for i in h.indices]} for h in c.hits],
                           "warnings": c.warnings})
        lots = [{"column": col, "lots": [{**{k: getattr(s, k) for k in ("lot", "n", "median", "shift_sigma", "p_value",
                                                                         "n_out_of_control", "flagged", "reason")},
                                          "points": s.labels} for s in summaries]}
                for col, summaries in (view.lots.items() if view else [])]
        return Response({"recipe": recipe.name if recipe else None, "metric": metric, "unit": view.unit if view else "",
                         "rules": {str(k): v for k, v in RULES.items()}, "charts": charts, "lots": lots,
                         "warnings": view.warnings if view else []})


class SuggestRequestSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="Recipe version id whose ranged parameters are searched")
    objective = serializers.ChoiceField(choices=["eqe_max", "t50", "weighted"], default="eqe_max")
    weight = serializers.FloatField(min_value=0, max_value=1, required=False, default=0.5,
                                    help_text="weighted: the weight of z(eqe_max); z(ln t50) gets 1 − weight")
    batch = serializers.IntegerField(min_value=1, max_value=8, default=4)
    scope = serializers.ChoiceField(choices=["recipe", "version"], default="recipe",
                                    help_text="history: every version of the recipe, or this version only")
    project = serializers.CharField(required=False, help_text="history from this project only")
    seed = serializers.IntegerField(required=False, default=1)
    fixed = serializers.DictField(child=serializers.FloatField(), required=False, default=dict,
                                  help_text='{"5.temperature": 50}: held at this value')
    ranges = serializers.DictField(child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
                                   required=False, default=dict, help_text='{"4.volume": [150, 200]}: a narrower range')


class ProposalSerializer(serializers.Serializer):
    values = serializers.DictField(child=serializers.FloatField(), help_text='"<step>.<key>" → value')
    predicted = serializers.FloatField(allow_null=True)
    predicted_std = serializers.FloatField(allow_null=True)
    metrics = serializers.DictField(child=serializers.ListField(child=serializers.FloatField()),
                                    help_text="eqe_max / t50 → [mean, std] at this proposal")


class SuggestResponseSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    target = serializers.CharField()
    n_history = serializers.IntegerField()
    best_so_far = serializers.FloatField(allow_null=True)
    method = serializers.CharField()
    note = serializers.CharField()
    warnings = serializers.ListField(child=serializers.CharField())
    proposals = ProposalSerializer(many=True)


def _version(user, pk: int) -> RecipeVersion:
    version = restrict(RecipeVersion.objects.select_related("recipe").filter(pk=pk), user).first()
    if version is None:
        raise ValidationError({"version": [f"no recipe version {pk}"]})
    return version


class SuggestView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["insights"], request=SuggestRequestSerializer, responses={200: SuggestResponseSerializer, 400: OpenApiResponse(
        description="unknown version or parameter, a range outside the recipe's, nothing measured")},
        summary="Propose the next batch of runs (Bayesian optimisation on the recipe family's history)")
    def post(self, request: Request) -> Response:
        body = SuggestRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        version = _version(request.user, d["version"])
        space = selectors.version_space(version)
        by_path = {p.path: p for p in space}
        unknown = [k for k in [*d["fixed"], *d["ranges"]] if k not in by_path]
        if unknown:
            raise ValidationError({"fixed": [f"{', '.join(unknown)}: not a ranged parameter of {version}; "
                                             f"searchable: {', '.join(by_path) or 'none'}"]})
        items = []
        for p in space:
            if p.path in d["fixed"]:
                value = d["fixed"][p.path]
                if not p.low <= value <= p.high:
                    raise ValidationError({"fixed": [f"{p.path}: {value:g} is outside {p.low:g}–{p.high:g} {p.unit}"]})
                items.append({"name": p.column, "value": value})
            else:
                low, high = d["ranges"].get(p.path, [p.low, p.high])
                if not p.low <= low <= high <= p.high:
                    raise ValidationError({"ranges": [f"{p.path}: {low:g}–{high:g} is not inside {p.low:g}–{p.high:g} {p.unit}"]})
                items.append({"name": p.column, "low": low, "high": high})
        project = None
        if d.get("project"):
            project = restrict(Project.objects.filter(code=d["project"]), request.user).first()
            if project is None:
                raise ValidationError({"project": [f"no project {d['project']!r} you belong to"]})
        try:
            result = selectors.propose(request.user, version=version, objective=d["objective"], weight=d["weight"],
                                       q=d["batch"], scope=d["scope"], project=project, seed=d.get("seed"),
                                       space_items=items, space=space)
        except ValueError as exc:
            raise ValidationError({"objective": [str(exc)]}) from None
        return Response({"version": version.pk, "target": result.target_label, "n_history": result.n_history,
                         "best_so_far": _num(result.best_so_far), "method": result.method, "note": result.note,
                         "warnings": result.warnings,
                         "proposals": [{"values": p.values, "predicted": _num(p.predicted), "predicted_std": _num(p.predicted_std),
                                        "metrics": {m: list(v) for m, v in p.metrics.items()}} for p in result.proposals]})


class PlanRequestSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    project = serializers.CharField(help_text="Project code the runs are planned into")
    planned_date = serializers.DateField(required=False, allow_null=True)
    proposals = serializers.ListField(child=serializers.DictField(child=serializers.FloatField()), min_length=1, max_length=20,
                                      help_text='One {"<step>.<key>": value} per run (the proposals of suggest/)')
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class PlannedRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    status = serializers.CharField()
    url = serializers.CharField()


class PlanView(APIView):
    """Writes: instrument tokens are refused (403) like every other write but uploads."""

    permission_classes = [IsAuthenticated, InstrumentLimited]

    @extend_schema(tags=["insights"], request=PlanRequestSerializer, responses={201: PlannedRunSerializer(many=True), 400: OpenApiResponse(
        description="a value outside the recipe's range, an unknown parameter, version or project"),
        403: OpenApiResponse(description="instrument token")},
        summary="Turn proposals into planned (draft) runs, ready for the traveller")
    def post(self, request: Request) -> Response:
        body = PlanRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        version = _version(request.user, d["version"])
        project = restrict(Project.objects.filter(code=d["project"]), request.user).first()
        if project is None:
            raise ValidationError({"project": [f"no project {d['project']!r} you belong to"]})
        try:
            runs = services.proposals_plan(version=version, project=project, user=request.user, proposals=d["proposals"],
                                           planned_date=d.get("planned_date"), note=d.get("note", ""))
        except DjangoValidationError as exc:
            raise ValidationError({"proposals": exc.messages}) from None
        return Response([{"id": r.pk, "label": r.label, "status": r.status,
                          "url": request.build_absolute_uri(r.get_absolute_url())} for r in runs],
                        status=status.HTTP_201_CREATED)
