"""Transient absorption: bleach bands, their kinetics, recovery and rise (kind ``ta``, method ``ta.bleach``).

Signal convention: the bleach signal S = −ΔA (or S = ΔT/T for ΔT/T matrices), so a ground-state
bleach is positive. ``signal`` ("auto" → the parser's metadata) picks the convention.

1. Bleach bands: the spectrum of the largest bleach reached at any delay, max_t S(λ, t), smoothed
   over ~3 nm; its local maxima with a prominence ≥ 10 % of the largest are bleach bands.
   Numbered by wavelength, shortest first, as in the paper (B1 ≈ 550 nm, B2 ≈ 610 nm).
2. Kinetics: S averaged over ±``band_halfwidth_nm`` around each band position.
3. Each trace is fitted by least squares with exponentials convolved with a Gaussian instrument
   response (width σ and time zero t₀ fitted), plus a long-lived offset:
   - B1 (and further bands): S = A·E(τ_rec) + C·E(∞) — recovery time τ_rec;
   - B2: S = A·[E(τ_rec) − E(τ_rise)] + C·E(∞) — a rise τ_rise (population fed from above),
     then recovery.
   E(τ) = ½·exp(σ²/2τ² − (t−t₀)/τ)·erfc((σ²/τ − (t−t₀))/(√2σ)) is a unit step-exponential
   convolved with the Gaussian IRF (e.g. van Stokkum et al., BBA 1657 (2004) 82).

Metrics (names chosen here; not in DESIGN.md's table): ``ta_bleach_1_wavelength``,
``ta_bleach_2_wavelength`` (nm; all band positions in ``ta_bleach_1_wavelength.extra["bands_nm"]``),
``ta_bleach_1_recovery``, ``ta_bleach_2_recovery`` (ps), ``ta_bleach_2_rise`` (ps),
``ta_bleach_count`` (–). Arrays: ``delay_ps``, ``wavelength_nm``, ``signal`` (map, delays × λ),
``bleach_<i>_trace`` and ``bleach_<i>_fit``.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.optimize import least_squares
from scipy.signal import find_peaks
from scipy.special import erfc, erfcx

from .base import AnalysisError, AnalysisResult, unit_warnings
from .registry import AnalysisSpec, Param, Role, register_analysis

METHOD, VERSION = "ta.bleach", "1.1"


def irf_exp(t: np.ndarray, tau: float, t0: float, sigma: float) -> np.ndarray:
    """Unit step·exp(−(t−t₀)/τ) convolved with a Gaussian of standard deviation σ."""
    x = t - t0
    if not np.isfinite(tau):
        return 0.5 * erfc(-x / (np.sqrt(2) * sigma))
    z = (sigma / tau - x / sigma) / np.sqrt(2)
    out = np.empty_like(x)
    pos = z >= 0
    # erfcx form where erfc would underflow; direct form where erfcx would overflow (same value).
    out[pos] = 0.5 * np.exp(-x[pos] ** 2 / (2 * sigma**2)) * erfcx(z[pos])
    out[~pos] = 0.5 * np.exp(sigma**2 / (2 * tau**2) - x[~pos] / tau) * erfc(z[~pos])
    return out


def _trace_model(q, t, rise: bool):
    amp, log_rec, offset, t0, log_sigma = q[:5]
    sigma, rec = np.exp(log_sigma), np.exp(log_rec)
    s = amp * irf_exp(t, rec, t0, sigma) + offset * irf_exp(t, np.inf, t0, sigma)
    if rise:
        s -= amp * irf_exp(t, np.exp(q[5]), t0, sigma)
    return s


def fit_trace(t: np.ndarray, s: np.ndarray, *, rise: bool) -> dict:
    """Least-squares fit of one bleach trace; returns times in ps."""
    peak = float(np.max(s))
    i_half = int(np.argmax(s >= 0.5 * peak))
    t0_guess = float(t[i_half])
    pos_steps = np.diff(t)[np.diff(t) > 0]
    dt0 = float(np.min(pos_steps[t[1:] > t0_guess][:5])) if np.any(t[1:] > t0_guess) else float(np.min(pos_steps))
    span = float(t[-1] - t0_guess)
    best = None
    for rec0 in np.geomspace(max(5 * dt0, span * 1e-3), span, 5):
        for rise0 in (np.geomspace(dt0, rec0 / 3, 3) if rise else [None]):
            q0 = [peak, np.log(rec0), 0.05 * peak, t0_guess, np.log(dt0)]
            lo = [0, np.log(dt0 * 0.1), -abs(peak), t0_guess - 20 * dt0, np.log(dt0 * 0.01)]
            hi = [10 * abs(peak), np.log(span * 100), abs(peak) * 2, t0_guess + 20 * dt0, np.log(span / 10)]
            if rise:
                q0.append(np.log(rise0))
                lo.append(np.log(dt0 * 0.05))
                hi.append(np.log(span))
            q0 = np.clip(q0, np.array(lo) + 1e-9, np.array(hi) - 1e-9)
            try:
                sol = least_squares(lambda q: _trace_model(q, t, rise) - s, q0, bounds=(lo, hi), max_nfev=3000)
            except ValueError:
                continue
            cost = float(np.sum(sol.fun**2))
            if best is None or cost < best[0]:
                best = (cost, sol)
    if best is None:
        raise AnalysisError("the bleach kinetics could not be fitted")
    sol = best[1]
    q = sol.x
    out = {"amplitude": float(q[0]), "recovery_ps": float(np.exp(q[1])), "offset": float(q[2]),
           "t0_ps": float(q[3]), "irf_sigma_ps": float(np.exp(q[4])), "fit": _trace_model(q, t, rise),
           "rms": float(np.sqrt(best[0] / t.size))}
    try:
        cov = np.linalg.inv(sol.jac.T @ sol.jac) * best[0] / max(t.size - q.size, 1)
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        out["recovery_se_ps"] = float(out["recovery_ps"] * se[1])
        if rise:
            out["rise_se_ps"] = float(np.exp(q[5]) * se[5])
    except np.linalg.LinAlgError:
        pass
    if rise:
        out["rise_ps"] = float(np.exp(q[5]))
    # A sequential rise/decay is symmetric in τ_rise ↔ τ_rec up to the amplitude; keep rise < recovery.
    if rise and out["rise_ps"] > out["recovery_ps"]:
        out["rise_ps"], out["recovery_ps"] = out["recovery_ps"], out["rise_ps"]
        out["rise_se_ps"], out["recovery_se_ps"] = out.get("recovery_se_ps"), out.get("rise_se_ps")
    return out


def find_bleaches(wavelength_nm: np.ndarray, signal: np.ndarray, *, min_prominence: float = 0.1) -> list[int]:
    """Indices of bleach bands in the max-over-delay bleach spectrum, shortest wavelength first."""
    spectrum = np.nanmax(signal, axis=0)
    step = float(np.median(np.diff(wavelength_nm)))
    # Odd window: an even uniform filter shifts the spectrum by half a step.
    smooth = uniform_filter1d(spectrum, size=max(int(round(3.0 / step)), 1) | 1, mode="nearest")
    if not np.any(smooth > 0):
        return []
    idx, _ = find_peaks(smooth, height=0, prominence=min_prominence * smooth.max())
    return sorted(idx.tolist())


def _refine(w: np.ndarray, y: np.ndarray, i: int) -> float:
    # Vertex of the parabola through the maximum and its neighbours: sub-step band position.
    if i == 0 or i == w.size - 1:
        return float(w[i])
    coef = np.polyfit(w[i - 1:i + 2], y[i - 1:i + 2], 2)
    return float(-coef[1] / (2 * coef[0])) if coef[0] < 0 else float(w[i])


def analyse_matrix(delay_ps, wavelength_nm, signal, *, band_halfwidth_nm: float = 2.0,
                   max_bands: int = 4) -> AnalysisResult:
    result = AnalysisResult(method=METHOD, version=VERSION)
    t = np.asarray(delay_ps, float)
    w = np.asarray(wavelength_nm, float)
    s = np.asarray(signal, float)
    if t.size < 8 or w.size < 5:
        raise AnalysisError(f"a {t.size} × {w.size} delay × wavelength matrix is too small")
    bands = find_bleaches(w, s)
    if not bands:
        raise AnalysisError("no bleach: the signal never turns bleach-like (ΔA < 0 / ΔT/T > 0) — "
                            "check the ΔA vs ΔT/T setting")
    spectrum = np.nanmax(s, axis=0)
    bands = sorted(sorted(bands, key=lambda i: -spectrum[i])[:max_bands])
    positions = [_refine(w, spectrum, i) for i in bands]
    result.add("ta_bleach_count", len(bands), "")
    arrays = {"delay_ps": t, "wavelength_nm": w, "signal": s}
    for n, i in enumerate(bands, start=1):
        sel = np.abs(w - positions[n - 1]) <= max(band_halfwidth_nm, float(np.median(np.diff(w))))
        trace = np.nanmean(s[:, sel], axis=1)
        rise = n == 2  # the paper's B2 fills from above: fit its rise
        fit = fit_trace(t, trace, rise=rise)
        extra = {"bleach_amplitude": float(spectrum[i])}
        if n == 1:
            extra["bands_nm"] = positions
        result.add(f"ta_bleach_{n}_wavelength", positions[n - 1], "nm", extra=extra)
        result.add(f"ta_bleach_{n}_recovery", fit["recovery_ps"], "ps", uncertainty=fit.get("recovery_se_ps"),
                   extra={k: fit[k] for k in ("amplitude", "offset", "t0_ps", "irf_sigma_ps", "rms")})
        if rise:
            flags = ("unresolved",) if fit["rise_ps"] < fit["irf_sigma_ps"] else ()
            result.add("ta_bleach_2_rise", fit["rise_ps"], "ps", uncertainty=fit.get("rise_se_ps"), flags=flags,
                       extra={"irf_sigma_ps": fit["irf_sigma_ps"]})
        arrays[f"bleach_{n}_trace"] = trace
        arrays[f"bleach_{n}_fit"] = fit["fit"]
    if len(bands) < 2:
        result.warnings.append("only one bleach band: no second bleach, so no rise time")
    result.arrays = arrays
    result.parameters = {"band_halfwidth_nm": band_halfwidth_nm}
    return result


def ta(inputs, params) -> AnalysisResult:
    files = inputs["files"]
    if len(files) != 1:
        raise AnalysisError(f"ta analyses one matrix at a time, got {len(files)} files")
    parsed = files[0]
    frame = parsed.data
    kind = params.get("signal") or "auto"
    if kind == "auto":
        kind = parsed.metadata.get("signal", "delta_a")
    if kind not in ("delta_a", "delta_t_over_t"):
        raise AnalysisError(f"signal must be auto, delta_a or delta_t_over_t, got {kind!r}")
    values = frame.to_numpy(dtype=float)
    bleach = -values if kind == "delta_a" else values  # bleach positive in both conventions
    result = analyse_matrix(frame.index.to_numpy(dtype=float), np.asarray(frame.columns, dtype=float), bleach,
                            band_halfwidth_nm=params.get("band_halfwidth_nm") or 2.0)
    result.warnings[:0] = unit_warnings(parsed, ("x",))
    result.parameters["signal"] = kind
    result.parameters["delay_unit_in_file"] = parsed.metadata.get("delay_unit_in_file") or "not stated"
    result.per_file = [{"file": parsed.source, "metrics": result.metrics_json()}]
    return result


register_analysis(AnalysisSpec(
    kind="ta", method=METHOD, version=VERSION, func=ta,
    roles=(Role("files", shapes=("ta_matrix",), help="delay × wavelength ΔA or ΔT/T matrix (CSV)"),),
    params=(Param("signal", str, "auto", help="auto, delta_a or delta_t_over_t"),
            Param("band_halfwidth_nm", float, 2.0, help="half-width of the band averaged for each kinetic trace")),
    description="TA: bleach band positions, recovery times, rise time of the second bleach, maps",
))
