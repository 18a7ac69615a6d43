"""XRD: peak list, lattice constants or layer spacing, Scherrer size (kind ``xrd``, method ``xrd.peaks``).

Steps
1. Wavelength λ (Å): the ``wavelength_a`` parameter, else the file's stated value; neither →
   AnalysisError asking for it (no default anode is assumed).
2. Bounds: at least 20 and at most ``MAX_POINTS`` points, a positive step no finer than
   ``MIN_STEP_DEG``; every window below is a number of points derived from the data's own step
   and clipped to the pattern (a tiny step must never become a huge array).
3. Kα2: when the file says the beam is Kα1+Kα2 (xrdml ``K-Alpha``, Rigaku wave type ``Ka``, a
   Bruker tube with a Kα2/Kα1 ratio > 0), Kα2 is stripped (Rachinger, J. Sci. Instrum. 25 (1948)
   254) with the file's λ₂ and ratio. Whatever remains, and every resolved doublet of a tube the
   file does not describe, is paired: a peak at a stronger one's Kα2 angle with 0.2–0.8 of its
   height, or at its Kβ angle with ≤ 0.3, is that reflection's satellite line, not a reflection.
4. Background: iterative clipping of a wide running median (the SNIP idea, Ryan et al. NIM B 34
   (1988) 396, simplified); peaks: local maxima above 5σ of Poisson noise (σ = √counts).
5. Each peak is fitted with a pseudo-Voigt on a linear background: 2θ, FWHM (°), height;
   d = λ / (2 sin θ) (Bragg).
6. Indexing (``xrd_indexing``), fewest parameters first: cubic, a one-direction series, then
   tetragonal, then orthorhombic. A cell is reported only when every line indexes within 0.05°
   2θ, no reflection is used twice, de Wolff M(N) ≥ 10 (20 for orthorhombic) and a cell with free
   axes shows ≥ 40 % of its reflections: ``lattice_constant`` (a; ``lattice_constant_c``/``_b``).
   A (0k0) series of a quasi-2D film (1/d = k/d₀, d₀ ≥ 10 Å, ≥ 3 orders from the first or second)
   gives ``layer_spacing``. Otherwise no cell metric: the peak list and d-spacings with a warning.
7. Scherrer size of the first peak: D = K·λ / (β·cos θ) (Langford & Wilson, J. Appl. Cryst. 11
   (1978) 102), β² = FWHM² − FWHM_inst² (Gaussian). No size when the peak is not wider than the
   instrument or spans fewer than three steps; a size with no instrument broadening given is
   flagged (it is a lower bound) and one above 100 nm is flagged (beyond Scherrer's range).

Metrics: ``d_spacing`` (Å, first peak; the full peak list in its extra), ``lattice_constant``
(Å; hkl, misfit, M(N) in extra), ``lattice_constant_b``/``lattice_constant_c`` (Å),
``layer_spacing`` (Å), ``crystallite_size`` (nm).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d
from scipy.optimize import curve_fit
from scipy.signal import find_peaks, peak_widths

from ..parsers.xrd_formats import radiation_metadata
from .base import AnalysisError, AnalysisResult
from .fitting import lmder
from .registry import AnalysisSpec, Param, Role, register_analysis
from .xrd_indexing import MIN_LINES, TWO_THETA_TOL_DEG, best_cubic_misfit, index_lines, layer_series

METHOD, VERSION = "xrd.peaks", "2.0"
# A pattern is a 1D scan: 200 000 points is 0.0005° steps over 100°, far beyond any lab or
# synchrotron powder scan. Finer than 1e-4° is a corrupt axis (or a unit mistake), not a scan.
MAX_POINTS = 200_000
MIN_STEP_DEG = 1e-4
MAX_PEAKS = 20
SCHERRER_MAX_NM = 100.0  # beyond ~100 nm the broadening is too small to separate from the instrument's
KALPHA2_MODES = ("auto", "strip", "keep")


def _pv_terms(x, center, fwhm, eta):
    """The pieces the model and its Jacobian share: x − centre, (x − centre)/FWHM, the unit-height
    Gaussian and Lorentzian, and the pseudo-Voigt shape η·L + (1 − η)·G."""
    d = x - center
    r = d / fwhm
    g = np.exp(-4 * np.log(2) * r**2)
    lor = 1.0 / (1.0 + 4 * r**2)
    return d, r, g, lor, eta * lor + (1 - eta) * g


def _pseudo_voigt(x, height, center, fwhm, eta, c0, c1):
    d, _, _, _, shape = _pv_terms(x, center, fwhm, eta)
    return height * shape + c0 + c1 * d


def _pv_jacobian_rows(terms, height, fwhm, eta, c1) -> list[np.ndarray]:
    """∂ model / ∂ (height, center, fwhm, eta, c0, c1), one row per parameter, analytically."""
    d, r, g, lor, shape = terms
    d_r = height * (eta * (-8 * r * lor**2) + (1 - eta) * (-8 * np.log(2) * r * g))
    return [shape, -d_r / fwhm - c1, -d_r * r / fwhm, height * (lor - g), np.ones_like(d), d]


def _pseudo_voigt_jacobian(x, height, center, fwhm, eta, c0, c1) -> np.ndarray:
    """∂ model / ∂ (height, center, fwhm, eta, c0, c1), analytically: one column per parameter."""
    return np.column_stack(_pv_jacobian_rows(_pv_terms(x, center, fwhm, eta), height, fwhm, eta, c1))


# MINPACK's ftol/xtol/gtol for the peak fits: far tighter than curve_fit's 1e-8, so its minimum is
# met to curve_fit's own precision. η is a flat direction: against a fit run until the cost changes
# only by rounding, η moved by up to 4e-6 at 1e-12 on the test patterns, 2e-7 at 1e-14, 1e-7 at
# 1e-15. max_nfev: the evaluation budget before curve_fit takes over.
_LM_TOL, _LM_MAX_NFEV = 1e-14, 2000


def _lm_pseudo_voigt(xs, ys, w, q, free) -> np.ndarray | None:
    """MINPACK's Levenberg–Marquardt (lmder) on the weighted residuals and their exact Jacobian,
    over the parameters ``free`` (a boolean mask; the others stay as given): the minimum, or None
    when it is not reached (``fitting.lmder``: the call ``least_squares(method="lm")`` makes)."""
    q = np.array(q, dtype=float)
    rows = np.flatnonzero(free)
    seen: dict[bytes, tuple] = {}  # the last point's model pieces: MINPACK asks f, then J, at one point

    def at(p):
        key = p.tobytes()
        if key not in seen:
            q_ = q.copy()
            q_[free] = p
            seen.clear()
            seen[key] = (q_, _pv_terms(xs, q_[1], q_[2], q_[3]))
        return seen[key]

    def residual(p):
        q_, terms = at(p)
        return (q_[0] * terms[4] + q_[4] + q_[5] * terms[0] - ys) * w

    def jacobian_rows(p):  # row per free parameter: what MINPACK stores, no transpose
        q_, terms = at(p)
        every = _pv_jacobian_rows(terms, q_[0], q_[2], q_[3], q_[5])
        return np.array([every[k] * w for k in rows])

    p = lmder(residual, jacobian_rows, q[free], tol=_LM_TOL, max_nfev=_LM_MAX_NFEV)
    if p is None:
        return None
    return at(p)[0].copy()


_ETA = 3  # index of the Lorentzian fraction η ∈ [0, 1] in the pseudo-Voigt parameters


def _fit_pseudo_voigt(xs, ys, sigma, p0, lo, hi) -> tuple[np.ndarray, np.ndarray] | None:
    """Weighted least squares of the pseudo-Voigt by MINPACK's Levenberg–Marquardt (through
    ``leastsq``) on the exact Jacobian: (popt, pcov as curve_fit gives it), or
    None when the optimum is not found inside the bounds (the caller then runs curve_fit with the
    bounds, as before).

    curve_fit with bounds runs the trust-region reflective solver with a finite-difference
    Jacobian (≈ 90 model calls a peak); unbounded LM with the analytic Jacobian lands on the same
    minimum, closer than curve_fit's own 1e-8 tolerances. A minimum beyond η's bounds (a purely
    Gaussian or Lorentzian peak) is the minimum with η on that bound if there the cost still
    falls outwards (the Kuhn–Tucker condition); any other bound reached goes to curve_fit."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    w = 1.0 / sigma
    everything = np.ones(6, dtype=bool)
    q = _lm_pseudo_voigt(xs, ys, w, np.array(p0, dtype=float), everything)
    if q is None:
        return None
    inside = (q > lo) & (q < hi)
    if not inside.all():
        if not inside[np.arange(6) != _ETA].all():
            return None
        q[_ETA] = lo[_ETA] if q[_ETA] <= lo[_ETA] else hi[_ETA]
        free = everything.copy()
        free[_ETA] = False
        q = _lm_pseudo_voigt(xs, ys, w, q, free)
        if q is None or not np.all(((q > lo) & (q < hi))[free]):
            return None
        r = (_pseudo_voigt(xs, *q) - ys) * w
        slope = float((_pseudo_voigt_jacobian(xs, *q)[:, _ETA] * w) @ r)  # ½ ∂cost/∂η
        if not (slope > 0 if q[_ETA] == lo[_ETA] else slope < 0):
            return None  # the cost falls inwards: not the constrained minimum
    # Covariance as curve_fit computes it (pseudo-inverse of JᵀJ from the SVD, scaled by χ²/dof).
    r = (_pseudo_voigt(xs, *q) - ys) * w
    jac = _pseudo_voigt_jacobian(xs, *q) * w[:, None]
    _, sv, vt = np.linalg.svd(jac, full_matrices=False)
    keep = sv > np.finfo(float).eps * max(jac.shape) * sv[0]
    sv, vt = sv[keep], vt[:keep.sum()]
    pcov = (vt.T / sv**2) @ vt * (float(r @ r) / (xs.size - q.size))
    return q, pcov


