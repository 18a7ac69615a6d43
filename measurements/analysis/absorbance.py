"""UV-Vis absorbance: optical density, first excitonic peak and Tauc optical gap (kind ``absorbance``).

- ``optical_density``: absorbance at ``od_wavelength_nm`` (default 500 nm, the wavelength the
  paper uses for QD concentration), linearly interpolated between the recorded points.
- ``first_exciton_peak_wavelength``: the lowest-energy excitonic feature. Excitons show as a
  local minimum of the second derivative d²A/dλ² (a peak or a shoulder on the rising edge);
  the longest-wavelength such minimum that stands out (≥ 10 % of the strongest, where A is at
  least 10 % of its maximum, i.e. not in the scattering tail, and with a convex valley within
  60 nm on its blue side, which a bare absorption onset lacks) is taken. When the absorbance has a
  true local maximum near it, that maximum is reported instead (what a person reads off the plot).
- ``optical_gap``: Tauc, J. Tauc, Mater. Res. Bull. 3, 37 (1968): (α·hν)^(1/r) = B·(hν − E_g),
  r = 1/2 for direct allowed transitions (default), 2 for indirect allowed, 3/2 and 3 for the
  forbidden ones. α ∝ A for a film of fixed thickness and the intercept does not depend on
  the scale, so A is used for α. The line is fitted where the Tauc curve is steepest (slope
  ≥ 70 % of its maximum, contiguous), below the exciton energy when an exciton was found, and
  extrapolated to zero. A spectrum without an edge keeps its optical density; the gap is then
  left out with a warning rather than failing the file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.signal import find_peaks, savgol_coeffs, savgol_filter

from ..parsers import ParsedData
from .base import AnalysisError, AnalysisResult
from .limits import grid_points
from .pl import HC_EV_NM, spectrum_arrays
from .plotting import new_figure
from .registry import AnalysisSpec, Param, Role, register_analysis

SMOOTHING_NM = 8.0  # Savitzky–Golay window for the Tauc slope
# Second derivatives amplify noise; a cubic over 15 nm still resolves QD excitons (FWHM ≳ 20 nm).
EXCITON_SMOOTHING_NM = 15.0
EXCITON_MIN_SNR = 5.0  # curvature peak and valley must stand this far above the filtered noise
EXCITON_MIN_RELATIVE_CURVATURE = 0.10
EXCITON_MIN_RELATIVE_ABSORBANCE = 0.10
EXCITON_VALLEY_SEARCH_NM = 60.0  # how far towards the blue the convex valley is looked for
EXCITON_MIN_VALLEY = 0.05  # its depth, relative to the exciton's curvature
TAUC_SLOPE_FRACTION = 0.70
TAUC_SLOPE_WINDOW_EV = 0.05  # derivative filter width on the energy axis
TAUC_EDGE_FRACTION = 0.60
TAUC_MAX_BASELINE_FRACTION = 0.5  # below-gap absorbance must be under half of the edge's top
TAUC_MIN_POINTS = 4


def _uniform(wavelength_nm: np.ndarray, absorbance: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Resample onto a uniform grid at the median spacing (derivative filters need one)."""
    step_nm = float(np.median(np.diff(wavelength_nm)))
    if step_nm <= 0:
        raise AnalysisError("wavelengths are not increasing")
    # The grid comes from the file's own step and range: bound it before allocating (a 4 kB file
    # with one 1e-9 nm step would otherwise ask for gigabytes).
    grid_points(float(wavelength_nm[0]), float(wavelength_nm[-1]), step_nm, what="absorbance wavelength grid")
    grid = np.arange(wavelength_nm[0], wavelength_nm[-1] + step_nm / 2, step_nm)
    return grid, np.interp(grid, wavelength_nm, absorbance), step_nm


def _window_points(step_nm: float, n: int, width_nm: float = SMOOTHING_NM) -> int:
    window = max(5, int(round(width_nm / step_nm)) | 1)
    return min(window, (n - 1) | 1 if (n - 1) % 2 else n - 2)


def optical_density(wavelength_nm: np.ndarray, absorbance: np.ndarray, at_nm: float, name: str) -> float:
    if not wavelength_nm[0] <= at_nm <= wavelength_nm[-1]:
        raise AnalysisError(f"{name}: optical density requested at {at_nm:g} nm, outside the recorded range "
                            f"{wavelength_nm[0]:g}–{wavelength_nm[-1]:g} nm")
    return float(np.interp(at_nm, wavelength_nm, absorbance))


