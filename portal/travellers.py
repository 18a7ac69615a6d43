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

from measurements.metric_names import format_metric_value, metric_name
from measurements.models import Analysis
from measurements.models import Plot as PlotRow
from measurements.selectors import metric_sort_key, metrics_table
from measurements.services import cached_pngs
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
    """Headline metrics and small plots of several samples in a few queries (batch printing).

    A device's Results are one pixel's — its best, as on Compare (``metrics_table``), with a line
    that says which — never that pixel's EQE beside medians over the others. A headline metric the
    best pixel lacks is printed from the device's median row and says so ("…, median of 3 pixels");
    device-level values (T50 at 100 cd/m²) are the device's own. The figures are that pixel's."""
    _names, table, _units = metrics_table(list(samples))
    out_rows: dict[int, list[MetricRow]] = {s.pk: [] for s in samples}
    headline_pixel: dict[int, int] = {}
    for row in table:
        pk, rows = row["sample"].pk, out_rows[row["sample"].pk]
        have = {r.name for r in rows}
        wanted = [n for n in sorted(row["metrics"], key=metric_sort_key) if n in RESULT_METRICS and n not in have]
        if row["kind"] == "pixel":
            headline_pixel[pk] = row["pixel"].pk
            by = f", by {metric_name(row['by']).label}" if row["by"] else ""
            which = (f"best of {row['n_pixels']}{by}" if row["n_pixels"] > 1 else "the only pixel measured")
            rows.append(MetricRow("pixel", f"{row['pixel'].label} ({which})", label="Pixel"))
        for name in wanted:
            m = row["metrics"][name]
            label = metric_name(name).label
            if row["kind"] == "median":
                label += f", median of {m.n_pixels} pixels" if m.n_pixels else ", median over pixels"
            rows.append(MetricRow(name, format_metric_value(name, m.value), m.unit, label=label))
    ids = [s.pk for s in samples]
    # The figures: each current analysis's stored charts of those names (a legacy analysis, stored
    # before charts, its figure rows' cached PNGs).
    analyses = (Analysis.objects.filter(sample_id__in=ids, superseded=False, kind__in=RESULT_PLOT_KINDS)
                .defer("result").annotate(charts=KeyTransform("charts", "result"))
                .prefetch_related(Prefetch("plots", queryset=PlotRow.objects.only("id", "analysis_id", "name")))
                .order_by("-created_at", "-id"))
    picked: dict[int, dict[str, tuple[Analysis, dict | None, bool]]] = {pk: {} for pk in ids}
    for analysis in analyses:
        # Figures of the pixel the Results are of, so numbers and curves describe one pixel.
        on_best = analysis.pixel_id is not None and analysis.pixel_id == headline_pixel.get(analysis.sample_id)
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
        plots = []
        for name in RESULT_PLOTS:
            if name not in picked[pk]:
                continue
            analysis, chart, _ = picked[pk][name]
            if chart is not None:
                plots.append(Plot(RESULT_PLOTS[name], chart=chart))
            elif (analysis.pk, name) in pngs:
                plots.append(Plot(RESULT_PLOTS[name], pngs[(analysis.pk, name)]))
        out[pk] = (out_rows[pk], plots)
    return out
