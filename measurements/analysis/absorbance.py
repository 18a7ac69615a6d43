"""UV-Vis-NIR absorbance: optical density, first excitonic peak and Tauc optical gap (kind ``absorbance``).

What the numbers rest on, checked before any is given:

- **Saturation.** Points the instrument marked saturated (Cary's 10, a transmittance ≤ 0) and
  points above ``photometric_limit_abs`` (default 3.0 A: a typical double-beam UV-Vis is no
  longer linear above it, stray light ≈ 0.1 %T; raise it for an instrument specified higher,
  e.g. a Lambda 1050) are not used as numbers; a warning names the range. Exciton and gap are
  searched over the longest unsaturated stretch.
- **Negative absorbance.** When more than half of the points lie below −3σ (point noise) the
  sample was brighter than the reference (swapped reference, a baseline taken with the sample):
  no number at all (AnalysisError, or the sample's ``error`` in a multi-sample file).
- **Detector/lamp change steps** (a jump over ≤ 3 points far above the point noise, inside the
  regions where spectrophotometers change detector, 780–910 nm, or lamp, 315–360 nm, as a JASCO
  V-570 writes near 900 nm) are levelled before the derivatives; a warning says where. The recorded values (the optical density) are not changed.

Metrics:

- ``optical_density``: absorbance at ``od_wavelength_nm`` (default 500 nm, the wavelength the
  paper uses for QD concentration), linearly interpolated between the recorded points. Outside
  the recorded range, or on a saturated point, it is left out with a warning that names
  ``od_wavelength_nm``; the other metrics are still computed.
- ``first_exciton_peak_wavelength``: the lowest-energy excitonic peak or shoulder over the whole
  range. Worked on a uniform photon-energy grid, so one smoothing width fits the visible and the
  NIR (exciton widths are similar in eV, not in nm): the curvature −d²A/dE² (cubic
  Savitzky–Golay over ``EXCITON_SMOOTHING_EV``) has a maximum at an exciton. Candidates: curvature
  maxima with a prominence of ≥ 10 % of the strongest and ≥ 5 σ of the filtered noise, where A is
  at least 10 % of its range above the minimum (not the transparent tail), and with a convex
  valley (negative curvature) within ``EXCITON_VALLEY_SEARCH_EV`` on the high-energy side, which
  a bare absorption onset lacks. The lowest-energy candidate is taken; when the smoothed
  absorbance has a local maximum within one smoothing window of it, that maximum is reported
  (``method`` "local maximum", what a person reads off the plot), else the curvature maximum
  ("second derivative", a shoulder). None found: no metric and a warning.
- ``optical_gap``: Tauc, J. Tauc, Mater. Res. Bull. 3, 37 (1968): (α·hν)^(1/r) = B·(hν − E_g),
  r = 1/2 for direct allowed transitions (default), 2 for indirect allowed, 3/2 and 3 for the
  forbidden ones. α ∝ A for a film of fixed thickness and the intercept does not depend on
  the scale, so A is used for α. The line is fitted where the Tauc curve is steepest (slope
  ≥ 70 % of its maximum, contiguous), below the exciton energy when an exciton was found.
  **The gap is reported only when the fit window lies on the absorption onset**: (1) it lies
  below the first exciton; (2) the absorbance below the window (the transparent side) is under
  half of the absorbance at the window's top, i.e. the window is the rise from the baseline;
  (3) the line reaches zero inside the recorded range and at most one window width (or 0.05 eV)
  below the window, and nothing on the transparent side absorbs more than the window's foot
  (no absorption band below the window: a window on a continuum above an exciton would
  extrapolate across it); (4) the line fits the window with R² ≥ 0.98. Otherwise the gap is left out and the warning says which test failed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.signal import find_peaks, savgol_coeffs, savgol_filter

from ..parsers import ParsedData
from .base import AnalysisError, AnalysisResult, analyse_samples, unit_warnings
from .limits import grid_points
from .pl import HC_EV_NM
from .registry import AnalysisSpec, Param, Role, register_analysis

METHOD, VERSION = "absorbance.tauc", "2.0"
PHOTOMETRIC_LIMIT_ABS = 3.0
NEGATIVE_SHARE_MAX = 0.5  # more of the range than this below −3σ: sample brighter than reference
SMOOTHING_NM = 8.0  # Savitzky–Golay window for the Tauc slope (legacy nm grid helper)
EXCITON_SMOOTHING_EV = 0.06  # cubic SG window on the energy grid; QD excitons are ≳ 0.08 eV wide
EXCITON_MIN_SNR = 5.0  # curvature peak and valley must stand this far above the filtered noise
EXCITON_MIN_RELATIVE_CURVATURE = 0.10
EXCITON_MIN_RELATIVE_ABSORBANCE = 0.10
EXCITON_VALLEY_SEARCH_EV = 0.25  # how far towards higher energy the convex valley is looked for
EXCITON_MIN_VALLEY = 0.05  # its depth, relative to the exciton's curvature
EXCITON_VALLEY_MIN_SNR = 3.0  # and against the noise (a confirmation of a ≥ 5σ peak, so 3σ)
STEP_MIN_SIGMA = 12.0  # a detector-change step: a jump this many point-noise σ above the local slope
STEP_MAX_POINTS = 3
# Where spectrophotometers change detector (PMT → InGaAs/PbS: Lambda 860.8 nm, JASCO 850–900 nm,
# Cary 5000 800 nm) or lamp (deuterium → tungsten, 320–350 nm). A steep real edge elsewhere (a
# filter, a band edge) is never "levelled".
DETECTOR_CHANGE_NM = ((780.0, 910.0), (315.0, 360.0))
TAUC_SLOPE_FRACTION = 0.70
TAUC_SLOPE_WINDOW_EV = 0.05  # derivative filter width on the energy axis
TAUC_EDGE_FRACTION = 0.60
TAUC_MAX_BASELINE_FRACTION = 0.5  # below-gap absorbance must be under half of the edge's top
TAUC_MIN_R_SQUARED = 0.98
TAUC_MAX_EXTRAPOLATION_EV = 0.05  # the zero crossing may lie this far (or one window width) below the window
TAUC_MAX_DROP_FRACTION = 0.05  # a dip below the window deeper than this (of its top) is a band
TAUC_MIN_POINTS = 4
# Vacuum UV to mid-IR: wider than any UV-Vis-NIR absorbance spectrometer (175–3300 nm typical).
UVVIS_RANGE_NM = (100.0, 5000.0)


def _uniform(wavelength_nm: np.ndarray, absorbance: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Resample onto a uniform wavelength grid at the median spacing (derivative filters need one)."""
    step_nm = float(np.median(np.diff(wavelength_nm)))
    if step_nm <= 0:
        raise AnalysisError("wavelengths are not increasing")
    # The grid comes from the file's own step and range: bound it before allocating (a 4 kB file
    # with one 1e-9 nm step would otherwise ask for gigabytes).
    grid_points(float(wavelength_nm[0]), float(wavelength_nm[-1]), step_nm, what="absorbance wavelength grid")
    grid = np.arange(wavelength_nm[0], wavelength_nm[-1] + step_nm / 2, step_nm)
    return grid, np.interp(grid, wavelength_nm, absorbance), step_nm