def check_grid(x: np.ndarray) -> float:
    """The pattern's step (°), after refusing grids no honest analysis can run on."""
    if x.size < 20:
        raise AnalysisError(f"only {x.size} points: too few for a diffraction pattern (at least 20)")
    if x.size > MAX_POINTS:
        raise AnalysisError(f"{x.size} points in one scan: more than the {MAX_POINTS} a powder pattern can have "
                            "— is this several scans or a 2D frame?")
    steps = np.diff(x)
    step = float(np.median(steps))
    if not np.all(steps > 0):
        raise AnalysisError("2θ does not increase point to point: not a single scan")
    if step < MIN_STEP_DEG:
        raise AnalysisError(f"the 2θ step is {step:.2g}°: finer than {MIN_STEP_DEG}° is not a diffractometer scan "
                            "(check the axis column and its unit)")
    if x[0] <= 0 or x[-1] >= 180:
        raise AnalysisError(f"2θ runs {x[0]:.4g}–{x[-1]:.4g}°: a diffraction angle lies strictly between 0 and 180°")
    return step


def _window(step: float, width_deg: float, n: int) -> int:
    """An odd number of points spanning ``width_deg``, never more than the pattern has."""
    w = int(round(width_deg / step)) | 1
    return max(5, min(w, (n // 2) * 2 - 1))


def _background(x: np.ndarray, y: np.ndarray, step: float) -> np.ndarray:
    # Running median over ~2° then clip peaks iteratively: a smooth floor under the pattern.
    width = _window(step, 2.0, x.size)
    bg = median_filter(y, size=width, mode="nearest")
    for _ in range(5):
        bg = uniform_filter1d(np.minimum(y, bg), size=width, mode="nearest")
    return bg


def strip_kalpha2(x: np.ndarray, y: np.ndarray, *, lambda1_a: float, lambda2_a: float, ratio: float) -> np.ndarray:
    """Rachinger: I(2θ) = I₁(2θ) + R·I₁(2θ₁), 2θ₁ the Kα1 angle of the d whose Kα2 falls at 2θ
    (sin θ₁ = sin θ · λ₁/λ₂). Solved point by point upwards; I₁ between grid points is linear."""
    x1 = 2 * np.degrees(np.arcsin(np.sin(np.radians(x / 2)) * lambda1_a / lambda2_a))
    j = np.searchsorted(x, x1)  # first grid point ≥ x1 (x1 < x, so j ≤ i)
    out = np.zeros(x.size)
    xs, ys, js, x1s = x.tolist(), y.tolist(), j.tolist(), x1.tolist()
    for i in range(x.size):
        ji = js[i]
        if ji == 0:
            out[i] = ys[i]  # the Kα1 partner is below the scan: nothing to remove
            continue
        w = (xs[ji] - x1s[i]) / (xs[ji] - xs[ji - 1])  # weight of point ji-1
        if ji < i:
            out[i] = ys[i] - ratio * (w * out[ji - 1] + (1 - w) * out[ji])
        else:  # partner between i-1 and i: I₁ᵢ appears on both sides
            out[i] = (ys[i] - ratio * w * out[i - 1]) / (1 + ratio * (1 - w))
    return out


def find_and_fit_peaks(x: np.ndarray, y: np.ndarray, *, step: float, max_peaks: int = MAX_PEAKS,
                       counts: np.ndarray | None = None) -> list[dict]:
    """``counts``: the measured counts when ``y`` is derived from them (Kα2 stripped): the noise at
    a point is Poisson in what was counted there, not in the background left after stripping."""
    bg = _background(x, y, step)
    net = y - bg
    smooth = uniform_filter1d(net, size=3)
    noise = np.sqrt(np.maximum(np.maximum(bg, counts if counts is not None else bg), 1.0))
    idx, _ = find_peaks(smooth, height=5 * noise, prominence=5 * np.median(np.sqrt(np.maximum(bg, 1.0))))
    if idx.size == 0:
        return []
    idx = idx[np.argsort(smooth[idx])[::-1][:max_peaks]]
    idx.sort()
    widths = peak_widths(smooth, idx, rel_height=0.5)[0] * step
    peaks = []
    for i, w in zip(idx, widths, strict=True):
        w = max(w, 2 * step)
        sel = (x > x[i] - 3 * w) & (x < x[i] + 3 * w)
        xs, ys = x[sel], y[sel]
        if xs.size < 7:
            peaks.append({"two_theta_deg": float(x[i]), "fwhm_deg": float(w), "intensity": float(net[i]),
                          "fitted": False})
            continue
        p0 = [net[i], x[i], w, 0.5, float(bg[i]), 0.0]
        lo = [0, x[i] - w, step * 0.5, 0, -np.inf, -np.inf]
        hi = [np.inf, x[i] + w, 10 * w, 1, np.inf, np.inf]
        try:
            sigma = np.sqrt(np.maximum(np.abs(ys), 1.0))
            fitted = _fit_pseudo_voigt(xs, ys, sigma, p0, lo, hi)
            popt, pcov = fitted if fitted is not None else curve_fit(
                _pseudo_voigt, xs, ys, p0=p0, bounds=(lo, hi), sigma=sigma, maxfev=20000)
            perr = np.sqrt(np.clip(np.diag(pcov), 0, None))
            if popt[0] < 3 * noise[i]:
                continue  # the fit gives it no height above the noise: a ripple (e.g. left by Kα2 stripping)
            peaks.append({"two_theta_deg": float(popt[1]), "fwhm_deg": float(abs(popt[2])),
                          "intensity": float(popt[0]), "eta": float(popt[3]),
                          "two_theta_se_deg": float(perr[1]), "fwhm_se_deg": float(perr[2]), "fitted": True})
        except (RuntimeError, ValueError):
            # Keep the raw maximum rather than dropping the peak, flagged as not fitted.
            peaks.append({"two_theta_deg": float(x[i]), "fwhm_deg": float(w), "intensity": float(net[i]),
                          "fitted": False})
    return peaks


def pair_satellites(peaks: list[dict], *, lambda1_a: float, lambda2_a: float | None,
                    kbeta_a: float | None) -> tuple[list[dict], list[dict]]:
    """Split off peaks that are another reflection's Kα2 or Kβ line rather than reflections.

    Kα2: at the Kα2 angle of a stronger peak (within a quarter of its FWHM, ≥ 0.02°) and 0.2–0.8
    of its height (the tube ratio is ~0.5). Kβ: at its Kβ angle and at most 0.3 of its height
    (a Ni filter leaves ~1 %, no filter ~20 %)."""
    def partner(p, lam):
        s = np.sin(np.radians(p["two_theta_deg"] / 2)) * lam / lambda1_a
        return float(2 * np.degrees(np.arcsin(s))) if s < 1 else None

    kept, dropped = [], []
    for q in peaks:
        why = None
        for p in peaks:
            if p is q or p["intensity"] <= q["intensity"] or q["intensity"] <= 0:
                continue
            tol = max(0.25 * p["fwhm_deg"], 0.02)
            ratio = q["intensity"] / p["intensity"]
            at2 = partner(p, lambda2_a) if lambda2_a else None
            atb = partner(p, kbeta_a) if kbeta_a else None
            if at2 is not None and abs(q["two_theta_deg"] - at2) <= tol and 0.2 <= ratio <= 0.8:
                why = ("Kα2", p)
                break
            if atb is not None and abs(q["two_theta_deg"] - atb) <= tol and ratio <= 0.3:
                why = ("Kβ", p)
                break
        if why is None:
            kept.append(q)
        else:
            dropped.append({**q, "line": why[0], "of_two_theta_deg": why[1]["two_theta_deg"]})
    return kept, dropped


def _radiation(metadata: dict, mode: str, lambda1_a: float) -> tuple[str, float | None, float | None, str]:
    """(action, λ₂, ratio, why): action "strip", "pair" (resolved doublets only) or "none"."""
    radiation = metadata.get("radiation")  # "Ka1+Ka2", "Ka1", "monochromatic" or absent
    lambda2, ratio = metadata.get("kalpha2_a"), metadata.get("kalpha2_ratio")
    if mode == "keep":
        return "none", lambda2, ratio, "kalpha2=keep: Kα2 left in"
    if radiation == "monochromatic":
        return "none", None, None, "monochromatic beam (no Kα2)"
    if radiation == "Ka1":
        return ("pair" if lambda2 else "none"), lambda2, ratio, "the file states a Kα1-only beam"
    if lambda2 is None:
        return "none", None, None, "no Kα2 wavelength known"
    if radiation == "Ka1+Ka2" or mode == "strip":
        if not ratio or ratio <= 0:
            ratio = 0.5  # the textbook Kα2/Kα1 intensity ratio, only when stripping was asked for
        return "strip", lambda2, ratio, "Kα1+Kα2 beam"
    return "pair", lambda2, ratio, "nothing in the file says whether Kα2 reaches the detector"


def _scherrer(result: AnalysisResult, first: dict, *, wavelength_a: float, step: float,
              instrument_broadening_deg: float | None, scherrer_k: float) -> None:
    fwhm = first["fwhm_deg"]
    at = f"the first peak (2θ {first['two_theta_deg']:.3f}°, FWHM {fwhm:.4f}°)"
    if fwhm < 3 * step:
        result.warnings.append(f"{at} spans fewer than three {step:.4g}° steps: it is not resolved, so no "
                               "crystallite_size — measure with a finer step")
        return
    if instrument_broadening_deg is not None and instrument_broadening_deg >= fwhm:
        result.warnings.append(f"{at} is not wider than the instrument broadening {instrument_broadening_deg:.4f}°: "
                               "the crystallites are beyond the Scherrer limit (a single crystal or a substrate "
                               "reflection?), so no crystallite_size")
        return
    inst = instrument_broadening_deg or 0.0
    beta_rad = np.radians(np.sqrt(fwhm**2 - inst**2))
    theta = np.radians(first["two_theta_deg"] / 2)
    size_nm = scherrer_k * wavelength_a / (beta_rad * np.cos(theta)) / 10.0  # Å → nm
    flags = []
    if not first.get("fitted"):
        flags.append("peak_not_fitted")
    if instrument_broadening_deg is None:
        flags.append("no_instrument_broadening")
        result.warnings.append(f"crystallite_size {size_nm:.1f} nm: no instrument broadening was given, so the whole "
                               "FWHM is taken as size broadening and the size is a lower bound — set "
                               "instrument_broadening_deg (the FWHM of a standard such as LaB₆ or Si on this instrument)")
    if size_nm > SCHERRER_MAX_NM:
        flags.append("beyond_scherrer_range")
        result.warnings.append(f"crystallite_size {size_nm:.0f} nm is above {SCHERRER_MAX_NM:.0f} nm, where the "
                               "size broadening is too small to separate from the instrument's: treat it as "
                               "'larger than ~100 nm'")
    result.add("crystallite_size", size_nm, "nm", flags=tuple(flags),
               extra={"peak_two_theta_deg": first["two_theta_deg"], "fwhm_deg": fwhm,
                      "beta_corrected_deg": float(np.degrees(beta_rad)), "scherrer_k": scherrer_k,
                      "instrument_broadening_deg": instrument_broadening_deg})


def _one_direction(hkls) -> bool:
    """True when every hkl is a multiple of one primitive direction ((100), (200), (300) …)."""
    prim = set()
    for h, k, m in hkls:
        g = np.gcd.reduce([abs(h), abs(k), abs(m)])
        prim.add((h // g, k // g, m // g))
    return len(prim) == 1


def _report_cell(result: AnalysisResult, peaks: list[dict], found) -> None:
    for p, hkl, mis in zip(peaks, found.hkl, found.misfit_2theta_deg, strict=True):
        p["hkl"] = list(hkl)
        p["misfit_2theta_deg"] = mis
    extra = {"system": found.system, "hkl": [list(h) for h in found.hkl], "peaks_indexed": len(peaks),
             "relative_misfit": found.relative_misfit, "max_misfit_2theta_deg": found.max_misfit_deg,
             "tolerance_2theta_deg": TWO_THETA_TOL_DEG, "de_wolff_m": found.de_wolff_m,
             "reflections_allowed": found.n_calc, "cell_a": found.cell_a}
    result.add("lattice_constant", found.cell_a["a"], "Å", uncertainty=found.cell_se_a.get("a"), extra=extra)
    for axis in ("b", "c"):
        if axis in found.cell_a:
            result.add(f"lattice_constant_{axis}", found.cell_a[axis], "Å",
                       uncertainty=found.cell_se_a.get(axis), extra={"system": found.system})


def _report_series(result: AnalysisResult, peaks: list[dict], series) -> None:
    for p, k in zip(peaks, series.orders, strict=True):
        if k:
            p["layer_order"] = k
    result.add("layer_spacing", series.spacing_a, "Å", uncertainty=series.spacing_se_a,
               extra={"orders": series.orders, "lines_in_series": series.lines_in_series,
                      "max_misfit_2theta_deg": series.max_misfit_deg, "tolerance_2theta_deg": TWO_THETA_TOL_DEG})


def _index(result: AnalysisResult, peaks: list[dict], d_a: np.ndarray, wavelength_a: float) -> None:
    """Fewest parameters first: a cubic cell, then a one-direction series (a layer stack or an
    oriented film's harmonics), then tetragonal, then orthorhombic — a cell with more free axes
    is only tried when the simpler explanations leave lines unexplained."""
    n = len(peaks)
    cubic = index_lines(d_a, wavelength_a=wavelength_a, system="cubic")
    if cubic is not None and not _one_direction(cubic.hkl):
        _report_cell(result, peaks, cubic)
        return  # a (00l)-like run of lines inside an indexed cell is that cell's orders, not a layer stack
    series = layer_series(d_a, wavelength_a=wavelength_a)
    if series is not None and series.lines_in_series == n:
        _report_series(result, peaks, series)  # every line is an order of the layer spacing
        return
    if cubic is not None:  # one direction, spacing < 10 Å: an oriented 3D film
        result.warnings.append(f"the {n} peaks are orders of one set of planes only (an oriented film: d = "
                               f"{d_a[0]:.4f} Å and its harmonics), which fixes that spacing but not a 3D cell: "
                               "no lattice_constant — d_spacing and the peak list are reported")
        return
    for system in ("tetragonal", "orthorhombic"):
        found = index_lines(d_a, wavelength_a=wavelength_a, system=system)
        if found is not None and not _one_direction(found.hkl):
            _report_cell(result, peaks, found)
            return
    if series is not None:
        _report_series(result, peaks, series)
    if n < MIN_LINES["cubic"]:
        result.warnings.append(f"only {n} peak{'s' if n != 1 else ''}: too few to index a cell (a cubic cell needs "
                               f"{MIN_LINES['cubic']}), so no lattice_constant — the peak list and d-spacings are "
                               "reported")
        return
    forced = best_cubic_misfit(d_a)
    detail = ""
    if forced:
        detail = (f" (a forced cubic cell, a ≈ {forced['a_a']:.3f} Å, would miss by up to "
                  f"{100 * forced['relative_misfit']:.0f} % in h²+k²+l²"
                  + (f" and give {forced['repeated_hkl']} line(s) an hkl already used" if forced["repeated_hkl"] else "")
                  + ")")
    unexplained = "" if series is None else f"; {n - series.lines_in_series} line(s) lie outside the layer series"
    result.warnings.append(
        f"the {n} peaks do not index as one cubic, tetragonal or orthorhombic cell within {TWO_THETA_TOL_DEG}° 2θ "
        f"with every line indexed, no hkl used twice and de Wolff M ≥ 10{detail}: no lattice_constant — the "
        f"peak list and d-spacings are reported (a mixture of phases, or a lower symmetry){unexplained}")


def analyse_pattern(two_theta_deg, intensity, *, wavelength_a: float, instrument_broadening_deg: float | None = None,
                    scherrer_k: float = 0.9, metadata: dict | None = None, kalpha2: str = "auto") -> AnalysisResult:
    result = AnalysisResult(method=METHOD, version=VERSION)
    x = np.asarray(two_theta_deg, float)
    y = np.asarray(intensity, float)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise AnalysisError("the pattern holds non-numeric values (NaN or infinite)")
    step = check_grid(x)
    metadata = metadata or {}
    if kalpha2 not in KALPHA2_MODES:
        raise AnalysisError(f"kalpha2 must be one of {', '.join(KALPHA2_MODES)}, got {kalpha2!r}")
    action, lambda2, ratio, why = _radiation(metadata, kalpha2, wavelength_a)
    y_fit = y
    if action == "strip":
        y_fit = strip_kalpha2(x, y, lambda1_a=wavelength_a, lambda2_a=lambda2, ratio=ratio)
        result.parameters["kalpha2"] = f"stripped (Rachinger; λ₂ {lambda2} Å, I₂/I₁ {ratio}: {why})"
    else:
        result.parameters["kalpha2"] = f"not stripped ({why})"
    peaks = find_and_fit_peaks(x, y_fit, step=step, counts=y if y_fit is not y else None)
    if not peaks:
        d_hi = wavelength_a / (2 * np.sin(np.radians(x[0] / 2)))
        d_lo = wavelength_a / (2 * np.sin(np.radians(x[-1] / 2)))
        raise AnalysisError(f"no diffraction peak stands above the background (5σ) in {x[0]:.3g}–{x[-1]:.3g}° 2θ "
                            f"(d {d_lo:.3g}–{d_hi:.3g} Å at λ {wavelength_a} Å): nothing to index")
    kbeta = metadata.get("kbeta_a") if metadata.get("radiation") not in ("monochromatic", "Ka1") else None
    if (lambda2 is not None and action != "none") or kbeta:
        peaks, satellites = pair_satellites(peaks, lambda1_a=wavelength_a,
                                            lambda2_a=lambda2 if action != "none" else None, kbeta_a=kbeta)
        if satellites:
            where = ", ".join(f"{q['two_theta_deg']:.2f}° ({q['line']} of {q['of_two_theta_deg']:.2f}°)"
                              for q in satellites)
            result.warnings.append(f"{len(satellites)} peak(s) are another reflection's Kα2 or Kβ line, not "
                                   f"reflections, and are left out of the peak list and indexing: {where}"
                                   + (f". Kα2 was not stripped ({why}): unresolved doublets broaden the peaks — "
                                      "set kalpha2=strip if the beam was not monochromated" if action == "pair" else ""))
            result.parameters["satellite_lines_dropped"] = [
                {"two_theta_deg": q["two_theta_deg"], "line": q["line"], "of_two_theta_deg": q["of_two_theta_deg"]}
                for q in satellites]
    two_theta = np.array([p["two_theta_deg"] for p in peaks])
    d_a = wavelength_a / (2 * np.sin(np.radians(two_theta / 2)))  # Bragg, n = 1
    for p, d in zip(peaks, d_a, strict=True):
        p["d_a"] = float(d)

    first = peaks[0]
    result.add("d_spacing", first["d_a"], "Å", extra={"two_theta_deg": first["two_theta_deg"], "peaks": peaks})
    _index(result, peaks, d_a, wavelength_a)
    _scherrer(result, first, wavelength_a=wavelength_a, step=step,
              instrument_broadening_deg=instrument_broadening_deg, scherrer_k=scherrer_k)

    result.arrays = {"two_theta_deg": x, "intensity": y,
                     "peak_two_theta_deg": two_theta, "peak_d_a": d_a,
                     "peak_fwhm_deg": np.array([p["fwhm_deg"] for p in peaks]),
                     "peak_intensity": np.array([p["intensity"] for p in peaks])}
    if y_fit is not y:
        result.arrays["intensity_kalpha1"] = y_fit
    result.parameters.update({"wavelength_a": wavelength_a, "instrument_broadening_deg": instrument_broadening_deg,
                              "scherrer_k": scherrer_k, "step_deg": step})
    return result


def _wavelength(parsed, params) -> tuple[float, str, list[str]]:
    stated = parsed.metadata.get("wavelength_a")
    wavelength = params.get("wavelength_a")
    if wavelength is None and stated is None:
        raise AnalysisError("the X-ray wavelength is unknown: the file does not state it and no "
                            "wavelength_a (Å) was given — e.g. 1.5406 for Cu Kα1, 1.24 for the GIWAXS beamline")
    if wavelength is not None and not 0.05 < wavelength < 5:
        raise AnalysisError(f"wavelength_a {wavelength} Å is outside the X-ray range 0.05–5 Å")
    warnings = []
    if wavelength is not None and stated is not None and abs(wavelength - stated) > 1e-3:
        warnings.append(f"wavelength_a {wavelength} Å overrides the file's {stated} Å")
    source = "parameter" if wavelength is not None else parsed.metadata.get("wavelength_source", "file")
    return float(wavelength if wavelength is not None else stated), source, warnings


MAX_SCANS_PER_FILE = 24  # analysed one by one; more is a map or a series to export scan by scan


def _one(parsed, params) -> AnalysisResult:
    try:
        return _analyse_one(parsed, params)
    except AnalysisError as exc:
        name = parsed.label if parsed.source or parsed.metadata.get("label") else None
        raise AnalysisError(f"{name}: {exc}" if name and not str(exc).startswith(name) else str(exc)) from None


def _analyse_one(parsed, params) -> AnalysisResult:
    wavelength, source, warnings = _wavelength(parsed, params)
    metadata = parsed.metadata
    if "kalpha2_a" not in metadata and "radiation" not in metadata:
        # λ from a parameter (or a header number) that is a tube's Kα1 line: its Kα2/Kβ are known,
        # so resolved doublets and Kβ lines can be paired (not stripped: the file says nothing).
        metadata = {**metadata, **radiation_metadata(wavelength)}
        metadata.pop("radiation", None)  # a bare number is not evidence of a monochromatic beam here
    result = analyse_pattern(parsed.data["two_theta_deg"].to_numpy(), parsed.data["intensity"].to_numpy(),
                             wavelength_a=wavelength, metadata=metadata,
                             instrument_broadening_deg=params.get("instrument_broadening_deg"),
                             scherrer_k=params.get("scherrer_k") or 0.9, kalpha2=params.get("kalpha2") or "auto")
    result.parameters["wavelength_source"] = source
    result.warnings[:0] = warnings + list(parsed.metadata.get("warnings", []))
    result.per_file = [{"file": parsed.source, "metrics": result.metrics_json()}]
    return result


def xrd(inputs, params) -> AnalysisResult:
    files = inputs["files"]
    if len(files) != 1:
        raise AnalysisError(f"xrd analyses one pattern at a time, got {len(files)} files")
    parsed = files[0]
    scans = parsed.samples
    if not scans:
        if parsed.metadata.get("scans_in_file", 1) > 1:  # a parser that counted scans but kept one
            raise AnalysisError(f"{parsed.label}: the file holds {parsed.metadata['scans_in_file']} scans and only one was read: "
                                "export each scan on its own")
        return _one(parsed, params)
    # Several scans: one result per scan (the multi-sample shape of analysis/base.py), unless the
    # scans are a map — the same 2θ range with another goniometer axis stepped between them.
    n = len(scans)
    moved = [a for a in parsed.metadata.get("scan_axes", [])]
    ranges = {(round(float(s.data["two_theta_deg"].iloc[0]), 2), round(float(s.data["two_theta_deg"].iloc[-1]), 2))
              for s in scans}
    if moved and len(ranges) == 1:
        raise AnalysisError(f"{parsed.label}: the file holds {n} scans over the same 2θ range with {', '.join(moved)} stepped "
                            "between them: a reciprocal-space map or tilt series, not a powder pattern — "
                            "LEDger does not analyse maps; export one 2θ scan")
    if n > MAX_SCANS_PER_FILE:
        raise AnalysisError(f"{parsed.label}: the file holds {n} scans: more than the {MAX_SCANS_PER_FILE} analysed one by one — "
                            "export the scans you need separately")
    top = AnalysisResult(method=METHOD, version=VERSION)
    for scan in scans:
        scan.source = scan.source or parsed.source
        try:
            one = _one(scan, params)
        except AnalysisError as exc:
            one = AnalysisResult(method=METHOD, version=VERSION, error=str(exc))
        one.sample, one.source = scan.metadata.get("sample"), parsed.source
        top.samples.append(one)
    done = sum(1 for r in top.samples if r.metrics)
    top.warnings.append(f"{parsed.source or 'the file'} holds {n} scans"
                        + (f" ({', '.join(moved)} differ between them)" if moved else "")
                        + f": each is analysed on its own ({done} gave metrics)")
    if not done:
        raise AnalysisError(f"{parsed.label}: none of the {n} scans gave a number: " + "; ".join(
            f"{r.sample}: {r.error}" for r in top.samples))
    top.parameters = {"scans": n}
    return top


register_analysis(AnalysisSpec(
    kind="xrd", method=METHOD, version=VERSION, func=xrd,
    roles=(Role("files", shapes=("xrd",),
                help="powder pattern: .xy/.xye, Bruker .xy/.raw/.brml, .xrdml, Rigaku .ras/.rasx"),),
    params=(Param("wavelength_a", float, None, help="X-ray wavelength in Å; required unless the file states it"),
            Param("instrument_broadening_deg", float, None,
                  help="instrument FWHM (°2θ), removed in quadrature; without it Scherrer sizes are flagged"),
            Param("scherrer_k", float, 0.9, help="Scherrer shape factor K"),
            Param("kalpha2", str, "auto", help="auto (as the file says), strip (Rachinger) or keep")),
    description="XRD: peak list (2θ, d, FWHM), lattice constants or layer spacing, Scherrer crystallite size",
))