def first_exciton(grid_nm: np.ndarray, absorbance: np.ndarray, step_nm: float) -> dict[str, Any] | None:
    """Position of the lowest-energy excitonic feature, or None when there is none (bulk film)."""
    window = _window_points(step_nm, len(grid_nm), EXCITON_SMOOTHING_NM)
    if window < 5:
        return None
    smoothed = savgol_filter(absorbance, window, 3)
    curvature = -savgol_filter(absorbance, window, 3, deriv=2, delta=step_nm)  # peaks = excitons
    # Noise of that curvature: point noise of A (MAD of differences) through the filter's weights.
    noise_a = 1.4826 * float(np.median(np.abs(np.diff(absorbance) - np.median(np.diff(absorbance))))) / np.sqrt(2)
    noise_curvature = noise_a * float(np.linalg.norm(savgol_coeffs(window, 3, deriv=2, delta=step_nm)))
    strongest = float(np.max(curvature))
    if strongest <= EXCITON_MIN_SNR * noise_curvature:
        return None
    candidates, _ = find_peaks(curvature, height=EXCITON_MIN_SNR * noise_curvature,
                               prominence=EXCITON_MIN_RELATIVE_CURVATURE * strongest)
    floor = float(np.min(smoothed)) + EXCITON_MIN_RELATIVE_ABSORBANCE * float(np.ptp(smoothed))
    candidates = [int(i) for i in candidates if smoothed[i] >= floor and window // 2 <= i < len(grid_nm) - window // 2]
    # An exciton (peak or shoulder) is followed towards shorter wavelengths by a convex valley
    # before the continuum rises again; a bare absorption onset (e.g. a square-root edge) is
    # concave on that side and is not an exciton.
    span = max(window, int(round(EXCITON_VALLEY_SEARCH_NM / step_nm)))
    candidates = [i for i in candidates
                  if -np.min(curvature[max(0, i - span):i]) > max(EXCITON_MIN_VALLEY * curvature[i],
                                                                   EXCITON_MIN_SNR * noise_curvature)]
    if not candidates:
        return None
    index = max(candidates, key=lambda i: grid_nm[i])  # longest wavelength = lowest energy
    method = "second derivative"
    # A true local maximum within a smoothing window of the curvature peak is what people quote.
    maxima, _ = find_peaks(smoothed)
    near = [int(m) for m in maxima if abs(int(m) - index) <= window]
    if near:
        index = min(near, key=lambda m: abs(m - index))
        method = "local maximum"
        if 0 < index < len(grid_nm) - 1:
            a, b, _ = np.polyfit(grid_nm[index - 1:index + 2] - grid_nm[index], smoothed[index - 1:index + 2], 2)
            offset = float(np.clip(-b / (2 * a), -step_nm, step_nm)) if a < 0 else 0.0
            return {"wavelength_nm": float(grid_nm[index] + offset), "method": method}
    return {"wavelength_nm": float(grid_nm[index]), "method": method}


def tauc_gap(grid_nm: np.ndarray, absorbance: np.ndarray, step_nm: float, r: float,
             below_ev: float | None, name: str) -> dict[str, Any]:
    """Tauc extrapolation on the steepest part of (A·hν)^(1/r) vs hν."""
    # Uniform energy grid (the recorded one is uniform in wavelength) for the derivative filter.
    n_points = len(grid_nm)
    energy_ev = np.linspace(HC_EV_NM / grid_nm[-1], HC_EV_NM / grid_nm[0], n_points)
    absorbance_e = np.interp(energy_ev, HC_EV_NM / grid_nm[::-1], absorbance[::-1])
    tauc = (np.clip(absorbance_e, 0, None) * energy_ev) ** (1 / r)
    step_ev = energy_ev[1] - energy_ev[0]
    window = _window_points(step_ev, n_points, TAUC_SLOPE_WINDOW_EV)
    # A quadratic derivative filter is a local regression slope: it does not overshoot at the
    # onset kink, so the linear part of the edge keeps the maximum slope.
    slope = savgol_filter(tauc, window, 2, deriv=1, delta=step_ev)
    level = savgol_filter(tauc, window, 2)
    search = np.ones(n_points, dtype=bool) if below_ev is None else energy_ev < below_ev
    if search.sum() < TAUC_MIN_POINTS:
        search[:] = True
    # The edge is the rise from the baseline, not the high-energy continuum where noise in
    # (A·hν)^(1/r) is largest: look below TAUC_EDGE_FRACTION of the curve's maximum.
    top = float(np.max(level[search]))
    edge = search & (level <= TAUC_EDGE_FRACTION * top)
    if edge.sum() >= TAUC_MIN_POINTS:
        search = edge
    steepest = int(np.argmax(np.where(search, slope, -np.inf)))
    if slope[steepest] <= 0:
        raise AnalysisError(f"{name}: the absorbance never rises with photon energy; no absorption edge for a Tauc fit")
    steep = search & (slope >= TAUC_SLOPE_FRACTION * slope[steepest])
    lo = hi = steepest
    while lo > 0 and steep[lo - 1]:
        lo -= 1
    while hi < n_points - 1 and steep[hi + 1]:
        hi += 1
    if hi - lo + 1 < TAUC_MIN_POINTS:
        lo, hi = max(0, steepest - 2), min(n_points - 1, steepest + 2)
    fit_e, fit_y = energy_ev[lo:hi + 1], tauc[lo:hi + 1]
    gradient, intercept = np.polyfit(fit_e, fit_y, 1)
    gap_ev = -intercept / gradient
    predicted = gradient * fit_e + intercept
    ss_res = float(np.sum((fit_y - predicted) ** 2))
    ss_tot = float(np.sum((fit_y - fit_y.mean()) ** 2)) or 1.0
    # An edge is absorbance rising from a low baseline inside the recorded range; a flat or
    # featureless spectrum also gives a rising (A·hν)^(1/r) through the hν factor alone.
    baseline_a = float(np.median(absorbance_e[:max(TAUC_MIN_POINTS, n_points // 20)]))
    top_a = float(absorbance_e[hi])
    if top_a <= 0 or baseline_a > TAUC_MAX_BASELINE_FRACTION * top_a:
        raise AnalysisError(f"{name}: no absorption edge (absorbance {baseline_a:.3g} at the low-energy end vs "
                            f"{top_a:.3g} at the top of the steepest rise)")
    if not energy_ev[0] <= gap_ev <= fit_e[-1]:
        raise AnalysisError(f"{name}: the Tauc line extrapolates to {gap_ev:.2f} eV, outside the spectrum "
                            f"({energy_ev[0]:.2f}–{energy_ev[-1]:.2f} eV); no clear absorption edge")
    return {"gap_ev": float(gap_ev), "fit_min_ev": float(fit_e[0]), "fit_max_ev": float(fit_e[-1]),
            "r_squared": 1 - ss_res / ss_tot, "slope": float(gradient), "intercept": float(intercept),
            "energy_ev": energy_ev, "tauc": tauc}


def analyse_spectrum(parsed: ParsedData, params: dict[str, Any]) -> tuple[AnalysisResult, dict[str, np.ndarray]]:
    name = parsed.source or parsed.metadata.get("sample") or "spectrum"
    wavelength_nm, absorbance = spectrum_arrays(parsed, "absorbance")
    result = AnalysisResult(method="absorbance.tauc", version="1.0")
    od_at_nm = params["od_wavelength_nm"]
    result.add("optical_density", optical_density(wavelength_nm, absorbance, od_at_nm, name), "",
               extra={"wavelength_nm": od_at_nm})
    grid_nm, uniform, step_nm = _uniform(wavelength_nm, absorbance)
    exciton = first_exciton(grid_nm, uniform, step_nm)
    below_ev = None
    if exciton is None:
        result.warnings.append(f"{name}: no excitonic peak or shoulder found (bulk-like edge?)")
    else:
        result.add("first_exciton_peak_wavelength", exciton["wavelength_nm"], "nm",
                   extra={"energy_ev": HC_EV_NM / exciton["wavelength_nm"], "method": exciton["method"]})
        below_ev = HC_EV_NM / exciton["wavelength_nm"]
    r = params["tauc_exponent_r"]
    curves = {"wavelength_nm": wavelength_nm, "absorbance": absorbance}
    try:
        tauc = tauc_gap(grid_nm, uniform, step_nm, r, below_ev, name)
    except AnalysisError as exc:
        # The optical density is still worth storing (QD concentration) without an edge.
        result.warnings.append(f"no optical gap: {exc}")
        return result, curves
    result.add("optical_gap", tauc["gap_ev"], "eV", extra={
        "tauc_exponent_r": r, "fit_range_ev": [tauc["fit_min_ev"], tauc["fit_max_ev"]],
        "r_squared": tauc["r_squared"]})
    curves.update({"tauc_energy_ev": tauc["energy_ev"], "tauc_y": tauc["tauc"],
                   "tauc_fit": np.array([tauc["slope"], tauc["intercept"], tauc["fit_min_ev"], tauc["fit_max_ev"]])})
    return result, curves


def analyse_absorbance(inputs: dict[str, list[ParsedData]], params: dict[str, Any]) -> AnalysisResult:
    """Metrics of each spectrum; the top-level metrics are the first file's (see pl.analyse_pl)."""
    if params["tauc_exponent_r"] not in (0.5, 1.5, 2.0, 3.0):
        raise AnalysisError(f"absorbance: tauc_exponent_r must be 0.5 (direct allowed), 1.5 (direct forbidden), "
                            f"2 (indirect allowed) or 3 (indirect forbidden), got {params['tauc_exponent_r']}")
    results = []
    for index, parsed in enumerate(inputs["files"]):
        single, curves = analyse_spectrum(parsed, params)
        results.append((parsed.source or f"spectrum {index + 1}", single, curves))
    combined = AnalysisResult(method="absorbance.tauc", version="1.0", metrics=dict(results[0][1].metrics))
    for index, (_, single, curves) in enumerate(results):
        combined.warnings.extend(single.warnings)
        for key, values in curves.items():
            combined.arrays[f"{key}_{index}"] = values
    if len(results) > 1:
        combined.per_file = [{"file": name, "metrics": single.metrics_json()} for name, single, _ in results]
    return combined


def plot_absorbance(result: AnalysisResult) -> dict[str, Any]:
    n_spectra = sum(1 for key in result.arrays if key.startswith("wavelength_nm_"))
    names = [row["file"] for row in result.per_file] or [None]
    spectrum_fig, tauc_fig = new_figure(), new_figure()
    ax, tx = spectrum_fig.add_subplot(), tauc_fig.add_subplot()
    for index in range(n_spectra):
        label = names[index] if index < len(names) else None
        ax.plot(result.arrays[f"wavelength_nm_{index}"], result.arrays[f"absorbance_{index}"], lw=1, label=label)
        if f"tauc_y_{index}" not in result.arrays:
            continue  # no absorption edge in this spectrum
        energy, tauc = result.arrays[f"tauc_energy_ev_{index}"], result.arrays[f"tauc_y_{index}"]
        line = tx.plot(energy, tauc, lw=1, label=label)[0]
        slope, intercept, _, fit_max = result.arrays[f"tauc_fit_{index}"]
        gap = -intercept / slope
        fit_e = np.array([gap, fit_max])
        tx.plot(fit_e, slope * fit_e + intercept, ls="--", color=line.get_color(), lw=1)
    od = result.metrics["optical_density"]
    ax.axvline(od.extra["wavelength_nm"], color="0.5", ls=":", lw=0.8)
    if "first_exciton_peak_wavelength" in result.metrics:
        ax.axvline(result.metrics["first_exciton_peak_wavelength"].value, color="tab:red", ls="--", lw=0.8)
    ax.set_xlabel("Wavelength (nm)")
    ax.set_ylabel("Absorbance (OD)")
    ax.set_title(f"OD {od.value:.3f} at {od.extra['wavelength_nm']:g} nm", fontsize=9)
    r = result.parameters.get("tauc_exponent_r", 0.5)
    tx.set_xlabel("Photon energy hν (eV)")
    tx.set_ylabel(f"(A·hν)^{1 / r:g}")
    tx.set_ylim(bottom=0)
    gap = result.metrics.get("optical_gap")
    tx.set_title(f"Tauc gap {gap.value:.3f} eV" if gap else "no absorption edge found", fontsize=9)
    if n_spectra > 1:
        ax.legend(fontsize=7)
        tx.legend(fontsize=7)
    return {"absorbance_spectrum": spectrum_fig, "tauc": tauc_fig}


register_analysis(AnalysisSpec(
    kind="absorbance",
    method="absorbance.tauc",
    version="1.0",
    func=analyse_absorbance,
    roles=(Role("files", ("absorbance",), many=True, help="UV-Vis absorbance spectra"),),
    params=(
        Param("od_wavelength_nm", float, default=500.0,
              help="wavelength (nm) of the reported optical density (QD concentration)"),
        Param("tauc_exponent_r", float, default=0.5,
              help="Tauc exponent r: 0.5 direct allowed, 2 indirect allowed, 1.5/3 forbidden"),
    ),
    plot=plot_absorbance,
    description="Optical density at a wavelength, first excitonic peak, Tauc optical gap",
))