def _window_points(step: float, n: int, width: float = SMOOTHING_NM) -> int:
    window = max(5, int(round(width / step)) | 1)
    return min(window, (n - 1) | 1 if (n - 1) % 2 else n - 2)


def point_noise(values: np.ndarray) -> float:
    """Robust σ of one point: MAD of successive differences / √2 (insensitive to slopes and peaks)."""
    d = np.diff(values)
    if d.size < 3:
        return 0.0
    return 1.4826 * float(np.median(np.abs(d - np.median(d)))) / np.sqrt(2)


def optical_density(wavelength_nm: np.ndarray, absorbance: np.ndarray, at_nm: float, name: str) -> float:
    if not wavelength_nm[0] <= at_nm <= wavelength_nm[-1]:
        raise AnalysisError(f"{name}: optical density requested at {at_nm:g} nm, outside the recorded range "
                            f"{wavelength_nm[0]:g}–{wavelength_nm[-1]:g} nm")
    return float(np.interp(at_nm, wavelength_nm, absorbance))


def level_steps(wavelength_nm: np.ndarray, absorbance: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Remove detector/grating-change steps: jumps over ≤ STEP_MAX_POINTS points that stand
    STEP_MIN_SIGMA point-noise σ above the local slope (median of the neighbouring differences).
    Returns the levelled curve and the wavelengths of the steps."""
    d = np.diff(absorbance)
    if d.size < 25:
        return absorbance, []
    sigma = point_noise(absorbance) * np.sqrt(2)
    if sigma <= 0:
        return absorbance, []
    pad = 10
    padded = np.pad(d, pad, mode="edge")
    local = np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * pad + 1), axis=1)
    excess = d - local
    outlier = np.abs(excess) > STEP_MIN_SIGMA * sigma
    if not outlier.any():
        return absorbance, []
    # runs of outlying differences; a long run is a real steep feature, not a step
    steps, corrected = [], d.copy()
    i = 0
    while i < d.size:
        if not outlier[i]:
            i += 1
            continue
        j = i
        while j + 1 < d.size and outlier[j + 1]:
            j += 1
        same_sign = np.all(np.sign(excess[i:j + 1]) == np.sign(excess[i]))
        where = float(wavelength_nm[i])
        in_change_region = any(lo <= where <= hi for lo, hi in DETECTOR_CHANGE_NM)
        if j - i + 1 <= STEP_MAX_POINTS and same_sign and in_change_region:
            corrected[i:j + 1] = local[i:j + 1]
            steps.append(float(wavelength_nm[i]))
        i = j + 1
    if not steps or len(steps) > 3:
        return absorbance, []  # many "steps" are noise spikes, not a detector change
    return np.concatenate([[absorbance[0]], absorbance[0] + np.cumsum(corrected)]), steps


def _energy_grid(wavelength_nm: np.ndarray, absorbance: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """A(E) on a uniform photon-energy grid with as many points as recorded (increasing E)."""
    energy = HC_EV_NM / wavelength_nm[::-1]
    values = absorbance[::-1]
    n = len(energy)
    grid = np.linspace(energy[0], energy[-1], n)
    return grid, np.interp(grid, energy, values), float(grid[1] - grid[0])


def first_exciton(wavelength_nm: np.ndarray, absorbance: np.ndarray, step_nm: float | None = None) -> dict[str, Any] | None:
    """Position of the lowest-energy excitonic feature, or None when there is none (bulk film).
    ``wavelength_nm`` increasing; see the module docstring for the criteria."""
    energy, a_e, step_ev = _energy_grid(np.asarray(wavelength_nm, float), np.asarray(absorbance, float))
    n = len(energy)
    window = _window_points(step_ev, n, EXCITON_SMOOTHING_EV)
    if window < 5 or n < 2 * window:
        return None
    smoothed = savgol_filter(a_e, window, 3)
    curvature = -savgol_filter(a_e, window, 3, deriv=2, delta=step_ev)  # peaks = excitons
    noise_curvature = point_noise(a_e) * float(np.linalg.norm(savgol_coeffs(window, 3, deriv=2, delta=step_ev)))
    strongest = float(np.max(curvature))
    if strongest <= EXCITON_MIN_SNR * noise_curvature:
        return None
    candidates, _ = find_peaks(curvature, height=EXCITON_MIN_SNR * noise_curvature,
                               prominence=EXCITON_MIN_RELATIVE_CURVATURE * strongest)
    floor = float(np.min(smoothed)) + EXCITON_MIN_RELATIVE_ABSORBANCE * float(np.ptp(smoothed))
    half = window // 2
    candidates = [int(i) for i in candidates if smoothed[i] >= floor and half <= i < n - half]
    # An exciton (peak or shoulder) is followed towards higher energy by a convex valley before
    # the continuum rises again; a bare absorption onset is concave on that side.
    span = max(window, int(round(EXCITON_VALLEY_SEARCH_EV / step_ev)))
    candidates = [i for i in candidates
                  if -np.min(curvature[i + 1:min(n, i + span)], initial=0.0) > max(
                      EXCITON_MIN_VALLEY * curvature[i], EXCITON_VALLEY_MIN_SNR * noise_curvature)]
    if not candidates:
        return None
    index = min(candidates, key=lambda i: energy[i])  # lowest energy
    method = "second derivative"
    maxima, _ = find_peaks(smoothed)
    near = [int(m) for m in maxima if abs(int(m) - index) <= window]
    if near:
        index = min(near, key=lambda m: abs(m - index))
        method = "local maximum"
        if 0 < index < n - 1:
            a, b, _ = np.polyfit(energy[index - 1:index + 2] - energy[index], smoothed[index - 1:index + 2], 2)
            offset = float(np.clip(-b / (2 * a), -step_ev, step_ev)) if a < 0 else 0.0
            e_peak = float(energy[index] + offset)
            return {"wavelength_nm": HC_EV_NM / e_peak, "energy_ev": e_peak, "method": method}
    return {"wavelength_nm": HC_EV_NM / float(energy[index]), "energy_ev": float(energy[index]), "method": method}


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
    # On the onset: the line reaches zero just below its window (not a far extrapolation), and
    # nothing absorbs more on the transparent side than at the window's foot (no band below it:
    # a window on a continuum above an exciton would extrapolate across that exciton).
    width = float(fit_e[-1] - fit_e[0])
    if fit_e[0] - gap_ev > max(width, TAUC_MAX_EXTRAPOLATION_EV):
        raise AnalysisError(f"{name}: the Tauc line over {fit_e[0]:.2f}–{fit_e[-1]:.2f} eV extrapolates to "
                            f"{gap_ev:.2f} eV, {fit_e[0] - gap_ev:.2f} eV below its window: not the absorption onset")
    below = level[:lo + 1] if lo > 0 else level[:1]
    drop = float(np.max(np.maximum.accumulate(below) - below))
    noise_level = point_noise(tauc)
    if drop > max(5 * noise_level, TAUC_MAX_DROP_FRACTION * float(level[hi])):
        peak_e = float(energy_ev[int(np.argmax(below))])
        raise AnalysisError(f"{name}: an absorption band near {peak_e:.2f} eV lies below the Tauc window "
                            f"{fit_e[0]:.2f}–{fit_e[-1]:.2f} eV: the window is not on the absorption onset")
    r_squared = 1 - ss_res / ss_tot
    if r_squared < TAUC_MIN_R_SQUARED:
        raise AnalysisError(f"{name}: the Tauc plot is not straight over its steepest part "
                            f"(R² {r_squared:.3f} < {TAUC_MIN_R_SQUARED}); no clean absorption onset")
    return {"gap_ev": float(gap_ev), "fit_min_ev": float(fit_e[0]), "fit_max_ev": float(fit_e[-1]),
            "r_squared": r_squared, "slope": float(gradient), "intercept": float(intercept),
            "energy_ev": energy_ev, "tauc": tauc}


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of the runs of True."""
    edges = np.diff(np.r_[0, mask.astype(int), 0])
    return list(zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0], strict=True))


