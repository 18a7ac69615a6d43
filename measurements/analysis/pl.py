"""Photoluminescence spectra: peak wavelength/energy, FWHM and emission bands (kind ``pl``).

Steps, per spectrum:
0. Axis check: the x axis must be a wavelength in nm. A spectrum whose x axis is a Raman shift
   or wavenumber in cm⁻¹ gives no PL metric at all (AnalysisError: a peak "in nm" read from
   cm⁻¹ values would be a silent wrong number). A unit the file did not state is a warning.
1. Baseline. Each edge (the first and last 8 % of points) is tested: it is *sloped* when a line
   through it changes by more than 4 noise σ **and** 3 % of the peak height across the edge (a
   laser or edge-filter tail, or an emission band cut by the spectrum's end). Both edges flat: a
   straight line through the medians of the two edges (they hold no emission in a well-framed
   scan; medians keep the baseline honest for background-corrected files whose noise straddles
   zero). An edge sloped: that edge must not become the baseline, so a robust baseline is
   subtracted instead — SNIP (Ryan et al., NIM B 34 (1988) 396; pybaselines) with a half window
   of one rough FWHM, which follows a tail under the band and stays under the band itself — and
   a warning names the sloped edge; when neither edge is flat the warning says the baseline (and
   so the FWHM) rests on the model, and peak and FWHM are flagged ``no_flat_edge``.
2. Noise: 1.4826·MAD of the flat edge points around the baseline (robust standard deviation);
   of point-to-point differences when no edge is flat.
3. Light Savitzky–Golay smoothing (quadratic, window ≈ FWHM/10, at least 5 points) so a noise
   spike is not taken as the peak and the half-maximum is not set by one noisy point; over a tenth
   of the width a quadratic leaves a Gaussian's position and FWHM unchanged to < 0.1 %.
4. Bands: local maxima with a prominence of at least 5 % of the tallest one and above the noise.
   Each band keeps its own position and width; the main band is the tallest. Bands are never
   averaged (matrix-only films show separate 650 and 700 nm emission).
5. FWHM: linear interpolation of the half-maximum crossings on each side, searched only down to
   the valley that separates a band from its neighbour.

Values the instrument software computed and wrote in the file's header (LuQY Pro: LuQY, iVoc,
bandgap; ``ParsedData.metadata["reported"]``) are stored as metrics flagged
``instrument_reported``: ``plqy`` (%), ``qfls`` (eV, = e·iVoc), ``pl_bandgap`` (eV).
A file with several traces (``ParsedData.samples``) gives one result per trace.

E = hc/λ with hc = 1239.84193 eV·nm (CODATA 2018).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.signal import find_peaks, savgol_filter

from ..parsers import ParsedData
from .base import AnalysisError, AnalysisResult, analyse_samples, unit_warnings
from .registry import AnalysisSpec, Param, Role, register_analysis

HC_EV_NM = 1239.84193
EDGE_FRACTION = 0.08  # share of points at each end used for the baseline
MIN_SNR = 6.0  # a peak must stand this many noise sigmas above the baseline
MIN_BAND_PROMINENCE = 0.05  # of the tallest band; smaller maxima are ripple, not bands
SLOPED_EDGE_SIGMA = 4.0  # an edge whose line changes by more than this many noise σ …
SLOPED_EDGE_FRACTION = 0.03  # … and by more than this share of the peak height is not a baseline
METHOD, VERSION = "pl.peak", "1.1"
X_NOT_WAVELENGTH = {"raman_shift_cm1": "a Raman shift", "wavenumber_cm1": "a wavenumber"}


def spectrum_arrays(parsed: ParsedData, y_column: str = "intensity_counts") -> tuple[np.ndarray, np.ndarray]:
    """Sorted, finite (wavelength_nm, intensity) arrays from a parsed spectrum.

    Refuses a spectrum whose x axis is not a wavelength (a Raman shift in cm⁻¹) with the reason.
    A calibrated spectrum without counts (LuQY Pro photon flux) is read from ``photon_flux``."""
    frame = parsed.data
    name = parsed.label
    if "wavelength_nm" not in frame:
        other = next((c for c in frame.columns if c in X_NOT_WAVELENGTH), None)
        if other:
            x = parsed.axes.get("x") or {}
            where = f" (read from {x['evidence']})" if x.get("evidence") else ""
            raise AnalysisError(f"{name}: the x axis is {X_NOT_WAVELENGTH[other]} in cm⁻¹{where}, not a wavelength: "
                                "no emission peak, FWHM or colour in nm can be read from it (is this a Raman "
                                "spectrum?)")
        raise AnalysisError(f"{name}: expected columns wavelength_nm and {y_column}, got {', '.join(frame.columns)}")
    if y_column not in frame and y_column == "intensity_counts" and "photon_flux" in frame:
        y_column = "photon_flux"
    if y_column not in frame:
        raise AnalysisError(f"{name}: expected columns wavelength_nm and {y_column}, got {', '.join(frame.columns)}")
    wavelength_nm = frame["wavelength_nm"].to_numpy(dtype=float)
    intensity = frame[y_column].to_numpy(dtype=float)
    keep = np.isfinite(wavelength_nm) & np.isfinite(intensity)
    wavelength_nm, intensity = wavelength_nm[keep], intensity[keep]
    order = np.argsort(wavelength_nm, kind="stable")
    wavelength_nm, intensity = wavelength_nm[order], intensity[order]
    if len(wavelength_nm) < 10:
        raise AnalysisError(f"{name}: {len(wavelength_nm)} points: too few for a spectrum (at least 10 needed)")
    return wavelength_nm, intensity


def edge_baseline(wavelength_nm: np.ndarray, intensity: np.ndarray,
                  edge_fraction: float = EDGE_FRACTION) -> tuple[np.ndarray, float]:
    """Linear baseline through the medians of both edges, and the robust noise sigma there."""
    n_edge = max(5, int(round(edge_fraction * len(intensity))))
    left = slice(0, n_edge)
    right = slice(len(intensity) - n_edge, len(intensity))
    x0, y0 = np.median(wavelength_nm[left]), np.median(intensity[left])
    x1, y1 = np.median(wavelength_nm[right]), np.median(intensity[right])
    slope = (y1 - y0) / (x1 - x0) if x1 != x0 else 0.0
    baseline = y0 + slope * (wavelength_nm - x0)
    residual = np.concatenate([(intensity - baseline)[left], (intensity - baseline)[right]])
    noise = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    return baseline, noise


def _point_noise(values: np.ndarray) -> float:
    d = np.diff(values)
    return 1.4826 * float(np.median(np.abs(d - np.median(d)))) / np.sqrt(2) if d.size > 2 else 0.0


def sloped_edges(wavelength_nm: np.ndarray, intensity: np.ndarray,
                 edge_fraction: float = EDGE_FRACTION) -> tuple[bool, bool]:
    """(left sloped, right sloped): an edge whose straight-line fit changes by more than
    SLOPED_EDGE_SIGMA noise σ and SLOPED_EDGE_FRACTION of the peak height across the edge."""
    n_edge = max(5, int(round(edge_fraction * len(intensity))))
    sigma = _point_noise(intensity)
    out = []
    level = float(np.median(np.r_[intensity[:n_edge], intensity[-n_edge:]]))
    height = float(np.max(intensity)) - level
    for sl in (slice(0, n_edge), slice(len(intensity) - n_edge, len(intensity))):
        x, y = wavelength_nm[sl], intensity[sl]
        slope = np.polyfit(x - x[0], y, 1)[0] if np.ptp(x) > 0 else 0.0
        change = abs(slope * (x[-1] - x[0]))
        out.append(bool(change > SLOPED_EDGE_SIGMA * sigma and change > SLOPED_EDGE_FRACTION * max(height, 0.0)))
    return out[0], out[1]


# Pad with the end values, not a linear extrapolation of the edges: a steep edge (a band cut by
# the spectrum's end) extrapolated outwards would drag the baseline far below the data.
_PAD = {"mode": "edge"}


def robust_baseline(wavelength_nm: np.ndarray, intensity: np.ndarray) -> np.ndarray:
    """SNIP baseline (pybaselines) with a half window of about one FWHM of the main band, found
    from a first pass with a wide window: wide enough to stay under the band, narrow enough to
    follow a laser or filter tail beneath it."""
    from pybaselines import Baseline

    fitter = Baseline(wavelength_nm, check_finite=False)
    n = len(intensity)
    first, _ = fitter.snip(intensity, max_half_window=max(3, n // 4), decreasing=True, pad_kwargs=_PAD)
    width = _interior_fwhm_points(intensity - first)
    half_window = int(np.clip(width, 3, max(3, (n - 1) // 2)))
    baseline, _ = fitter.snip(intensity, max_half_window=half_window, decreasing=True, pad_kwargs=_PAD)
    return baseline


def choose_baseline(wavelength_nm: np.ndarray, intensity: np.ndarray, name: str,
                    warnings: list[str]) -> tuple[np.ndarray, float, str, tuple[str, ...]]:
    """Baseline, noise σ, its description and the flags it puts on peak/FWHM (see step 1)."""
    left, right = sloped_edges(wavelength_nm, intensity)
    if not (left or right):
        baseline, noise = edge_baseline(wavelength_nm, intensity)
        return baseline, noise, "linear through edge medians", ()
    baseline = robust_baseline(wavelength_nm, intensity)
    n_edge = max(5, int(round(EDGE_FRACTION * len(intensity))))
    residual = intensity - baseline
    flat = [sl for sl, sloped in ((slice(0, n_edge), left), (slice(len(intensity) - n_edge, None), right)) if not sloped]
    if flat:
        r = np.concatenate([residual[sl] for sl in flat])
        noise = 1.4826 * float(np.median(np.abs(r - np.median(r))))
        edge = "blue (short-wavelength)" if left else "red (long-wavelength)"
        warnings.append(f"{name}: the {edge} edge of the spectrum is sloped (a laser or filter tail, or the band "
                        "cut by the spectrum's end), so it was not used as the baseline; a robust SNIP baseline "
                        "was subtracted")
        return baseline, noise, "SNIP (pybaselines): one edge sloped", ()
    noise = _point_noise(residual)
    warnings.append(f"{name}: neither edge of the spectrum is flat (tails or a band filling the range): no "
                    "emission-free baseline exists, so peak and FWHM rest on a modelled (SNIP) baseline; "
                    "record a wider range to be sure")
    return baseline, noise, "SNIP (pybaselines): no flat edge", ("no_flat_edge",)


def smooth(intensity: np.ndarray, window_points: int) -> np.ndarray:
    """Quadratic Savitzky–Golay; windows under 5 points would not smooth, so are skipped."""
    window_points = int(window_points) | 1  # odd
    if window_points < 5 or window_points >= len(intensity):
        return intensity.copy()
    return savgol_filter(intensity, window_points, 2)


def _rough_fwhm_points(signal: np.ndarray) -> int:
    """Width in points of the tallest feature at half height (for choosing the smoothing window)."""
    # A 5-point running median removes single-point spikes before the width is measured.
    padded = np.pad(signal, 2, mode="edge")
    median5 = np.median(np.lib.stride_tricks.sliding_window_view(padded, 5), axis=1)
    top = int(np.argmax(median5))
    above = median5 >= median5[top] / 2
    left = top
    while left > 0 and above[left - 1]:
        left -= 1
    right = top
    while right < len(above) - 1 and above[right + 1]:
        right += 1
    return right - left + 1


def _is_cut(x: np.ndarray, y: np.ndarray, crossing_nm: float | None, height: float) -> bool:
    if crossing_nm is None:
        return False
    i = int(np.clip(np.searchsorted(x, crossing_nm), 1, len(x) - 1))
    lo, hi = max(0, i - 2), min(len(y), i + 2)
    window = y[lo:hi]
    return bool(window.max() >= 0.75 * height and window.min() <= 0.1 * height)


def _interior_fwhm_points(signal: np.ndarray) -> int:
    """Like _rough_fwhm_points, for the tallest maximum away from the ends: a tail rising into
    an end of the spectrum is not the band whose width sets the baseline window."""
    padded = np.pad(signal, 2, mode="edge")
    median5 = np.median(np.lib.stride_tricks.sliding_window_view(padded, 5), axis=1)
    peaks, _ = find_peaks(median5, prominence=0.05 * float(np.ptp(median5)) or None)
    if len(peaks) == 0:
        return _rough_fwhm_points(signal)
    top = int(peaks[np.argmax(median5[peaks])])
    half = median5[top] / 2
    left = top
    while left > 0 and median5[left - 1] >= half:
        left -= 1
    right = top
    while right < len(median5) - 1 and median5[right + 1] >= half:
        right += 1
    return right - left + 1


def _refine_peak(x: np.ndarray, y: np.ndarray, i: int) -> tuple[float, float]:
    """Vertex of the parabola through the maximum and its neighbours (sub-sample peak)."""
    if i <= 0 or i >= len(y) - 1:
        return float(x[i]), float(y[i])
    a, b, c = np.polyfit(x[i - 1:i + 2] - x[i], y[i - 1:i + 2], 2)
    if a >= 0:
        return float(x[i]), float(y[i])
    dx = float(np.clip(-b / (2 * a), x[i - 1] - x[i], x[i + 1] - x[i]))
    return float(x[i] + dx), float(a * dx * dx + b * dx + c)


def _half_max_crossing(x: np.ndarray, y: np.ndarray, peak: int, stop: int, half: float) -> float | None:
    """Wavelength where y falls to ``half`` walking from ``peak`` towards ``stop`` (inclusive)."""
    step = -1 if stop < peak else 1
    for i in range(peak, stop, step):
        j = i + step
        if y[j] < half:
            # linear interpolation between the last point above and the first below
            return float(x[i] + (half - y[i]) * (x[j] - x[i]) / (y[j] - y[i]))
    return None


def find_bands(wavelength_nm: np.ndarray, signal: np.ndarray, noise: float) -> list[dict[str, Any]]:
    """Emission bands of a baseline-corrected, smoothed spectrum, tallest first."""
    top = float(np.max(signal))
    prominence = max(MIN_BAND_PROMINENCE * top, MIN_SNR * noise)
    indices, _ = find_peaks(signal, prominence=prominence, height=MIN_SNR * noise)
    if len(indices) == 0:
        indices = np.array([int(np.argmax(signal))])
    indices = np.sort(indices)
    bands = []
    for k, peak in enumerate(indices):
        # Search for half-max crossings only as far as the valley towards each neighbour band.
        left_stop = int(indices[k - 1] + np.argmin(signal[indices[k - 1]:peak + 1])) if k > 0 else 0
        right_stop = (int(peak + np.argmin(signal[peak:indices[k + 1] + 1])) if k < len(indices) - 1
                      else len(signal) - 1)
        position_nm, height = _refine_peak(wavelength_nm, signal, int(peak))
        half = height / 2
        left_nm = _half_max_crossing(wavelength_nm, signal, int(peak), left_stop, half)
        right_nm = _half_max_crossing(wavelength_nm, signal, int(peak), right_stop, half)
        flags: tuple[str, ...] = ()
        # A side where the signal drops from near the top to nothing within two points is a cut
        # (a filter, or software that zeroes the spectrum outside a window), not the band's flank.
        cut_left = _is_cut(wavelength_nm, signal, left_nm, height)
        cut_right = _is_cut(wavelength_nm, signal, right_nm, height)
        if cut_left or cut_right:
            flags += ("band_cut",)
            left_nm = None if cut_left else left_nm
            right_nm = None if cut_right else right_nm
        if left_nm is not None and right_nm is not None:
            fwhm_nm = right_nm - left_nm
        elif left_nm is not None or right_nm is not None:
            # Overlapping neighbour or spectrum edge on one side: assume a symmetric band.
            side = position_nm - left_nm if left_nm is not None else right_nm - position_nm
            fwhm_nm, flags = 2 * side, ("fwhm_from_one_side",)
        else:
            fwhm_nm, flags = float("nan"), ("fwhm_undefined",)
        bands.append({"wavelength_nm": position_nm, "height": height, "fwhm_nm": fwhm_nm,
                      "half_max_nm": (left_nm, right_nm), "flags": flags})
    bands.sort(key=lambda b: -b["height"])
    return bands


def reported_metrics(result: AnalysisResult, parsed: ParsedData) -> None:
    """Store the instrument's own results from the file header, flagged instrument_reported."""
    for metric, entry in (parsed.metadata.get("reported") or {}).items():
        result.add(metric, entry["value"], entry["unit"], flags=("instrument_reported",),
                   extra={"source": f"{parsed.format}: {entry['evidence']}"})


