"""The figures of an analysis as data: downsampled curves with axis names and units, stored on the
Analysis row at analysis time and drawn by the browser (``static/js/charts.js``) or, on request,
by matplotlib (``plotting.render_chart``). No figure is drawn in the pipeline (issue 15).

A chart is plain JSON::

    {"name": "eqe_j", "title": "EQE–J",
     "x": {"label": "current density", "unit": "mA/cm²", "log": true},
     "y": {"label": "EQE", "unit": "%", "log": false},
     "series": [{"label": "EQE", "x": [...], "y": [...], "style": "line"|"points"|"linepoints"|"dashed"}],
     "marks": [{"x": 1.2, "y": 18.0, "label": "EQE max 18.00 %", "symbol": "star"|"down"|"dot"}],
     "vlines": [{"x": 520.1, "label": "EL peak"}], "hlines": [{"y": 0.5, "label": ""}],
     "metrics": ["eqe_max", "j_at_eqe_max"], "aspect": "equal" (optional), "ylim": [lo, hi] (optional)}

Series are downsampled to ≤ ``MAX_POINTS`` by the min and max of y in equal index buckets (plus
both ends): at chart width that is the same picture, and a peak — the EQE maximum, an EL peak, a
TRPL rise — is always one of the points kept. ``metrics`` names what the caption states (the page
labels them with ``metric_names``). Pure Python (numpy), no Django.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .base import AnalysisResult

MAX_POINTS = 500  # per series: a chart is ≤ ~600 px wide, min+max per 2 px column
SIG_DIGITS = 6  # stored precision: far below a pixel, a third of the JSON of repr(float)


def downsample_indices(y: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices into ``y`` (sorted, unique) keeping at most ``max_points``: the first and last,
    and the minimum and maximum finite y of each of (max_points - 2) // 2 equal index buckets.
    Non-finite values are never chosen unless a bucket has nothing else (they break a line)."""
    y = np.asarray(y, dtype=float)
    n = y.size
    if n <= max_points:
        return np.arange(n)
    buckets = max(1, (max_points - 2) // 2)
    edges = np.linspace(1, n - 1, buckets + 1).astype(int)
    lo, hi = edges[:-1], edges[1:]
    lo = lo[hi > lo]  # the non-empty buckets, still back to back: [lo[k], lo[k + 1]) and the last to n - 1
    if lo.size == 0:  # two points asked of two
        return np.unique(np.array([0, n - 1]))
    finite = np.isfinite(y)
    span = slice(lo[0], n - 1)
    segment = np.repeat(np.arange(lo.size), np.diff(np.append(lo, n - 1)))
    keep = [np.array([0, n - 1])]
    # Per bucket the first index of its largest (smallest) finite y, as np.argmax/argmin would give;
    # a bucket without a finite value gives its first index (a gap stays a gap).
    for fill, reduce in ((-np.inf, np.maximum), (np.inf, np.minimum)):
        values = np.where(finite, y, fill)[span]
        extreme = reduce.reduceat(values, lo - lo[0])
        at = np.flatnonzero(values == extreme[segment])
        _, first = np.unique(segment[at], return_index=True)
        keep.append(at[first] + lo[0])
    return np.unique(np.concatenate(keep))


def _num(v: float) -> float | None:
    v = float(v)
    return float(f"{v:.{SIG_DIGITS}g}") if np.isfinite(v) else None


def _values(a: np.ndarray) -> list[float | None]:
    """``_num`` over an array, vectorised: rounded to SIG_DIGITS significant digits."""
    return rounded_values(a, SIG_DIGITS)


def rounded_values(a, digits: int) -> list[float | None]:
    """``a`` (numbers, None or NaN for a gap) rounded to ``digits`` significant digits as JSON-ready
    floats, gaps as None (dividing an integer by an exact power of ten gives the double whose repr is
    the short decimal)."""
    a = np.asarray(a, dtype=float)
    finite = np.isfinite(a) & (a != 0)
    exponent = np.zeros(a.shape)
    exponent[finite] = np.floor(np.log10(np.abs(a[finite]))) - (digits - 1)
    with np.errstate(invalid="ignore", over="ignore"):
        small = exponent <= 0  # 10**-exponent is an exact integer power of ten here
        rounded = np.where(small, np.round(a * 10.0 ** np.where(small, -exponent, 0)) / 10.0 ** np.where(small, -exponent, 0),
                           np.round(a / 10.0 ** np.where(small, 0, exponent)) * 10.0 ** np.where(small, 0, exponent))
    return [v if v == v and v not in (np.inf, -np.inf) else None for v in rounded.tolist()]


def series(label: str, x, y, *, style: str = "line", color: str | None = None,
           max_points: int = MAX_POINTS) -> dict[str, Any]:
    """One curve, downsampled on y (x and y must be the same length)."""
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if x.size != y.size:
        raise ValueError(f"series {label!r}: {x.size} x values but {y.size} y values")
    idx = downsample_indices(y, max_points)
    out: dict[str, Any] = {"label": label, "x": _values(x[idx]), "y": _values(y[idx]), "style": style}
    if color:
        out["color"] = color
    return out


def axis(label: str, unit: str = "", log: bool = False) -> dict[str, Any]:
    return {"label": label, "unit": unit, "log": bool(log)}


def chart(name: str, title: str, x: dict, y: dict, series_: list[dict], **extra: Any) -> dict[str, Any]:
    out = {"name": name, "title": title, "x": x, "y": y, "series": series_}
    for key, value in extra.items():
        if value:
            out[key] = value
    return out


def mark(x: float, y: float, label: str = "", symbol: str = "dot") -> dict[str, Any]:
    return {"x": _num(x), "y": _num(y), "label": label, "symbol": symbol}


# --- one builder per analysis kind ---------------------------------------------------------------

def _jlv(result: AnalysisResult) -> list[dict]:
    a = result.arrays
    out: list[dict] = []
    if "voltage_v" in a and "current_density_ma_cm2" in a:
        v = a["voltage_v"]
        j = np.abs(np.asarray(a["current_density_ma_cm2"], dtype=float))
        out.append(chart("jv", "J–V", axis("voltage", "V"), axis("current density |J|", "mA/cm²", log=True),
                         [series("J", v, np.where(j > 0, j, np.nan), color="#1f77b4")]))
        if "luminance_cd_m2" in a:
            lum = np.asarray(a["luminance_cd_m2"], dtype=float)
            on = result.metrics.get("turn_on_voltage")
            out.append(chart("lv", "L–V", axis("voltage", "V"), axis("luminance", "cd/m²", log=True),
                             [series("L", v, np.where(lum > 0, lum, np.nan), color="#ff7f0e")],
                             vlines=[{"x": _num(on.value), "label": "turn-on"}] if on else None,
                             metrics=["luminance_max", "turn_on_voltage"]))
    if "eqe_percent" in a and "eqe_max" in result.metrics:
        best = result.metrics["eqe_max"]
        j_best = result.metrics.get("j_at_eqe_max")
        j = np.asarray(a["current_density_ma_cm2"], dtype=float)
        eqe = np.asarray(a["eqe_percent"], dtype=float)
        ok = np.isfinite(eqe) & (j > 0)
        marks = [mark(j_best.value, best.value, f"EQE max {best.value:.2f} %", "star")] if j_best else None
        out.append(chart("eqe_j", "EQE–J", axis("current density", "mA/cm²", log=True), axis("EQE", "%"),
                         [series("EQE", j[ok], eqe[ok], style="linepoints", color="#2ca02c")], marks=marks,
                         metrics=["eqe_max", "j_at_eqe_max", "eqe_at_100_ma_cm2"]))
    out.extend(_el(result))
    return out


def _el(result: AnalysisResult) -> list[dict]:
    a = result.arrays
    if "wavelength_nm" not in a or "el_power" not in a:
        return []
    power = np.asarray(a["el_power"], dtype=float)
    top = float(np.nanmax(power)) if np.isfinite(power).any() else 0.0
    peak = result.metrics.get("el_peak_wavelength")
    out = [chart("el_spectrum", "EL spectrum", axis("wavelength", "nm"), axis("normalised EL"),
                 [series("EL", a["wavelength_nm"], power / top if top > 0 else power, color="#d62728")],
                 vlines=[{"x": _num(peak.value), "label": "peak"}] if peak else None,
                 metrics=["el_peak_wavelength", "el_fwhm"])]
    if "cie_x" in result.metrics:
        from .led import _spectral_locus

        locus = _spectral_locus()
        idx = np.unique(np.r_[np.linspace(0, len(locus) - 1, 90).round().astype(int), len(locus) - 1])
        cx, cy = result.metrics["cie_x"].value, result.metrics["cie_y"].value
        out.append(chart("cie", "CIE 1931 chromaticity", axis("CIE x"), axis("CIE y"),
                         [series("spectral locus", locus[idx, 0], locus[idx, 1], color="#333333")],
                         marks=[mark(cx, cy, f"({cx:.3f}, {cy:.3f})", "dot")], metrics=["cie_x", "cie_y"],
                         xlim=[0, 0.8], ylim=[0, 0.9], aspect="equal"))
    return out


def _lifetime(result: AnalysisResult) -> list[dict]:
    a = result.arrays
    runs, marks = [], []
    for k, entry in enumerate(result.per_file):
        if f"time_h_{k}" not in a:
            continue
        l0 = a["initial_luminance_cd_m2"][k]
        label = f"{entry['file']} (L0 {l0:.0f} cd/m²)"
        runs.append(series(label, a[f"time_h_{k}"], a[f"relative_luminance_{k}"]))
        if f"fit_time_h_{k}" in a:
            runs.append(series(f"{label} fit", a[f"fit_time_h_{k}"], a[f"fit_relative_luminance_{k}"], style="dashed"))
        t50 = float(a["t50_h"][k]) if "t50_h" in a else float("nan")
        if np.isfinite(t50):
            marks.append(mark(t50, 0.5, f"T50 {t50:.3g} h", "down"))
    out = []
    if runs:
        out.append(chart("lifetime_decay", "L/L0 vs time", axis("time", "h"), axis("L / L0"), runs, marks=marks,
                         hlines=[{"y": 0.5, "label": "T50"}], ylim=[0, 1.05], metrics=["t50", "t70", "t90"]))
    if "fit_t50_h" in a and "t50_at_100_cd" in result.metrics:
        t100 = result.metrics["t50_at_100_cd"].value
        n = result.metrics["lifetime_acceleration_n"].value
        out.append(chart("lifetime_acceleration", "T50 vs L0", axis("initial luminance L0", "cd/m²", log=True),
                         axis("T50", "h", log=True),
                         [series("runs", a["initial_luminance_cd_m2"], a["t50_h"], style="points"),
                          series(f"fit, n = {n:.2f}", a["fit_initial_luminance_cd_m2"], a["fit_t50_h"])],
                         marks=[mark(100.0, t100, f"T50 @ 100 cd/m² ≈ {t100:.0f} h", "star")],
                         metrics=["lifetime_acceleration_n", "t50_at_100_cd"]))
    return out


def _spectrum_labels(result: AnalysisResult, default: str) -> list[str]:
    """One legend label per stored spectrum (``wavelength_nm_k``): its file's name, else the
    sample's, else "spectrum k"."""
    n = sum(1 for key in result.arrays if key.startswith("wavelength_nm_"))
    names = [row["file"] for row in result.per_file] or [result.sample or default]
    return [str(names[k]) if k < len(names) else f"spectrum {k + 1}" for k in range(n)]


def _pl(result: AnalysisResult) -> list[dict]:
    a = result.arrays
    labels = _spectrum_labels(result, "PL")
    if not labels:
        return []
    lines = []
    for k, label in enumerate(labels):
        scale = float(np.nanmax(a[f"smoothed_{k}"])) if f"smoothed_{k}" in a else 1.0
        lines.append(series(label, a[f"wavelength_nm_{k}"],
                            np.asarray(a[f"intensity_corrected_{k}"], dtype=float) / (scale or 1.0)))
    peak = result.metrics.get("pl_peak_wavelength") if len(labels) == 1 else None
    return [chart("pl_spectrum", "PL spectrum" if len(labels) == 1 else "PL spectra (each normalised to its peak)",
                  axis("wavelength", "nm"), axis("normalised PL"), lines,
                  vlines=[{"x": _num(peak.value), "label": "peak"}] if peak else None,
                  hlines=[{"y": 0.5, "label": "half maximum"}] if peak else None,
                  metrics=["pl_peak_wavelength", "pl_fwhm"] if peak else None)]


def _plqy(result: AnalysisResult) -> list[dict]:
    a = result.arrays
    names = {"A": "A empty sphere", "B": "B out of beam", "C": "C in beam"}
    lines = []
    for key, label in names.items():
        if f"wavelength_nm_{key}" in a:
            y = np.asarray(a[f"intensity_{key}"], dtype=float)
            lines.append(series(label, a[f"wavelength_nm_{key}"], np.clip(y, 1e-3 * np.nanmax(y), None)))
    if not lines:
        return []
    p = result.parameters
    bands = [{"from": _num(p[f"{w}_min_nm"]), "to": _num(p[f"{w}_max_nm"]), "label": w}
             for w in ("excitation", "emission") if f"{w}_min_nm" in p and f"{w}_max_nm" in p]
    return [chart("plqy_spectra", "Integrating-sphere spectra", axis("wavelength", "nm"),
                  axis("intensity", "counts", log=True), lines, bands=bands, metrics=["plqy"])]


def _trpl(result: AnalysisResult) -> list[dict]:
    a = result.arrays
    if "time_ns" not in a or "fit_time_ns" not in a or "tau_avg" not in result.metrics:
        return []
    counts = np.asarray(a["counts"], dtype=float)
    tau = result.metrics["tau_avg"].value
    bg = float(result.parameters.get("background_counts", 0.0) or 0.0)
    decay = chart("decay", "TRPL decay", axis("time", "ns"), axis("counts / channel", log=True),
                  [series("counts", a["time_ns"], np.where(counts > 0, counts, np.nan), style="points", color="#888888"),
                   series(f"fit, τ_avg = {tau:.3g} ns", a["fit_time_ns"], a["fit_counts"], color="#d62728")],
                  hlines=[{"y": _num(bg), "label": "background"}] if bg > 0 else None, metrics=["tau_avg"])
    out = [decay]
    if "residuals_weighted" in a:
        out.append(chart("residuals", "Fit residuals", axis("time", "ns"), axis("(y − m)/√m"),
                         [series("residuals", a["fit_time_ns"], a["residuals_weighted"], color="#d62728")],
                         hlines=[{"y": 0.0, "label": ""}]))
    return out


def _ta(result: AnalysisResult) -> list[dict]:
    a = result.arrays
    lines, n = [], 1
    while f"bleach_{n}_trace" in a:
        pos = result.metrics[f"ta_bleach_{n}_wavelength"].value
        lines.append(series(f"B{n} {pos:.0f} nm", a["delay_ps"], a[f"bleach_{n}_trace"], style="points"))
        lines.append(series(f"B{n} fit", a["delay_ps"], a[f"bleach_{n}_fit"]))
        n += 1
    if not lines:
        return []
    t, w, s = (np.asarray(a[k], dtype=float) for k in ("delay_ps", "wavelength_nm", "signal"))
    # Delays run linear through time zero (negative delays) and over decades after it: symlog,
    # linear within ± linthresh.
    linthresh = max(float(np.min(np.abs(np.diff(t)))) * 5, 0.1) if t.size > 1 else 1.0
    delay = {**axis("delay", "ps"), "symlog": _num(linthresh)}
    bands = [{"x": _num(m.value), "label": name} for name, m in result.metrics.items() if name.endswith("_wavelength")]
    return [
        chart("map", "TA map", axis("wavelength", "nm"), delay, [], vlines=bands,
              map=_grid(w, t, s, label="bleach signal (−ΔA or ΔT/T)")),
        chart("kinetics", "TA bleach kinetics", {**axis("delay", "ps"), "symlog": _num(linthresh)},
              axis("bleach signal"), lines, metrics=[m for m in result.metrics if m.startswith("ta_bleach_")][:4]),
    ]


MAX_MAP_CELLS = (60, 100)  # rows (y) × columns (x) of a stored map


def _grid(x: np.ndarray, y: np.ndarray, z: np.ndarray, *, label: str) -> dict[str, Any]:
    """A map (z[len(y), len(x)]) block-averaged to ≤ MAX_MAP_CELLS for drawing, with the colour
    limit of the full-resolution map (symmetric: a signed signal)."""
    finite = np.isfinite(z)
    limit = float(np.max(np.abs(z[finite]))) if finite.any() else 1.0

    def blocks(n: int, most: int) -> np.ndarray:
        return np.linspace(0, n, min(n, most) + 1).round().astype(int)

    rows, cols = blocks(y.size, MAX_MAP_CELLS[0]), blocks(x.size, MAX_MAP_CELLS[1])
    zz = np.where(finite, z, 0.0)
    counts = finite.astype(float)
    # Sums over blocks by cumulative sums (no Python loop over cells).
    def block_sum(m: np.ndarray) -> np.ndarray:
        c = np.pad(m.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
        return c[rows[1:]][:, cols[1:]] - c[rows[:-1]][:, cols[1:]] - c[rows[1:]][:, cols[:-1]] + c[rows[:-1]][:, cols[:-1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = block_sum(zz) / block_sum(counts)
    centre = lambda v, e: np.array([v[lo:hi].mean() for lo, hi in zip(e[:-1], e[1:], strict=True)])  # noqa: E731
    return {"x": _values(centre(x, cols)), "y": _values(centre(y, rows)),
            "z": [[_num(v) for v in row] for row in mean], "limit": _num(limit), "label": label}


def _xrd(result: AnalysisResult) -> list[dict]:
    a = result.arrays
    if "d_spacing" not in result.metrics or "two_theta_deg" not in a:
        return []
    lines = [series("measured", a["two_theta_deg"], a["intensity"], color="#333333")]
    if "intensity_kalpha1" in a:
        lines.append(series("Kα2 stripped", a["two_theta_deg"], a["intensity_kalpha1"], color="#1f77b4"))
    marks = []
    for p in result.metrics["d_spacing"].extra.get("peaks", []):
        y = float(np.interp(p["two_theta_deg"], a["two_theta_deg"], a["intensity"]))
        if p.get("hkl"):
            name = f"({''.join(str(i) for i in p['hkl'])})"
        elif p.get("layer_order"):
            name = f"k={p['layer_order']}"
        else:
            name = "?"
        marks.append(mark(p["two_theta_deg"], y, f"{name} {p['d_a']:.3f} Å", "down"))
    metrics = [m for m in ("d_spacing", "lattice_constant", "layer_spacing", "crystallite_size") if m in result.metrics]
    return [chart("pattern", "XRD pattern", axis("2θ", "°"), axis("intensity", "counts"), lines, marks=marks,
                  metrics=metrics)]


def _absorbance(result: AnalysisResult) -> list[dict]:
    a = result.arrays
    labels = _spectrum_labels(result, "absorbance")
    if not labels:
        return []
    spectra, tauc = [], []
    for k, label in enumerate(labels):
        spectra.append(series(label, a[f"wavelength_nm_{k}"], a[f"absorbance_{k}"]))
        if f"tauc_y_{k}" in a:
            tauc.append(series(label, a[f"tauc_energy_ev_{k}"], a[f"tauc_y_{k}"]))
            slope, intercept, _, fit_max = a[f"tauc_fit_{k}"]
            gap = -intercept / slope
            fit_e = np.array([gap, fit_max])
            tauc.append(series(f"{label} fit", fit_e, slope * fit_e + intercept, style="dashed"))
    od = result.metrics.get("optical_density")
    vlines = [{"x": _num(od.extra["wavelength_nm"]), "label": "OD"}] if od is not None else []
    if "first_exciton_peak_wavelength" in result.metrics:
        vlines.append({"x": _num(result.metrics["first_exciton_peak_wavelength"].value), "label": "exciton"})
    out = [chart("absorbance", "Absorbance spectrum", axis("wavelength", "nm"), axis("absorbance", "OD"), spectra,
                 vlines=vlines, metrics=[m for m in ("optical_density", "first_exciton_peak_wavelength")
                                         if m in result.metrics])]
    if tauc:
        r = result.parameters.get("tauc_exponent_r", 0.5)
        out.append(chart("tauc", "Tauc plot", axis("photon energy hν", "eV"), axis(f"(αhν)^(1/{r:g})"), tauc,
                         metrics=[m for m in result.metrics if m.startswith("optical_gap")][:2]))
    return out


BUILDERS: dict[str, Callable[[AnalysisResult], list[dict]]] = {
    "jlv": _jlv, "el": _el, "lifetime": _lifetime, "pl": _pl, "plqy": _plqy, "trpl": _trpl, "ta": _ta,
    "xrd": _xrd, "absorbance": _absorbance,
}


def charts_for(kind: str, result: AnalysisResult) -> list[dict[str, Any]]:
    """The charts of one stored result (a multi-sample file's entries are stored, and charted, one
    by one). A kind without a builder has none."""
    builder = BUILDERS.get(kind)
    return builder(result) if builder is not None else []


# --- Compare's overlays ---------------------------------------------------------------------------

OVERLAY_POINTS = 150  # points per overlaid curve at most (stored curves keep up to 400)
OVERLAY_DIGITS = 4  # significant digits of an overlaid point: a part in 10⁴, far below a pixel


def overlay_curve(x, y) -> list[list[float | None]]:
    """[x, y] of one curve as Compare draws it: at most OVERLAY_POINTS points — the min and max of y
    in equal index buckets and both ends (``downsample_indices``, so a peak is always kept) — at
    OVERLAY_DIGITS significant digits. ``x`` and ``y`` are stored curves (numbers, None for a gap);
    the shorter length wins."""
    n = min(len(x), len(y))
    xs, ys = np.asarray(x[:n], dtype=float), np.asarray(y[:n], dtype=float)  # None → NaN → None again
    if n > OVERLAY_POINTS:
        keep = downsample_indices(ys, OVERLAY_POINTS)
        xs, ys = xs[keep], ys[keep]
    return [rounded_values(xs, OVERLAY_DIGITS), rounded_values(ys, OVERLAY_DIGITS)]


def _normalised(values: list[float | None]) -> list[float | None]:
    peak = max((v for v in values if v is not None), default=0) or 1.0
    return [None if v is None else v / peak for v in values]


def overlays(arrays: dict[str, list[float | None]]) -> dict[str, Any]:
    """Compare's curves of one analysis, from its *stored* curves (``Analysis.result["arrays"]``),
    computed once when the analysis is stored (``Analysis.overlay``) instead of on every Compare
    page (decoding 24 kB of curves per device and thinning them was half of a 24-device page):

    ``eqe_j``/``jv``/``lv`` ([x, y]) for a J-L-V sweep, ``el`` (the EL power normalised to its peak),
    ``lifetime`` ([{"x", "y", "l0"}] per run) and ``pl`` ([[x, y]] per spectrum, normalised). Only
    what the arrays hold; an empty dict when nothing is drawable."""
    out: dict[str, Any] = {}
    if "eqe_percent" in arrays:
        j, v = arrays["current_density_ma_cm2"], arrays["voltage_v"]
        out["eqe_j"] = overlay_curve(j, arrays["eqe_percent"])
        out["jv"] = overlay_curve(v, j)
        out["lv"] = overlay_curve(v, arrays["luminance_cd_m2"])
    if "el_power" in arrays:
        out["el"] = overlay_curve(arrays["wavelength_nm"], _normalised(arrays["el_power"]))
    runs, k = [], 0
    while f"time_h_{k}" in arrays:
        l0 = (arrays.get("initial_luminance_cd_m2") or [None] * (k + 1))[k]
        x, y = overlay_curve(arrays[f"time_h_{k}"], arrays[f"relative_luminance_{k}"])
        runs.append({"x": x, "y": y, "l0": l0})
        k += 1
    if runs:
        out["lifetime"] = runs
    spectra, k = [], 0
    while f"wavelength_nm_{k}" in arrays and f"intensity_corrected_{k}" in arrays:
        spectra.append(overlay_curve(arrays[f"wavelength_nm_{k}"], _normalised(arrays[f"intensity_corrected_{k}"])))
        k += 1
    if spectra:
        out["pl"] = spectra
    return out