def _ranges_nm(wavelength_nm: np.ndarray, mask: np.ndarray) -> str:
    parts = [f"{wavelength_nm[a]:.0f}" + (f"–{wavelength_nm[b - 1]:.0f}" if b - a > 1 else "")
             for a, b in _runs(mask)]
    return ", ".join(parts[:6]) + (" …" if len(parts) > 6 else "") + " nm"


def analyse_spectrum(parsed: ParsedData, params: dict[str, Any]) -> tuple[AnalysisResult, dict[str, np.ndarray]]:
    """Metrics of one absorbance curve (one sample)."""
    name = parsed.label
    frame = parsed.data
    if "wavelength_nm" not in frame or "absorbance" not in frame:
        raise AnalysisError(f"{name}: expected columns wavelength_nm and absorbance, got {', '.join(frame.columns)}")
    frame = frame[np.isfinite(frame["wavelength_nm"].to_numpy(float))].sort_values("wavelength_nm")
    wavelength_nm = frame["wavelength_nm"].to_numpy(float)
    absorbance = frame["absorbance"].to_numpy(float)
    if len(wavelength_nm) and (wavelength_nm[0] < UVVIS_RANGE_NM[0] or wavelength_nm[-1] > UVVIS_RANGE_NM[1]):
        # Energies (hc/λ) and the derivative filters on them are meaningless outside any UV-Vis-NIR
        # spectrometer's range: a wrong x unit or a damaged axis, not a spectrum to analyse.
        raise AnalysisError(f"{name}: the wavelength axis runs {wavelength_nm[0]:.4g}–{wavelength_nm[-1]:.4g} nm, outside "
                            f"the {UVVIS_RANGE_NM[0]:g}–{UVVIS_RANGE_NM[1]:g} nm a UV-Vis-NIR spectrometer records; "
                            "check the x unit (or give a column map)")
    saturated = frame["saturated"].to_numpy(bool) if "saturated" in frame else np.zeros(len(frame), bool)
    limit = params.get("photometric_limit_abs") or PHOTOMETRIC_LIMIT_ABS
    result = AnalysisResult(method=METHOD, version=VERSION)
    result.warnings.extend(unit_warnings(parsed, ("x", "y")))
    above = np.isfinite(absorbance) & (absorbance > limit)
    bad = saturated | above | ~np.isfinite(absorbance)
    good = ~bad
    if good.sum() < 10:
        raise AnalysisError(f"{name}: only {int(good.sum())} of {len(absorbance)} points are below the photometric "
                            f"limit ({limit:g} A) and not saturated: no number can be given")
    if bad.any():
        result.warnings.append(
            f"{name}: {int(bad.sum())} points saturated (instrument overload) or above the photometric limit "
            f"{limit:g} A at {_ranges_nm(wavelength_nm, bad)}: not used as numbers (photometric_limit_abs sets the limit)")
    a_good = absorbance[good]
    noise = point_noise(a_good)
    negative = a_good < -max(3 * noise, 1e-3)
    if negative.mean() > NEGATIVE_SHARE_MAX:
        raise AnalysisError(f"{name}: the absorbance is negative over {100 * negative.mean():.0f} % of the range "
                            f"(median {np.median(a_good):.3g} A): the sample transmitted more than the reference. "
                            "Was the reference (blank) measured with the sample, or swapped? No number is given")
    result.parameters["photometric_limit_abs"] = limit

    od_at_nm = params["od_wavelength_nm"]
    if not wavelength_nm[0] <= od_at_nm <= wavelength_nm[-1]:
        result.warnings.append(f"{name}: no optical density: od_wavelength_nm = {od_at_nm:g} nm is outside the "
                               f"recorded range {wavelength_nm[0]:.0f}–{wavelength_nm[-1]:.0f} nm; set od_wavelength_nm "
                               "to a wavelength inside it")
    else:
        i = int(np.searchsorted(wavelength_nm, od_at_nm))
        neighbours = bad[max(0, i - 1):i + 1] if wavelength_nm[min(i, len(bad) - 1)] != od_at_nm else bad[i:i + 1]
        if neighbours.any():
            result.warnings.append(f"{name}: no optical density at {od_at_nm:g} nm: the absorbance there is saturated "
                                   f"or above the photometric limit ({limit:g} A); dilute the sample or set "
                                   "od_wavelength_nm to a wavelength where it absorbs less")
        else:
            result.add("optical_density", float(np.interp(od_at_nm, wavelength_nm[good], a_good)), "",
                       extra={"wavelength_nm": od_at_nm})

    # Derivatives need a continuous stretch: the longest unsaturated run.
    a, b = max(_runs(good), key=lambda r: r[1] - r[0])
    if b - a < len(absorbance) and bad.any():
        result.warnings.append(f"{name}: exciton and gap searched over {wavelength_nm[a]:.0f}–{wavelength_nm[b - 1]:.0f} nm "
                               "only (the longest stretch without saturated points)")
    wl_seg, a_seg = wavelength_nm[a:b], absorbance[a:b]
    levelled, steps = level_steps(wl_seg, a_seg)
    if steps:
        result.warnings.append(f"{name}: a step in the absorbance at {', '.join(f'{w:.0f}' for w in steps)} nm "
                               "(detector or grating change) was levelled before the exciton and gap search")
    exciton = first_exciton(wl_seg, levelled) if len(wl_seg) >= 10 else None
    below_ev = None
    if exciton is None:
        result.warnings.append(f"{name}: no excitonic peak or shoulder found (bulk-like edge?)")
    else:
        result.add("first_exciton_peak_wavelength", exciton["wavelength_nm"], "nm",
                   extra={"energy_ev": exciton["energy_ev"], "method": exciton["method"]})
        below_ev = exciton["energy_ev"]
    r = params["tauc_exponent_r"]
    curves = {"wavelength_nm": wavelength_nm, "absorbance": absorbance}
    try:
        grid_nm, uniform, step_nm = _uniform(wl_seg, levelled)
        tauc = tauc_gap(grid_nm, uniform, step_nm, r, below_ev, name)
    except AnalysisError as exc:
        # The optical density and exciton are still worth storing without an edge.
        result.warnings.append(f"no optical gap: {exc}")
        return result, curves
    result.add("optical_gap", tauc["gap_ev"], "eV", extra={
        "tauc_exponent_r": r, "fit_range_ev": [tauc["fit_min_ev"], tauc["fit_max_ev"]],
        "r_squared": tauc["r_squared"]})
    curves.update({"tauc_energy_ev": tauc["energy_ev"], "tauc_y": tauc["tauc"],
                   "tauc_fit": np.array([tauc["slope"], tauc["intercept"], tauc["fit_min_ev"], tauc["fit_max_ev"]])})
    return result, curves


