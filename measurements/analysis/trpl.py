"""TRPL: multi-exponential fit of a TCSPC decay (kind ``trpl``, method ``trpl.multiexp``).

Model, from the peak channel on (tail fit; the instrument response is not deconvolved, so
components much shorter than the IRF are not trustworthy):

    counts(t) = b + Σᵢ aᵢ·exp(−(t − t_peak)/τᵢ)

with the background ``b`` fixed (mean of the pre-trigger channels, or the ``background_counts``
parameter). The fit is Poisson maximum likelihood — it minimises the Poisson deviance
2·Σ[y·ln(y/m) − (y − m)] (Baker & Cousins, NIM 221 (1984) 437), which stays correct for the
sparse, zero-filled channels of long TCSPC windows where χ² weighting is biased.

The number of components (1–3) is chosen by the Bayesian information criterion
BIC = deviance + k·ln(n) (Schwarz 1978), unless ``n_exp`` fixes it. BIC rather than AIC because
decays have thousands of channels, where AIC keeps adding components that fit noise. A model is
also rejected when a component has a non-positive amplitude or two lifetimes closer than 1.5×.

Metrics (ns): ``tau_1`` < ``tau_2`` < ``tau_3`` (amplitude at the peak, amplitude and intensity
fractions and standard errors in ``extra``), ``tau_avg`` = Σaᵢτᵢ²/Σaᵢτᵢ (intensity-weighted).
Arrays: ``time_ns``, ``counts``, ``net_counts`` (background-subtracted), ``fit_counts``,
``residuals_weighted`` ((y − m)/√m, Pearson) over the fit window.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from scipy.optimize import minimize

from .base import AnalysisError, AnalysisResult, analyse_samples, unit_warnings
from .registry import AnalysisSpec, Param, Role, register_analysis

METHOD, VERSION = "trpl.multiexp", "1.0"
MIN_NET_COUNTS = 100  # below this there is no decay worth fitting


def _deviance_residuals(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    # sign(y−m)·√(2[y ln(y/m) − (y−m)]); Σ r² is the Poisson deviance.
    m = np.maximum(m, 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / m), 0.0) - (y - m)
    return np.sign(y - m) * np.sqrt(np.maximum(2.0 * term, 0.0))


def _model(p: np.ndarray, t: np.ndarray, n: int) -> np.ndarray:
    # p = [ln a₁…ln aₙ, ln τ₁…ln τₙ, ln b]: log parameters keep everything positive.
    a, tau, bg = np.exp(p[:n]), np.exp(p[n:2 * n]), np.exp(p[2 * n])
    return bg + (a[None, :] * np.exp(-t[:, None] / tau[None, :])).sum(axis=1)


# Channels per bin grow with the distance from the peak: width = max(1, i // BIN_REL), i.e. each
# bin spans ≤ 1/BIN_REL (≈ 1.6 %) of its delay. The first BIN_REL channels stay single.
BIN_REL = 64


def _log_bins(size: int) -> np.ndarray:
    """Start indices of quasi-logarithmic bins over ``size`` channels (the search pass)."""
    starts, i = [], 0
    while i < size:
        starts.append(i)
        i += max(1, i // BIN_REL)
    return np.asarray(starts)


class _Decay:
    """Counts over the fit window, optionally merged into bins, and the Poisson deviance of the
    model b + Σ aᵢ exp(−t/τᵢ) with its analytic gradient in the log parameters.

    Merging is statistically exact: a sum of Poisson counts is Poisson, and the model is summed
    exactly over each bin's channels, Σ_{j<w} exp(−(tₛ + j·dt)/τ) = exp(−tₛ/τ)·(1 − e^{−w·dt/τ})/(1 − e^{−dt/τ})."""

    def __init__(self, t: np.ndarray, y: np.ndarray, dt: float, starts: np.ndarray | None = None):
        if starts is None:
            self.t, self.y, self.w = t, y, None
        else:
            self.t, self.y = t[starts], np.add.reduceat(y, starts)
            self.w = np.diff(np.r_[starts, y.size]).astype(float)[:, None]
        self.dt = dt
        with np.errstate(divide="ignore", invalid="ignore"):
            self.ylny = np.where(self.y > 0, self.y * np.log(self.y), 0.0)

    def basis(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-bin sums of exp(−t/τᵢ) and their derivatives with respect to ln τᵢ."""
        x = self.t[:, None] / tau[None, :]
        e = np.exp(-x)
        if self.w is None:
            return e, e * x
        u = self.dt / tau[None, :]
        num, den = -np.expm1(-self.w * u), -np.expm1(-u)  # expm1: no cancellation for τ ≫ dt
        g = num / den
        dg = u * (num * np.exp(-u) - self.w * np.exp(-self.w * u) * den) / den**2
        return e * g, e * (x * g + dg)

    def model(self, p: np.ndarray, n: int) -> np.ndarray:
        a, tau, bg = np.exp(p[:n]), np.exp(p[n:2 * n]), np.exp(p[2 * n])
        s, _ = self.basis(tau)
        return bg * (1.0 if self.w is None else self.w[:, 0]) + (s * a).sum(axis=1)

    def deviance_and_grad(self, p: np.ndarray, n: int) -> tuple[float, np.ndarray]:
        a, tau, bg = np.exp(p[:n]), np.exp(p[n:2 * n]), np.exp(p[2 * n])
        s, ds = self.basis(tau)
        bgw = bg * (1.0 if self.w is None else self.w[:, 0])
        # Element-wise products and sums rather than BLAS matmuls: with a tall, 1–3 column matrix a
        # threaded BLAS call costs more in waking (and spinning) threads than the arithmetic.
        m = np.maximum(bgw + (s * a).sum(axis=1), 1e-12)
        dev = 2.0 * float(np.sum(self.ylny - self.y * np.log(m) - (self.y - m)))
        g = 2.0 * (1.0 - self.y / m)  # ∂deviance/∂m
        grad = np.concatenate(((g[:, None] * s).sum(axis=0) * a, (g[:, None] * ds).sum(axis=0) * a, [np.sum(g * bgw)]))
        return dev, grad

    def newton_terms(self, p: np.ndarray, n: int) -> tuple[float, np.ndarray, np.ndarray]:
        """Deviance, gradient and exact Hessian in the log parameters, unbinned channels only.

        With mᵢ = aᵢ·exp(−xᵢ), xᵢ = t/τᵢ: ∂m/∂ln aᵢ = mᵢ, ∂m/∂ln τᵢ = mᵢxᵢ, ∂²m/∂ln τᵢ² = mᵢ(xᵢ² − xᵢ),
        ∂²m/∂ln aᵢ∂ln τᵢ = mᵢxᵢ; H = Σ 2y/m²·∂m∂mᵀ + Σ 2(1 − y/m)·∂²m."""
        a, tau, bg = np.exp(p[:n]), np.exp(p[n:2 * n]), np.exp(p[2 * n])
        x = self.t[:, None] / tau[None, :]
        mi = np.exp(-x) * a
        mx = mi * x
        m = np.maximum(bg + mi.sum(axis=1), 1e-12)
        dev = 2.0 * float(np.sum(self.ylny - self.y * np.log(m) - (self.y - m)))
        g = 2.0 * (1.0 - self.y / m)
        jac = np.c_[mi, mx, np.full(m.size, bg)]
        grad = g @ jac
        hess = (jac * (2.0 * self.y / m**2)[:, None]).T @ jac
        second = g @ np.c_[mi, mx, mx * x - mx]  # Σ g·∂²m for (a, a), (a, τ), (τ, τ) of each component
        idx = np.arange(n)
        hess[idx, idx] += second[:n]
        hess[idx, n + idx] += second[n:2 * n]
        hess[n + idx, idx] += second[n:2 * n]
        hess[n + idx, n + idx] += second[2 * n:]
        hess[2 * n, 2 * n] += grad[2 * n]
        return dev, grad, hess


class _PreTrigger:
    """Pre-trigger channels, where the model is b: their deviance 2Σ[y ln(y/b) − (y − b)] depends
    on the counts only through Σ y ln y, Σ y and their number (summed once, not per evaluation)."""

    def __init__(self, y_pre: np.ndarray):
        positive = y_pre[y_pre > 0]
        self.size, self.total = int(y_pre.size), float(y_pre.sum())
        self.ylny = float(np.sum(positive * np.log(positive)))

    def deviance_and_grad(self, ln_b: float) -> tuple[float, float]:
        b = max(np.exp(ln_b), 1e-12)
        dev = 2.0 * (self.ylny - self.total * np.log(b) - self.total + self.size * b)
        return dev, 2.0 * (self.size * b - self.total)


def _minimise(decay: _Decay, pre: _PreTrigger, q0: np.ndarray, bounds, n: int, bg_free: bool, ln_bg: float,
              ftol: float = 1e-14):
    """L-BFGS-B on the Poisson deviance with its exact gradient (log parameters, box bounds)."""

    def objective(q: np.ndarray) -> tuple[float, np.ndarray]:
        p = q if bg_free else np.append(q, ln_bg)
        dev, grad = decay.deviance_and_grad(p, n)
        if not bg_free:
            return dev, grad[:2 * n]
        if pre.size:
            dev_pre, grad_pre = pre.deviance_and_grad(p[2 * n])
            dev += dev_pre
            grad[2 * n] += grad_pre
        return dev, grad

    with np.errstate(over="ignore", invalid="ignore"):
        sol = minimize(objective, q0, jac=True, method="L-BFGS-B", bounds=bounds,
                       options={"maxiter": 3000, "ftol": ftol, "gtol": 1e-9})
    sol.objective = objective
    return sol


def _polish(decay: _Decay, pre: _PreTrigger, q0: np.ndarray, bounds, n: int, bg_free: bool, ln_bg: float):
    """Refine a start already near the optimum on the full channels by Newton's method on the
    exact Hessian (step halving, Levenberg damping if it is not positive definite): from the binned
    optimum 2–5 steps reach what L-BFGS-B needed 20–40 passes over all channels for. Falls back to
    L-BFGS-B if it does not converge."""
    lower, upper = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
    k = 2 * n + int(bg_free)

    def terms(q):
        p = q if bg_free else np.r_[q, ln_bg]
        dev, grad, hess = decay.newton_terms(p, n)
        if bg_free and pre.size:
            dev_pre, grad_pre = pre.deviance_and_grad(p[2 * n])
            dev += dev_pre
            grad[2 * n] += grad_pre
            hess[2 * n, 2 * n] += 2.0 * pre.size * np.exp(p[2 * n])  # d²/d(ln b)² of 2Σ(b − y ln b)
        return dev, grad[:k], hess[:k, :k]

    q = np.asarray(q0, float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        dev, grad, hess = terms(q)
        for _ in range(20):
            damping = 0.0
            for _attempt in range(8):
                try:
                    chol = np.linalg.cholesky(hess + damping * np.diag(np.diag(hess) + 1e-12))
                    break
                except np.linalg.LinAlgError:
                    damping = max(1e-6, damping * 10)
            else:
                break
            step = np.linalg.solve(chol.T, np.linalg.solve(chol, grad))
            decrement = float(grad @ step)  # ≈ 2 × the predicted decrease of the deviance
            for _halving in range(12):
                trial = q - step
                if np.all(trial >= lower) and np.all(trial <= upper):
                    dev_t, grad_t, hess_t = terms(trial)
                    if np.isfinite(dev_t) and dev_t <= dev + 1e-9 * max(1.0, abs(dev)):
                        break
                step = step / 2
            else:
                break
            q, dev, grad, hess = trial, dev_t, grad_t, hess_t
            # Quadratic convergence: after a step predicted to gain < 1e-7, the next would gain ~1e-14.
            if decrement < 1e-7:
                return SimpleNamespace(x=q, fun=dev, nfev=0, success=True)
    # Degenerate fits (two equal lifetimes, a vanishing component) have a singular Hessian.
    return _minimise(decay, pre, np.asarray(q0, float), bounds, n, bg_free, ln_bg)


def _residual_jacobian(t: np.ndarray, y: np.ndarray, y_pre: np.ndarray, p: np.ndarray, n: int,
                       bg_free: bool) -> np.ndarray:
    """Jacobian of the deviance residuals (decay, and pre-trigger when b is fitted) in the log
    parameters: ∂r/∂m = −|y − m|/(m·|r|), → −1/√m where y = m."""
    a, tau, bg = np.exp(p[:n]), np.exp(p[n:2 * n]), np.exp(p[2 * n])
    x = t[:, None] / tau[None, :]
    e = np.exp(-x)
    dm = np.c_[e * a, e * x * a, np.full(t.size, bg)]
    y_all, m = y, _model(p, t, n)
    if bg_free and y_pre.size:
        dm = np.r_[np.c_[np.zeros((y_pre.size, 2 * n)), np.full(y_pre.size, bg)], dm]
        y_all, m = np.r_[y_pre, y], np.r_[np.full(y_pre.size, bg), m]
    m = np.maximum(m, 1e-12)
    r = np.abs(_deviance_residuals(y_all, m))
    with np.errstate(divide="ignore", invalid="ignore"):
        drdm = np.where(r > 1e-8, -np.abs(y_all - m) / (m * r), -1.0 / np.sqrt(m))
    jac = drdm[:, None] * dm
    return jac if bg_free else jac[:, :2 * n]


def _starts(binned: _Decay, bg: float, n: int, dt: float, span: float, peak: float,
            previous: dict | None) -> tuple[list, list]:
    """Starting amplitudes and lifetimes. One exponential: the slope of ln(net counts) against time
    over the bins that carry signal (a weighted straight line), and one log-spaced guess. More: the
    previous (n − 1)-exponential optimum with the new component added faster and slower than the
    ones it has, and one log-spaced set in reserve (sums of exponentials have local minima): the
    reserve is tried only when the two nested starts disagree. Returns (starts, reserve)."""
    grid = np.geomspace(max(dt, span * 1e-3), span / 2, 6)
    spread = np.geomspace(grid[1], grid[min(1 + n + 1, 5)], n) if n > 1 else np.array([grid[2]])
    starts = [(np.full(n, peak / n), spread)]
    if n == 1:
        w = np.ones(binned.y.size) if binned.w is None else binned.w[:, 0]
        net = binned.y / w - bg
        signal = net > np.maximum(3.0 * np.sqrt(max(bg, 1.0) / w), 1.0)
        if signal.sum() >= 3:
            tt, ln_net = binned.t[signal], np.log(net[signal])
            slope, intercept = np.polyfit(tt, ln_net, 1, w=np.sqrt(net[signal] * w[signal]))
            if slope < 0:
                starts.insert(0, (np.array([np.exp(intercept)]), np.array([min(-1.0 / slope, span)])))
        return starts, []
    if previous is None or previous["n"] != n - 1:
        # No nested optimum to grow from (n_exp fixed, or the smaller fit failed): five log-spaced sets.
        return [(np.full(n, peak / n), np.geomspace(grid[i], grid[min(i + n + 1, 5)], n)) for i in range(5)], []
    a, tau = previous["a"], previous["tau"]
    nested = []
    for new_tau in (max(tau[0] / 5, dt), min(tau[-1] * 5, span * 5)):
        order = np.argsort(np.r_[tau, new_tau])
        nested.append((np.r_[a, peak / n][order], np.r_[tau, new_tau][order]))
    return nested, starts


def _fit(t: np.ndarray, y: np.ndarray, y_pre: np.ndarray, bg: float, bg_free: bool, n: int,
         dt: float, previous: dict | None = None, screen: bool = False) -> dict | None:
    """Poisson ML fit of n exponentials. With ``bg_free`` the background is a parameter fitted
    jointly to the pre-trigger channels (model = b there) and the decay, so both inform it.

    The multi-start search runs on quasi-logarithmically binned counts (exact, see ``_Decay``;
    ~300–500 bins instead of up to 32k channels); the best start is then refined on the full,
    unbinned channels, so the reported fit, deviance and BIC are those of the channel data."""
    span = t[-1] - t[0]
    peak = max(float(y[:3].mean() - bg), 1.0)
    ln_bg = np.log(max(bg, 1e-6))
    full = _Decay(t, y, dt)
    pre = _PreTrigger(y_pre)
    binned = _Decay(t, y, dt, _log_bins(y.size)) if y.size > 2 * BIN_REL else full

    lower = np.r_[np.full(n, -20.0), np.full(n, np.log(dt * 0.05))]
    upper = np.r_[np.full(n, np.log(peak * 50)), np.full(n, np.log(span * 20))]
    if bg_free:
        lower, upper = np.r_[lower, -14.0], np.r_[upper, np.log(max(y.max(), 1.0))]
    bounds = list(zip(lower, upper, strict=True))
    best = None
    starts, reserve = _starts(binned, bg, n, dt, span, peak, previous)
    found = []
    for amps, taus in starts + reserve:
        if len(found) == len(starts) and reserve and max(found) - min(found) < 1e-7 * max(1.0, abs(min(found))):
            break  # the nested starts agree: no reserve needed
        q0 = np.r_[np.log(np.maximum(amps, 1e-6)), np.log(taus)]
        q0 = np.clip(q0, lower[:2 * n] + 1e-6, upper[:2 * n] - 1e-6)
        if bg_free:
            q0 = np.r_[q0, np.clip(ln_bg, lower[-1] + 1e-6, upper[-1] - 1e-6)]
        # The search only has to tell the starts apart; the polish on all channels sets the digits.
        sol = _minimise(binned, pre, q0, bounds, n, bg_free, ln_bg,
                        ftol=1e-14 if binned is full else 1e-11)
        found.append(float(sol.fun) if np.isfinite(sol.fun) else np.inf)
        if np.isfinite(sol.fun) and (best is None or sol.fun < best.fun):
            best = sol
    if best is None:
        return None
    if binned is not full and screen:
        # Binned and unbinned optima differ by ~1e-3 in the log parameters, so a fit that is not
        # resolved on the bins (two lifetimes closer than 1.5×, …) is not resolved on the channels:
        # reject it without a polish, which in such a flat valley takes hundreds of passes.
        p = best.x if bg_free else np.r_[best.x, ln_bg]
        order = np.argsort(p[n:2 * n])
        screened = {"n": n, "a": np.exp(p[:n])[order], "tau": np.exp(p[n:2 * n])[order]}
        why = _acceptable(screened, span, dt)
        if why:
            return {**screened, "rejected": why}
    if binned is not full:
        best = _polish(full, pre, best.x, bounds, n, bg_free, ln_bg)
        if not np.isfinite(best.fun):
            return None
    q = best.x
    p = q if bg_free else np.r_[q, ln_bg]
    order = np.argsort(p[n:2 * n])
    a, tau = np.exp(p[:n])[order], np.exp(p[n:2 * n])[order]
    deviance = float(best.fun)
    k = 2 * n + int(bg_free)
    n_points = y.size + (y_pre.size if bg_free else 0)
    return {"n": n, "a": a, "tau": tau, "p": p, "order": order, "bg": float(np.exp(p[2 * n])),
            "deviance": deviance, "bic": deviance + k * np.log(n_points),
            "model": _model(p, t, n)}


def _standard_errors(t: np.ndarray, y: np.ndarray, y_pre: np.ndarray, fit: dict, bg_free: bool):
    """Standard errors of a and τ from the Fisher information ≈ JᵀJ of the deviance residuals
    (log parameters); computed for the chosen fit only."""
    n, p, order = fit["n"], fit["p"], fit["order"]
    jac = _residual_jacobian(t, y, y_pre, p, n, bg_free)
    try:
        se_log = np.sqrt(np.clip(np.diag(np.linalg.inv(np.einsum("ij,ik->jk", jac, jac))), 0, None))
        return fit["a"] * se_log[:n][order], fit["tau"] * se_log[n:2 * n][order]
    except np.linalg.LinAlgError:
        return np.full(n, np.nan), np.full(n, np.nan)


def _acceptable(fit: dict, span: float, dt: float) -> str | None:
    tau = fit["tau"]
    if np.any(tau < dt * 0.5):
        return f"a lifetime {tau.min():.3g} ns is shorter than half a channel"
    if np.any(tau > span * 5):
        return f"a lifetime {tau.max():.3g} ns is far longer than the {span:.3g} ns window"
    if fit["n"] > 1 and np.any(tau[1:] / tau[:-1] < 1.5):
        return "two lifetimes are closer than 1.5×: the components are not resolved"
    if np.any(fit["a"] <= 0):
        return "a component has zero amplitude"
    return None


def background_and_window(time_ns: np.ndarray, counts: np.ndarray, background_counts: float | None):
    """Background (counts/channel), the fit window [i_peak, i_end) and the pre-trigger count."""
    i_peak = int(np.argmax(counts))
    # Pre-trigger: channels before the rising edge (first channel above half the peak).
    rise = int(np.argmax(counts >= 0.5 * counts[i_peak]))
    # Guard of 3× the rise width (≥ 3 channels) so the IRF's foot is not counted as background.
    guard = max(3, 3 * (i_peak - rise + 1))
    pre = counts[: max(rise - guard, 0)]
    if background_counts is not None:
        bg, source = float(background_counts), "parameter"
    elif pre.size >= 10:
        bg, source = float(pre.mean()), f"mean of {pre.size} pre-trigger channels"
    else:
        # No pre-trigger region: the last 5 % of the window (after the decay has died) instead.
        tail = counts[-max(counts.size // 20, 10):]
        bg, source = float(tail.mean()), f"mean of the last {tail.size} channels (no pre-trigger region)"
    # Trailing channels that are exactly zero hold no information (beyond the sync period).
    nonzero = np.nonzero(counts)[0]
    i_end = int(nonzero[-1]) + 1 if nonzero.size else counts.size
    return bg, source, i_peak, i_end, pre


def analyse_decay(time_ns: np.ndarray, counts: np.ndarray, *, n_exp: int | None = None,
                  background_counts: float | None = None) -> AnalysisResult:
    result = AnalysisResult(method=METHOD, version=VERSION)
    time_ns = np.asarray(time_ns, float)
    counts = np.asarray(counts, float)
    if counts.size < 20:
        raise AnalysisError(f"only {counts.size} channels: too few for a decay fit")
    if n_exp is not None and n_exp not in (1, 2, 3):
        raise AnalysisError(f"n_exp must be 1, 2 or 3, got {n_exp}")
    bg, bg_source, i_peak, i_end, y_pre = background_and_window(time_ns, counts, background_counts)
    # Background fitted jointly with the decay (seeded by the pre-trigger mean) unless given.
    bg_free = background_counts is None and y_pre.size >= 5
    if i_end - i_peak < 10:
        raise AnalysisError("the maximum is in the last channels: no decay after the peak to fit")
    t = time_ns[i_peak:i_end] - time_ns[i_peak]
    y = counts[i_peak:i_end]
    dt = float(np.median(np.diff(time_ns)))
    span = float(t[-1])
    net = float(np.sum(y - bg))
    # "All background": the counts after the peak are what a flat background would give.
    noise = np.sqrt(max(bg, 1.0) * y.size)
    if net < max(MIN_NET_COUNTS, 5 * noise):
        raise AnalysisError(f"no decay above background: {net:.0f} net counts after the peak against a "
                            f"background of {bg:.2f} counts/channel (noise ±{noise:.0f}); "
                            "check the excitation, the time window and the background setting")
    all_y = np.r_[y_pre, y] if bg_free else y
    flat_dev = float(np.sum(_deviance_residuals(all_y, np.full_like(all_y, all_y.mean() if bg_free else bg)) ** 2))

    fits, rejected = {}, {}
    previous = None
    for n in ([n_exp] if n_exp else [1, 2, 3]):
        fit = _fit(t, y, y_pre, bg, bg_free, n, dt, previous, screen=not n_exp)
        previous = fit
        if fit is None:
            rejected[n] = "did not converge"
            continue
        why = fit.get("rejected") or _acceptable(fit, span, dt)
        if why and not n_exp:
            rejected[n] = why
            continue
        if why:
            result.warnings.append(f"{n}-exponential fit: {why}")
        fits[n] = fit
    if not fits:
        raise AnalysisError("no exponential fit converged: " + "; ".join(f"{k}-exp: {v}" for k, v in rejected.items()))
    best = min(fits.values(), key=lambda f: f["bic"])
    # The decay must beat a flat background by more than the BIC price of its parameters.
    if flat_dev - best["deviance"] < 2 * best["n"] * np.log(all_y.size):
        raise AnalysisError("no decay above background: an exponential fits no better than a flat background")

    a, tau = best["a"], best["tau"]
    best["a_se"], best["tau_se"] = _standard_errors(t, y, y_pre, best, bg_free)
    intensity = a * tau  # ∫ aᵢ exp(−t/τᵢ) dt
    tau_avg = float(np.sum(a * tau**2) / np.sum(intensity))
    for i in range(best["n"]):
        result.add(f"tau_{i + 1}", tau[i], "ns",
                   uncertainty=None if not np.isfinite(best["tau_se"][i]) else float(best["tau_se"][i]),
                   extra={"amplitude_counts": float(a[i]), "amplitude_fraction": float(a[i] / a.sum()),
                          "intensity_fraction": float(intensity[i] / intensity.sum())})
    result.add("tau_avg", tau_avg, "ns", extra={
        "definition": "intensity-weighted Σaᵢτᵢ²/Σaᵢτᵢ",
        "n_exp": best["n"], "selection": "fixed by n_exp" if n_exp else "BIC",
        "bic": {str(n): float(f["bic"]) for n, f in fits.items()},
        "rejected": {str(k): v for k, v in rejected.items()},
        "reduced_deviance": float(best["deviance"] / max(y.size - 2 * best["n"], 1))})
    if bg_free:
        bg = best["bg"]
        bg_source = f"fitted jointly to {y_pre.size} pre-trigger channels and the decay"
    result.parameters = {"n_exp": n_exp, "background_counts": bg, "background_source": bg_source,
                         "fit_start_ns": float(time_ns[i_peak]), "fit_end_ns": float(time_ns[i_end - 1]),
                         "fit_channels": int(y.size), "pre_trigger_channels": int(y_pre.size)}
    model = best["model"]
    result.arrays = {"time_ns": time_ns, "counts": counts, "fit_time_ns": time_ns[i_peak:i_end],
                     "net_counts": y - bg, "fit_counts": model,
                     "residuals_weighted": (y - model) / np.sqrt(np.maximum(model, 1e-9))}
    return result


def trpl(inputs, params) -> AnalysisResult:
    files = inputs["files"]
    if len(files) != 1:
        raise AnalysisError(f"trpl analyses one decay at a time, got {len(files)} files")
    parsed = files[0]

    def one(decay) -> AnalysisResult:
        df = decay.data
        result = analyse_decay(df["time_ns"].to_numpy(), df["counts"].to_numpy(),
                               n_exp=params.get("n_exp"), background_counts=params.get("background_counts"))
        result.warnings[:0] = unit_warnings(decay, ("x",))
        result.per_file = [{"file": decay.source, "metrics": result.metrics_json()}]
        return result

    if parsed.samples:  # several decays in one file (Becker & Hickl blocks): one result each
        return analyse_samples(parsed, one, method=METHOD, version=VERSION)
    return one(parsed)


register_analysis(AnalysisSpec(
    kind="trpl", method=METHOD, version=VERSION, func=trpl,
    roles=(Role("files", shapes=("decay",), help="TCSPC decay: PicoQuant histogram export or time/counts text"),),
    params=(Param("n_exp", int, None, help="number of exponentials 1–3; default: chosen by BIC"),
            Param("background_counts", float, None, help="background counts per channel; default: pre-trigger mean")),
    description="TCSPC decay: Poisson maximum-likelihood fit of 1–3 exponentials, intensity-weighted τ_avg",
))
