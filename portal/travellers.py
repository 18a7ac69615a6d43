"""Traveller sheets that print results: samples' sheet selectors (``samples.travellers``) plus
the headline metrics and small plots measurements stored for the samples on them.

    sheets_for_runs(runs)        → [TravellerSheet], a completed run's with its outputs' results
    sheet_for_run(run)           → TravellerSheet
    sheet_for_sample(sample)     → the producing run's sheet headed by the sample, plus its results
    results_for(samples)         → {sample pk: ([MetricRow], [Plot])} in two queries

The API (``portal.api.travellers``) and ``manage.py traveller`` call these; vial labels carry no
results and come straight from ``samples.travellers.labels_for_samples``.
"""

from __future__ import annotations

from collections.abc import Iterable

from measurements.metric_names import format_metric_value, metric_name
from measurements.models import Plot as PlotRow
from measurements.selectors import metric_sort_key, metrics_table
from samples import travellers
from samples.models import ProcessRun, Sample
from samples.traveller import MetricRow, Plot, TravellerSheet
from samples.travellers import Results

# Headline metrics a sample's sheet prints (canonical names, DESIGN.md), in METRIC_ORDER.
RESULT_METRICS = (
    "eqe_max", "eqe_at_100_ma_cm2", "luminance_max", "current_efficiency_max", "turn_on_voltage",
    "el_peak_wavelength", "el_fwhm", "t50", "t50_at_100_cd", "pl_peak_wavelength", "pl_fwhm", "plqy", "tau_avg",
)
# Plot names stored by measurements.analysis (led.plot_jlv / plot_el, lifetime.plot_lifetime) → caption.
RESULT_PLOTS = {"eqe_j": "EQE–J", "el_spectrum": "EL spectrum", "lifetime_decay": "L(t)"}
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
    """Headline metrics and small plots of several samples in two queries (batch printing).

    A device's Results are one pixel's — its best, as on Compare (``metrics_table``), with a line
    that says which — never that pixel's EQE beside medians over the others. A headline metric the
    best pixel lacks is printed from the device's median row and says so ("…, median of 3 pixels");
    device-level values (T50 at 100 cd/m²) are the device's own."""
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
    plots_qs = (PlotRow.objects.filter(analysis__sample_id__in=ids, analysis__superseded=False, name__in=RESULT_PLOTS)
                .select_related("analysis").defer("svg").order_by("-analysis__created_at", "-analysis_id"))
    picked: dict[int, dict[str, PlotRow]] = {pk: {} for pk in ids}
    for plot in plots_qs:
        sample_id = plot.analysis.sample_id
        # Plots of the pixel the Results are of, so numbers and curves describe one pixel.
        on_best = plot.analysis.pixel_id is not None and plot.analysis.pixel_id == headline_pixel.get(sample_id)
        mine = picked[sample_id]
        if plot.name not in mine or (on_best and not getattr(mine[plot.name], "_on_best", False)):
            plot._on_best = on_best
            mine[plot.name] = plot
    return {pk: (out_rows[pk], [Plot(RESULT_PLOTS[name], bytes(picked[pk][name].png))
                                for name in RESULT_PLOTS if name in picked[pk]]) for pk in ids}