def _one_curve(parsed: ParsedData, params: dict[str, Any]) -> AnalysisResult:
    single, curves = analyse_spectrum(parsed, params)
    for key, values in curves.items():
        single.arrays[f"{key}_0"] = values
    single.parameters = {**params, **single.parameters}
    return single


def analyse_absorbance(inputs: dict[str, list[ParsedData]], params: dict[str, Any]) -> AnalysisResult:
    """Metrics of each spectrum; the top-level metrics are the first file's (see pl.analyse_pl).
    A file with several samples gives one result per sample in ``samples`` (analysis/base.py)."""
    if params["tauc_exponent_r"] not in (0.5, 1.5, 2.0, 3.0):
        raise AnalysisError(f"absorbance: tauc_exponent_r must be 0.5 (direct allowed), 1.5 (direct forbidden), "
                            f"2 (indirect allowed) or 3 (indirect forbidden), got {params['tauc_exponent_r']}")
    files = inputs["files"]
    if any(p.samples for p in files):
        combined = AnalysisResult(method=METHOD, version=VERSION)
        for parsed in files:
            if parsed.samples:
                part = analyse_samples(parsed, lambda s: _one_curve(s, params), method=METHOD, version=VERSION)
                combined.samples.extend(part.samples)
                combined.warnings.extend(part.warnings)
            else:
                one = _one_curve(parsed, params)
                one.sample, one.source = parsed.metadata.get("sample") or parsed.source, parsed.source
                combined.samples.append(one)
        return combined
    results = []
    for index, parsed in enumerate(files):
        single, curves = analyse_spectrum(parsed, params)
        results.append((parsed.source or f"spectrum {index + 1}", single, curves))
    combined = AnalysisResult(method=METHOD, version=VERSION, metrics=dict(results[0][1].metrics))
    for index, (_, single, curves) in enumerate(results):
        combined.warnings.extend(single.warnings)
        for key, values in curves.items():
            combined.arrays[f"{key}_{index}"] = values
    combined.parameters = dict(results[0][1].parameters)
    if len(results) > 1:
        combined.per_file = [{"file": name, "metrics": single.metrics_json()} for name, single, _ in results]
    return combined


register_analysis(AnalysisSpec(
    kind="absorbance",
    method=METHOD,
    version=VERSION,
    func=analyse_absorbance,
    roles=(Role("files", ("absorbance",), many=True, help="UV-Vis absorbance spectra"),),
    params=(
        Param("od_wavelength_nm", float, default=500.0,
              help="wavelength (nm) of the reported optical density (QD concentration)"),
        Param("tauc_exponent_r", float, default=0.5,
              help="Tauc exponent r: 0.5 direct allowed, 2 indirect allowed, 1.5/3 forbidden"),
        Param("photometric_limit_abs", float, default=PHOTOMETRIC_LIMIT_ABS,
              help="absorbance above this is beyond the spectrophotometer's linear range and not used"),
    ),
    description="Optical density at a wavelength, first excitonic peak, Tauc optical gap",
))
