"""Photoluminescence spectra: peak wavelength/energy, FWHM and emission bands (kind ``pl``).

Steps, per spectrum:
1. Baseline: a straight line through the medians of the two spectrum edges (the first and last
   8 % of points), which hold no emission in a well-framed PL scan. Medians keep the baseline
   honest for background-corrected files whose noise straddles zero (negative counts).
2. Noise: 1.4826·MAD of the edge points around that line (robust standard deviation).
3. Light Savitzky–Golay smoothing (quadratic, window ≈ FWHM/10, at least 5 points) so a noise
   spike is not taken as the peak and the half-maximum is not set by one noisy point; over a tenth
   of the width a quadratic leaves a Gaussian's position and FWHM unchanged to < 0.1 %.
4. Bands: local maxima with a prominence of at least 5 % of the tallest one and above the noise.
   Each band keeps its own position and width; the main band is the tallest. Bands are never
   averaged (matrix-only films show separate 650 and 700 nm emission).
5. FWHM: linear interpolation of the half-maximum crossings on each side, searched only down to
   the valley that separates a band from its neighbour.

E = hc/λ with hc = 1239.84193 eV·nm (CODATA 2018).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.signal import find_peaks, savgol_filter

from ..parsers import ParsedData
from .base import AnalysisError, AnalysisResult
from .plotting import new_figure
from .registry import AnalysisSpec, Param, Role, register_analysis

HC_EV_NM = 1239.84193
EDGE_FRACTION = 0.08  # share of points at each end used for the baseline
MIN_SNR = 6.0  # a peak must stand this many noise sigmas above the baseline
MIN_BAND_PROMINENCE = 0.05  # of the tallest band; smaller maxima are ripple, not bands


def spectrum_arrays(parsed: ParsedData, y_column: str = "intensity_counts") -> tuple[np.ndarray, np.ndarray]:
    """Sorted, finite (wavelength_nm, intensity) arrays from a parsed spectrum."""
    frame = parsed.data
    name = parsed.source or parsed.metadata.get("label") or "spectrum"
    if "wavelength_nm" not in frame or y_column not in frame:
        raise AnalysisError(f"{name}: expected columns wavelength_nm and {y_column}, got {', '.join(frame.columns)}")
    wavelength_nm = frame["wavelength_nm"].to_numpy(dtype=float)
    intensity = frame[y_column].to_numpy(dtype=float)
    keep = np.isfinite(wavelength_nm) & np.isfinite(intensity)
    wavelength_nm, intensity = wavelength_nm[keep], intensity[keep]
    order = np.argsort(wavelength_nm, kind="stable")
    wavelength_nm, intensity = wavelength_nm[order], intensity[order]
    if len(wavelength_nm) < 10:
        raise AnalysisError(f"{name}: only {len(wavelength_nm)} data points; a spectrum needs at least 10")
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


def analyse_spectrum(parsed: ParsedData) -> tuple[AnalysisResult, dict[str, np.ndarray]]:
    """Metrics of one PL spectrum, and the curves for its plot."""
    name = parsed.source or parsed.metadata.get("label") or "spectrum"
    wavelength_nm, intensity = spectrum_arrays(parsed)
    baseline, noise = edge_baseline(wavelength_nm, intensity)
    corrected = intensity - baseline
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
    result = AnalysisResult(method="pl.peak", version="1.0")
    bands_nm = sorted(round(b["wavelength_nm"], 2) for b in bands)
    band_rows = [{"wavelength_nm": round(b["wavelength_nm"], 2),
                  "energy_ev": round(HC_EV_NM / b["wavelength_nm"], 4),
                  "fwhm_nm": None if not np.isfinite(b["fwhm_nm"]) else round(b["fwhm_nm"], 2),
                  "relative_height": round(b["height"] / main["height"], 4)}
                 for b in sorted(bands, key=lambda b: b["wavelength_nm"])]
    result.add("pl_peak_wavelength", main["wavelength_nm"], "nm", extra={"bands_nm": bands_nm})
    result.add("pl_peak_energy", HC_EV_NM / main["wavelength_nm"], "eV")
    result.add("pl_fwhm", main["fwhm_nm"], "nm", flags=main["flags"])
    result.add("pl_band_count", len(bands), "", extra={"bands_nm": bands_nm, "bands": band_rows})
    if len(bands) > 1:
        result.warnings.append(f"{name}: {len(bands)} emission bands at "
                               f"{', '.join(f'{b:.1f}' for b in bands_nm)} nm; peak and FWHM are those of "
                               f"the strongest ({main['wavelength_nm']:.1f} nm)")
    if "fwhm_from_one_side" in main["flags"]:
        result.warnings.append(f"{name}: FWHM from one side only (band overlaps a neighbour or the spectrum edge)")
    result.parameters = {"baseline": "linear through edge medians", "noise_sigma": noise,
                         "smoothing_window_points": window}
    curves = {"wavelength_nm": wavelength_nm, "intensity_corrected": corrected, "smoothed": signal,
              "baseline": baseline}
    return result, curves


def analyse_pl(inputs: dict[str, list[ParsedData]], params: dict[str, Any]) -> AnalysisResult:
    """One spectrum → its metrics. Several (an overlay) → per_file metrics for each, and the
    top-level metrics of the first file so a single-sample upload and an overlay read alike."""
    spectra = inputs["files"]
    results = []
    for index, parsed in enumerate(spectra):
        single, curves = analyse_spectrum(parsed)
        results.append((parsed.source or parsed.metadata.get("label") or f"spectrum {index + 1}", single, curves))
    _, first, _ = results[0]
    combined = AnalysisResult(method="pl.peak", version="1.0", metrics=dict(first.metrics),
                              parameters=dict(first.parameters) if len(results) == 1 else {})
    for index, (_name, single, curves) in enumerate(results):
        combined.warnings.extend(single.warnings)
        for key, values in curves.items():
            combined.arrays[f"{key}_{index}"] = values
    if len(results) > 1:
        combined.per_file = [{"file": name, "metrics": single.metrics_json(), "parameters": single.parameters}
                             for name, single, _ in results]
    return combined


def plot_pl(result: AnalysisResult) -> dict[str, Any]:
    n_spectra = sum(1 for key in result.arrays if key.startswith("wavelength_nm_"))
    fig = new_figure()
    ax = fig.add_subplot()
    names = [row["file"] for row in result.per_file] or [None]
    for index in range(n_spectra):
        x = result.arrays[f"wavelength_nm_{index}"]
        y = result.arrays[f"intensity_corrected_{index}"]
        smoothed = result.arrays[f"smoothed_{index}"]
        scale = float(np.max(smoothed)) or 1.0
        label = names[index] if index < len(names) else None
        ax.plot(x, y / scale, lw=1, label=label)
    if n_spectra == 1:
        peak = result.metrics["pl_peak_wavelength"].value
        fwhm = result.metrics["pl_fwhm"].value
        ax.axvline(peak, color="0.4", ls="--", lw=0.8)
        ax.axhline(0.5, color="0.6", ls=":", lw=0.8)
        ax.set_title(f"PL peak {peak:.1f} nm, FWHM {fwhm:.1f} nm", fontsize=9)
    else:
        ax.legend(fontsize=7)
        ax.set_title("PL spectra (each normalised to its peak)", fontsize=9)
    ax.set_xlabel("Wavelength (nm)")
    ax.set_ylabel("Normalised PL intensity")
    return {"pl_spectrum": fig}


register_analysis(AnalysisSpec(
    kind="pl",
    method="pl.peak",
    version="1.0",
    func=analyse_pl,
    roles=(Role("files", ("spectrum",), many=True,
                help="PL spectra (wavelength vs counts); several are overlaid on one plot"),),
    params=(),
    plot=plot_pl,
    description="PL peak wavelength and energy, FWHM and emission bands, baseline-corrected",
))

__all__ = ["HC_EV_NM", "analyse_pl", "analyse_spectrum", "edge_baseline", "find_bands", "smooth",
           "spectrum_arrays", "Param"]
