"""Operational lifetime from luminance vs time at constant current (kind ``lifetime``).

Per file: ``initial_luminance`` L0 and ``t95``, ``t90``, ``t70``, ``t50`` — the first time the
luminance falls to 95/90/70/50 % of L0 (DESIGN.md). The curve is lightly smoothed (running mean
over ~1 % of the points, odd window ≥ 5) before looking for the crossing, so one noisy reading
cannot end the lifetime early; the crossing is then interpolated linearly in time. L0 is the
t = 0 value of a stretched-exponential fit over the run (the first reading alone carries its
noise into every T_x, and the decay is too steep at t = 0 for a straight-line intercept).

When the run stopped before a level was reached, T_x comes from a stretched-exponential fit
L/L0 = exp(−(t/τ)^β) over the whole run (the usual OLED/PeLED decay law; e.g. Féry et al.,
Appl. Phys. Lett. 2008) and is flagged ``("extrapolated",)``. A run that never falls to 95 %
is refused: a fit on less than 5 % decay would be a guess, not a measurement.

Across ≥ 2 runs of one stack at different L0 the empirical acceleration law L0ⁿ·T50 = C is
fitted as a straight line ln T50 = ln C − n·ln L0 (least squares) and extrapolated to
100 cd/m²; uncertainties are the 1σ standard errors of the fit (and their propagation), None
for exactly two runs (no degrees of freedom left).

Result layout: ``per_file`` holds every file's metrics; the top-level ``metrics`` of a
single-file run are that file's metrics; with several files the top level holds only
``lifetime_acceleration_n`` and ``t50_at_100_cd`` (per-file values stay in ``per_file`` so no
metric name is ambiguous about which file it came from). Each ``per_file`` entry also keeps that
run's own warnings, so a stored result can stand in for the run later (:class:`StoredRun`: a
new run of a device is fitted alone and the acceleration fit is recomputed from the stored
per-run L0 and T50).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import curve_fit

from ..parsers import ParsedData
from .base import AnalysisError, AnalysisResult, Metric, unit_warnings
from .fitting import lmder
from .registry import AnalysisSpec, Role, register_analysis

METHOD_VERSION = "1.0"
LEVELS = (("t95", 0.95), ("t90", 0.90), ("t70", 0.70), ("t50", 0.50))
REFERENCE_LUMINANCE_CD_M2 = 100.0


def _running_mean(y: np.ndarray, window: int) -> np.ndarray:
    if window <= 1:
        return y
    pad = window // 2
    padded = np.concatenate([np.full(pad, y[0]), y, np.full(pad, y[-1])])
    # Edge-padding keeps the start at L0 instead of dragging it towards zero.
    return np.convolve(padded, np.ones(window) / window, mode="valid")


def stretched_exponential(t: np.ndarray, tau_h: float, beta: float) -> np.ndarray:
    return np.exp(-np.power(np.maximum(t, 0) / tau_h, beta))


def _stretched_with_l0(t: np.ndarray, l0: float, tau_h: float, beta: float) -> np.ndarray:
    return l0 * stretched_exponential(t, tau_h, beta)


# Bounds of the stretched-exponential fit (as curve_fit was given them): τ > 0, 0.1 ≤ β ≤ 3.
_TAU_MIN, _BETA_MIN, _BETA_MAX = 1e-9, 0.1, 3.0
# MINPACK's ftol/xtol/gtol for the interior fit: tighter than curve_fit's 1e-8, so its minimum is
# met to curve_fit's own precision; the evaluation budget before the bounded solver takes over.
_LM_TOL, _LM_MAX_NFEV = 1e-12, 1000


def _lm_stretched(time_h: np.ndarray, y: np.ndarray, p0: tuple[float, ...], *,
                  with_l0: bool) -> tuple[float, ...] | None:
    """Least squares of y = L0·exp(−(t/τ)^β) (or L0 ≡ 1) by MINPACK's Levenberg–Marquardt
    (``fitting.lmder``: the call ``least_squares(method="lm")`` makes) on the exact Jacobian, in
    (L0, ln τ, β). The optimum inside the bounds, or None when it is not found strictly inside
    them (the caller then runs ``curve_fit`` with the bounds, as before).

    Why not curve_fit as it was called: with bounds it runs scipy's trust-region reflective
    solver with a finite-difference Jacobian, ≈ 3 ms a run for 400 readings — most of a lifetime
    analysis. Unbounded LM with the analytic Jacobian lands on the same interior minimum, at a
    cost never above curve_fit's (tests/measurements/test_fit_solvers.py): its tolerances
    (_LM_TOL) are tighter than curve_fit's 1e-8, so the parameters agree to curve_fit's own
    precision."""
    t = np.maximum(time_h, 0.0)
    positive = t > 0
    log_t = np.zeros_like(t)
    log_t[positive] = np.log(t[positive])
    if with_l0:
        l0, tau, beta = p0
    else:
        (tau, beta), l0 = p0, 1.0
    if not (tau > 0 and np.isfinite(tau)):
        return None
    q0 = np.array([l0, np.log(tau), beta]) if with_l0 else np.array([np.log(tau), beta])
    last: dict[str, Any] = {}

    def evaluate(q):
        # MINPACK asks for the residuals and then the Jacobian at the same point: computed once.
        key = q.tobytes()
        if last.get("key") != key:
            l0_, ln_tau, beta_ = (q[0], q[1], q[2]) if with_l0 else (1.0, q[0], q[1])
            log_ratio = log_t - ln_tau
            u = np.where(positive, np.exp(np.clip(beta_ * log_ratio, -700.0, 700.0)), 0.0)
            e = np.exp(-u)
            last.update(key=key, parts=(e, u, log_ratio, l0_, beta_))
        return last["parts"]

    def residual(q):
        e, _, _, l0_, _ = evaluate(q)
        return l0_ * e - y

    def jacobian_rows(q):  # one row per parameter: MINPACK's layout
        e, u, log_ratio, l0_, beta_ = evaluate(q)
        model_u = l0_ * e * u
        rows = (e, model_u * beta_, -model_u * log_ratio) if with_l0 else (model_u * beta_, -model_u * log_ratio)
        return np.array(rows)

    q = lmder(residual, jacobian_rows, q0, tol=_LM_TOL, max_nfev=_LM_MAX_NFEV)
    if q is None:
        return None  # not a start to fit from, or no convergence within the budget: the bounded solver decides
    ln_tau = float(q[1] if with_l0 else q[0])
    if not ln_tau < 700:
        return None  # no decay to speak of (τ → ∞): left to the bounded solver
    tau_h = float(np.exp(ln_tau))
    beta = float(q[2] if with_l0 else q[1])
    if not (tau_h > _TAU_MIN and _BETA_MIN < beta < _BETA_MAX) or (with_l0 and not q[0] > 0):
        return None  # on or beyond a bound: the bounded solver decides, as it always did
    return (float(q[0]), tau_h, beta) if with_l0 else (tau_h, beta)


def _initial_luminance(time_h: np.ndarray, luminance: np.ndarray) -> float:
    """L0 from a stretched-exponential fit over the whole run.

    The decay is steepest at t = 0 (β < 1), so the first reading carries its noise into every
    T_x and a straight line through the first points undershoots; the fitted intercept uses all
    the data. Falls back to the first reading when the curve does not fit the model."""
    first = float(luminance[0])
    ratio_end = float(np.clip(luminance[-1] / first, 1e-3, 0.999)) if first > 0 else 0.5
    tau0 = max(time_h[-1] / (-np.log(ratio_end)), 1e-6)
    found = _lm_stretched(time_h, luminance, (first, tau0, 1.0), with_l0=True) if first > 0 else None
    if found is not None:
        l0 = found[0]
    else:
        try:
            (l0, _, _), _ = curve_fit(_stretched_with_l0, time_h, luminance, p0=(first, tau0, 1.0),
                                      bounds=((0, _TAU_MIN, _BETA_MIN), (np.inf, np.inf, _BETA_MAX)), maxfev=5000)
        except (RuntimeError, ValueError):
            return first
    # Guard against a fit that wandered off (e.g. a run with an initial burn-in rise).
    return float(l0) if abs(l0 - first) < 0.1 * abs(first) else first


def _fit_stretched(time_h: np.ndarray, ratio: np.ndarray, name: str) -> tuple[float, float]:
    r_end = float(np.clip(ratio[-1], 1e-3, 0.999))
    tau0 = max(time_h[-1] / (-np.log(r_end)), 1e-6)  # β = 1 starting guess through the end point
    found = _lm_stretched(time_h, ratio, (tau0, 1.0), with_l0=False)
    if found is not None:
        return found
    try:
        (tau_h, beta), _ = curve_fit(stretched_exponential, time_h, ratio, p0=(tau0, 1.0),
                                     bounds=((_TAU_MIN, _BETA_MIN), (np.inf, _BETA_MAX)), maxfev=5000)
    except (RuntimeError, ValueError) as exc:
        raise AnalysisError(f"{name}: the stretched-exponential fit needed to extrapolate failed ({exc})") from None
    return float(tau_h), float(beta)


def analyse_one(parsed: ParsedData) -> tuple[AnalysisResult, dict[str, np.ndarray]]:
    name = parsed.source or "lifetime file"
    data = parsed.data
    if "luminance_cd_m2" not in data.columns or "time_h" not in data.columns:
        raise AnalysisError(f"{name}: a lifetime run needs time and luminance (cd/m²) columns; "
                            f"found {', '.join(data.columns)}")
    time_h = data["time_h"].to_numpy(float)
    luminance = data["luminance_cd_m2"].to_numpy(float)
    readable = ~(np.isnan(time_h) | np.isnan(luminance))  # what DataFrame.dropna kept, without a frame copy
    if not readable.all():
        time_h, luminance = time_h[readable], luminance[readable]
    if np.any(np.diff(time_h) < 0):
        order = np.argsort(time_h, kind="stable")
        time_h, luminance = time_h[order], luminance[order]
    if time_h.size < 5:
        raise AnalysisError(f"{name}: only {time_h.size} readings; a lifetime needs a decay curve")
    time_h = time_h - time_h[0]
    l0 = _initial_luminance(time_h, luminance)
    if not l0 > 0:
        raise AnalysisError(f"{name}: initial luminance is {l0:.3g} cd/m²; the pixel was not lit")
    window = max(5, (time_h.size // 100) | 1)
    ratio_smooth = _running_mean(luminance, window) / l0
    if ratio_smooth.min() > LEVELS[0][1]:
        raise AnalysisError(f"{name}: luminance never falls (lowest {100 * ratio_smooth.min():.1f} % of "
                            f"L0 = {l0:.4g} cd/m² over {time_h[-1]:.4g} h); no lifetime can be read "
                            "from a run that does not reach 95 %")
    result = AnalysisResult(method="led.lifetime", version=METHOD_VERSION)
    # A time column without a unit is read as hours (what lifetime racks log most): said, not hidden.
    result.warnings.extend(unit_warnings(parsed, ("time_h", "luminance_cd_m2")))
    result.add("initial_luminance", l0, "cd/m²")
    fit: tuple[float, float] | None = None
    for metric, level in LEVELS:
        below = np.nonzero(ratio_smooth <= level)[0]
        if below.size and below[0] > 0:
            i = below[0]
            t = np.interp(level, [ratio_smooth[i], ratio_smooth[i - 1]], [time_h[i], time_h[i - 1]])
            result.add(metric, t, "h")
        else:
            if fit is None:
                fit = _fit_stretched(time_h, luminance / l0, name)
            tau_h, beta = fit
            t = tau_h * (-np.log(level)) ** (1 / beta)
            result.add(metric, t, "h", flags=("extrapolated",),
                       extra={"model": "L/L0 = exp(-(t/tau)^beta)", "tau_h": tau_h, "beta": beta,
                              "run_length_h": float(time_h[-1])})
            result.warnings.append(f"{name}: {metric} extrapolated beyond the {time_h[-1]:.3g} h run "
                                   f"(stretched exponential τ = {tau_h:.3g} h, β = {beta:.3f})")
    arrays = {"time_h": time_h, "relative_luminance": luminance / l0}
    if fit is not None:
        t_model = np.linspace(0, max(result.metrics["t50"].value, time_h[-1]) * 1.05, 200)
        arrays["fit_time_h"] = t_model
        arrays["fit_relative_luminance"] = stretched_exponential(t_model, *fit)
    return result, arrays


def acceleration_fit(l0_cd_m2: np.ndarray, t50_h: np.ndarray) -> dict[str, float | None]:
    """Fit ln T50 = ln C − n·ln L0 and extrapolate to 100 cd/m² (standard errors, 1σ)."""
    x, y = np.log(l0_cd_m2), np.log(t50_h)
    design = np.column_stack([np.ones_like(x), x])
    (ln_c, slope), *_ = np.linalg.lstsq(design, y, rcond=None)
    x_ref = np.log(REFERENCE_LUMINANCE_CD_M2)
    ln_t_ref = ln_c + slope * x_ref
    out: dict[str, float | None] = {"n": float(-slope), "ln_c": float(ln_c),
                                    "t50_at_100_h": float(np.exp(ln_t_ref)),
                                    "n_sigma": None, "t50_at_100_sigma_h": None}
    dof = x.size - 2
    if dof > 0:
        residual = y - design @ np.array([ln_c, slope])
        s2 = float(residual @ residual) / dof
        cov = s2 * np.linalg.inv(design.T @ design)
        out["n_sigma"] = float(np.sqrt(cov[1, 1]))
        var_ln_t = cov[0, 0] + x_ref**2 * cov[1, 1] + 2 * x_ref * cov[0, 1]
        out["t50_at_100_sigma_h"] = float(out["t50_at_100_h"] * np.sqrt(max(var_ln_t, 0.0)))
    return out


# The per-run curves of a result (``{key}_{k}`` in ``arrays``), kept with a stored run.
RUN_ARRAYS = ("time_h", "relative_luminance", "fit_time_h", "fit_relative_luminance")


@dataclass
class StoredRun:
    """One run's own result as a stored analysis keeps it (its ``per_file`` entry and its curves):
    passed in place of its ParsedData, it joins the device's fit without being fitted again.

    Every per-run number (L0, T_x, τ, β) depends on that run's readings alone, so a new run of a
    device needs only its own fit; the acceleration fit across runs is recomputed from the stored
    L0 and T50 — the same numbers a from-scratch analysis of every run gives."""

    source: str  # the file name, as ParsedData.source
    metrics: dict[str, dict[str, Any]]  # the run's metrics_json()
    warnings: list[str]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # RUN_ARRAYS present for this run

    @classmethod
    def from_stored(cls, entry: dict[str, Any], arrays: dict[str, Any], k: int) -> StoredRun | None:
        """The run ``k`` of a stored result (``per_file[k]`` and its curves); None when it was
        stored without its own warnings (before they were kept per run): fit it again."""
        if "warnings" not in entry or "t50" not in entry.get("metrics", {}):
            return None
        curves = {key: np.array([np.nan if v is None else v for v in arrays[f"{key}_{k}"]], dtype=float)
                  for key in RUN_ARRAYS if f"{key}_{k}" in arrays}
        return cls(source=entry["file"], metrics=entry["metrics"], warnings=list(entry["warnings"]), arrays=curves)

    def metric_objects(self) -> dict[str, Metric]:
        return {name: Metric(name, m["value"], m.get("unit", ""), uncertainty=m.get("uncertainty"),
                             flags=tuple(m.get("flags", ())), extra=dict(m.get("extra", {})))
                for name, m in self.metrics.items()}


def analyse_lifetime(inputs: dict[str, list[ParsedData | StoredRun]], params: dict[str, Any]) -> AnalysisResult:
    files = inputs["files"]
    result = AnalysisResult(method="led.lifetime", version=METHOD_VERSION)
    l0s, t50s = [], []
    for k, given in enumerate(files):
        if isinstance(given, StoredRun):
            metrics, as_json, warnings, arrays = given.metric_objects(), given.metrics, given.warnings, given.arrays
        else:
            one, arrays = analyse_one(given)
            metrics, as_json, warnings = one.metrics, one.metrics_json(), one.warnings
        result.per_file.append({"file": given.source or f"file {k + 1}", "metrics": as_json, "warnings": list(warnings)})
        result.warnings.extend(warnings)
        for key, values in arrays.items():
            result.arrays[f"{key}_{k}"] = values
        l0s.append(metrics["initial_luminance"].value)
        t50s.append(metrics["t50"].value)
        if len(files) == 1:
            result.metrics = dict(metrics)
    result.arrays["initial_luminance_cd_m2"] = np.array(l0s)
    result.arrays["t50_h"] = np.array(t50s)
    if len(files) >= 2:
        if np.ptp(np.log(l0s)) < 0.05:
            raise AnalysisError("lifetime: the runs share one initial luminance (within 5 %); the "
                                "acceleration factor n needs runs at different L0")
        fit = acceleration_fit(np.array(l0s), np.array(t50s))
        extrapolated = any("extrapolated" in f["metrics"]["t50"].get("flags", []) for f in result.per_file)
        flags = ("from_extrapolated_t50",) if extrapolated else ()
        result.metrics["lifetime_acceleration_n"] = Metric(
            "lifetime_acceleration_n", fit["n"], "", uncertainty=fit["n_sigma"], flags=flags,
            extra={"model": "L0^n * T50 = C", "ln_c": fit["ln_c"], "runs": len(files)})
        result.metrics["t50_at_100_cd"] = Metric(
            "t50_at_100_cd", fit["t50_at_100_h"], "h", uncertainty=fit["t50_at_100_sigma_h"],
            flags=("extrapolated",) + flags, extra={"reference_luminance_cd_m2": REFERENCE_LUMINANCE_CD_M2})
        grid = np.geomspace(min(min(l0s), REFERENCE_LUMINANCE_CD_M2), max(l0s), 50)
        result.arrays["fit_initial_luminance_cd_m2"] = grid
        result.arrays["fit_t50_h"] = np.exp(fit["ln_c"] - fit["n"] * np.log(grid))
    result.parameters["files"] = [f["file"] for f in result.per_file]
    return result


register_analysis(AnalysisSpec(
    kind="lifetime",
    method="led.lifetime",
    version=METHOD_VERSION,
    func=analyse_lifetime,
    roles=(Role("files", ("lifetime",), many=True,
                help="luminance vs time at constant current; several runs at different L0 for n"),),
    description="T95/T90/T70/T50, and across runs the acceleration factor n and T50 at 100 cd/m²",
))