def analyse_spectrum(parsed: ParsedData) -> tuple[AnalysisResult, dict[str, np.ndarray]]:
    """Metrics of one PL spectrum, and the curves for its plot."""
    name = parsed.label
    wavelength_nm, intensity = spectrum_arrays(parsed)
    result = AnalysisResult(method=METHOD, version=VERSION)
    result.warnings.extend(unit_warnings(parsed, ("x", "y")))
    baseline, noise, baseline_name, baseline_flags = choose_baseline(wavelength_nm, intensity, name, result.warnings)
    corrected = intensity - baseline
    if noise <= 0 and np.count_nonzero(intensity) > 10:
        # Edges of exact zeros (software that zeroes the spectrum outside a window) hold no
        # noise: take that of the recorded part, point to point.
        noise = _point_noise(corrected[intensity != 0])
    window = max(5, _rough_fwhm_points(corrected) // 10)
    signal = smooth(corrected, window)
    peak_height = float(np.max(signal))
    if peak_height <= MIN_SNR * noise or peak_height <= 0:
        raise AnalysisError(f"{name}: no emission above noise (highest point {peak_height:.3g} above the baseline, "
                            f"noise σ {noise:.3g}; need {MIN_SNR:g}σ)")
    bands = find_bands(wavelength_nm, signal, noise)
    main = bands[0]
    if not np.isfinite(main["fwhm_nm"]):
        raise AnalysisError(f"{name}: the emission band at {main['wavelength_nm']:.1f} nm does not fall to half "
                            "its height on either side within the spectrum; FWHM cannot be measured")
    bands_nm = sorted(round(b["wavelength_nm"], 2) for b in bands)
    band_rows = [{"wavelength_nm": round(b["wavelength_nm"], 2),
                  "energy_ev": round(HC_EV_NM / b["wavelength_nm"], 4),
                  "fwhm_nm": None if not np.isfinite(b["fwhm_nm"]) else round(b["fwhm_nm"], 2),
                  "relative_height": round(b["height"] / main["height"], 4)}
                 for b in sorted(bands, key=lambda b: b["wavelength_nm"])]
    peak_flags = baseline_flags + (("band_cut",) if "band_cut" in main["flags"] else ())
    result.add("pl_peak_wavelength", main["wavelength_nm"], "nm", extra={"bands_nm": bands_nm}, flags=peak_flags)
    result.add("pl_peak_energy", HC_EV_NM / main["wavelength_nm"], "eV", flags=peak_flags)
    result.add("pl_fwhm", main["fwhm_nm"], "nm", flags=tuple(main["flags"]) + baseline_flags)
    result.add("pl_band_count", len(bands), "", extra={"bands_nm": bands_nm, "bands": band_rows})
    reported_metrics(result, parsed)
    if len(bands) > 1:
        result.warnings.append(f"{name}: {len(bands)} emission bands at "
                               f"{', '.join(f'{b:.1f}' for b in bands_nm)} nm; peak and FWHM are those of "
                               f"the strongest ({main['wavelength_nm']:.1f} nm)")
    if "band_cut" in main["flags"]:
        result.warnings.append(f"{name}: the emission band is cut off (the signal drops from near its top to zero "
                               "within two points — a filter or a software window), so its peak and FWHM may not "
                               "be the band's own")
    if "fwhm_from_one_side" in main["flags"]:
        result.warnings.append(f"{name}: FWHM from one side only (band overlaps a neighbour or the spectrum edge)")
    result.parameters = {"baseline": baseline_name, "noise_sigma": noise, "smoothing_window_points": window}
    curves = {"wavelength_nm": wavelength_nm, "intensity_corrected": corrected, "smoothed": signal,
              "baseline": baseline}
    return result, curves


def _one(parsed: ParsedData) -> AnalysisResult:
    single, curves = analyse_spectrum(parsed)
    for key, values in curves.items():
        single.arrays[f"{key}_0"] = values
    return single


def analyse_pl(inputs: dict[str, list[ParsedData]], params: dict[str, Any]) -> AnalysisResult:
    """One spectrum → its metrics. Several (an overlay) → per_file metrics for each, and the
    top-level metrics of the first file so a single-sample upload and an overlay read alike.
    A file holding several traces → one result per trace in ``samples`` (analysis/base.py)."""
    spectra = inputs["files"]
    if len(spectra) == 1 and spectra[0].samples:
        return analyse_samples(spectra[0], _one, method=METHOD, version=VERSION)
    results = []
    for index, parsed in enumerate(spectra):
        single, curves = analyse_spectrum(parsed)
        results.append((parsed.source or parsed.metadata.get("label") or f"spectrum {index + 1}", single, curves))
    _, first, _ = results[0]
    combined = AnalysisResult(method=METHOD, version=VERSION, metrics=dict(first.metrics),
                              parameters=dict(first.parameters) if len(results) == 1 else {})
    for index, (_name, single, curves) in enumerate(results):
        combined.warnings.extend(single.warnings)
        for key, values in curves.items():
            combined.arrays[f"{key}_{index}"] = values
    if len(results) > 1:
        combined.per_file = [{"file": name, "metrics": single.metrics_json(), "parameters": single.parameters}
                             for name, single, _ in results]
    return combined


register_analysis(AnalysisSpec(
    kind="pl",
    method=METHOD,
    version=VERSION,
    func=analyse_pl,
    roles=(Role("files", ("spectrum",), many=True,
                help="PL spectra (wavelength vs counts); several are overlaid on one plot"),),
    params=(),
    description="PL peak wavelength and energy, FWHM and emission bands, baseline-corrected",
))

__all__ = ["HC_EV_NM", "analyse_pl", "analyse_spectrum", "edge_baseline", "find_bands", "smooth",
           "spectrum_arrays", "Param"]
