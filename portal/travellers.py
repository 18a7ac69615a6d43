"""Traveller sheets that print results: samples' sheet selectors (``samples.travellers``) plus
the headline metrics and small plots measurements stored for the samples on them.

    sheets_for_runs(runs)        → [TravellerSheet], a completed run's with its outputs' results
    sheet_for_run(run)           → TravellerSheet
    sheet_for_sample(sample)     → the producing run's sheet headed by the sample, plus its results
    results_for(samples)         → {sample pk: ([MetricRow], [Plot])} in a few queries

The API (``portal.api.travellers``) and ``manage.py traveller`` call these; vial labels carry no
results and come straight from ``samples.travellers.labels_for_samples``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Prefetch
from django.db.models.fields.json import KeyTransform

from measurements.metric_names import metric_name
from measurements.models import Aggregate, Analysis, DerivedMetric, MetricScope
from measurements.models import Plot as PlotRow
from measurements.selectors import metric_sort_key
from measurements.services import cached_pngs
from recipes.stoichiometry import format_value
from samples import travellers
from samples.models import ProcessRun, Sample
from samples.traveller import MetricRow, Plot, TravellerSheet
from samples.travellers import Results

# Headline metrics a sample's sheet prints (canonical names, DESIGN.md), in METRIC_ORDER.
RESULT_METRICS = (
    "eqe_max", "eqe_at_100_ma_cm2", "luminance_max", "current_efficiency_max", "turn_on_voltage",
    "el_peak_wavelength", "el_fwhm", "t50", "t50_at_100_cd", "pl_peak_wavelength", "pl_fwhm", "plqy", "tau_avg",
)
# Chart names stored by measurements.analysis.charts (J-L-V / EL / lifetime) → caption.
RESULT_PLOTS = {"eqe_j": "EQE–J", "el_spectrum": "EL spectrum", "lifetime_decay": "L(t)"}
RESULT_PLOT_KINDS = ("jlv", "el", "lifetime")
# Which row stands for a sample when a device has several: its best pixel, else the median, else
# a sample-level value, else any pixel's.
_METRIC_PREFERENCE = [
    (MetricScope.DEVICE, Aggregate.BEST), (MetricScope.DEVICE, Aggregate.MEDIAN),
    (MetricScope.SAMPLE, Aggregate.VALUE), (MetricScope.DEVICE, Aggregate.VALUE), (MetricScope.PIXEL, Aggregate.VALUE),
]


def sheets_for_runs(runs: Iterable[ProcessRun | int], *, user=None) -> list[TravellerSheet]:
    """One sheet per run, in the order given; ``user`` hides inputs from other projects (see
    samples.travellers.sheets_for_runs)."""
    return travellers.sheets_for_runs(runs, user=user, results_for=results_for)


def sheet_for_run(run: ProcessRun, *, request=None) -> TravellerSheet:
    return travellers.sheet_for_run(run, request=request, results_for=results_for)


def sheet_for_sample(sample: Sample, *, request=None) -> TravellerSheet:
    """The producing run's sheet headed by the sample's label and QR, plus its results."""
    return travellers.sheet_for_sample(sample, request=request, results_for=results_for)


# --- results -----------------------------------------------------------------------------------

def results_for(samples: list[Sample]) -> Results:
    """Headline metrics and small plots of several samples in a few queries (batch printing)."""
    ids = [s.pk for s in samples]
    rank = {key: i for i, key in enumerate(_METRIC_PREFERENCE)}
    chosen: dict[int, dict[str, DerivedMetric]] = {pk: {} for pk in ids}
    for m in DerivedMetric.objects.current().filter(sample_id__in=ids, name__in=RESULT_METRICS).select_related("pixel"):
        mine = chosen[m.sample_id]
        best = mine.get(m.name)
        if best is None or rank.get((m.scope, m.aggregate), len(rank)) < rank.get((best.scope, best.aggregate), len(rank)):
            mine[m.name] = m
    # The figures: each current analysis's stored charts of those names (a legacy analysis, stored
    # before charts, its figure rows' cached PNGs).
    analyses = (Analysis.objects.filter(sample_id__in=ids, superseded=False, kind__in=RESULT_PLOT_KINDS)
                .select_related("pixel").defer("result").annotate(charts=KeyTransform("charts", "result"))
                .prefetch_related(Prefetch("plots", queryset=PlotRow.objects.only("id", "analysis_id", "name")))
                .order_by("-created_at", "-id"))
    picked: dict[int, dict[str, tuple[Analysis, dict | None, bool]]] = {pk: {} for pk in ids}
    for analysis in analyses:
        # Figures of the pixel the headline EQE came from, so numbers and curves describe one pixel.
        eqe = chosen[analysis.sample_id].get("eqe_max")
        best_pixel = (eqe.extra or {}).get("pixel") if eqe else None
        on_best = best_pixel is not None and analysis.pixel is not None and analysis.pixel.label == best_pixel
        charts = {c["name"]: c for c in analysis.charts or [] if c.get("name") in RESULT_PLOTS}
        names = charts or {p.name: None for p in analysis.plots.all() if p.name in RESULT_PLOTS}
        mine = picked[analysis.sample_id]
        for name, chart in names.items():
            if name not in mine or (on_best and not mine[name][2]):
                mine[name] = (analysis, chart, on_best)
    # A stored chart prints as PDF vectors (samples/traveller/chart.py: milliseconds, no raster);
    # only a legacy analysis's figure comes as its cached PNG.
    pngs = cached_pngs({(a.pk, name) for mine in picked.values() for name, (a, chart, _) in mine.items()
                        if chart is None})
    out = {}
    for pk in ids:
        # Four significant figures: 18.00 %, 8535 cd/m², not the float's 17.998230763.
        metrics = [MetricRow(name, format_value(chosen[pk][name].value), chosen[pk][name].unit,
                             label=metric_name(name).label)
                   for name in sorted(chosen[pk], key=metric_sort_key)]
        plots = []
        for name in RESULT_PLOTS:
            if name not in picked[pk]:
                continue
            analysis, chart, _ = picked[pk][name]
            if chart is not None:
                plots.append(Plot(RESULT_PLOTS[name], chart=chart))
            elif (analysis.pk, name) in pngs:
                plots.append(Plot(RESULT_PLOTS[name], pngs[(analysis.pk, name)]))
        out[pk] = (metrics, plots)
    return out
