"""What to try next: a batch of runs proposed by Bayesian optimisation.

    suggest(history, space, target, n, maximize=True, seed=None) -> DataFrame

``history``: one row per past run (or device) with a column per parameter of ``space`` and the
``target`` column (NaN targets are ignored). ``space``: a list of ``{"name", "low", "high"}``
(a continuous range), ``{"name", "choices"}`` (categorical) or ``{"name", "value"}`` (fixed;
``low == high`` and a single choice are fixed too). Result: ``n`` rows, the parameter columns in
``space`` order plus ``predicted`` (the surrogate's mean of the target there) and ``predicted_std``
(its standard deviation: the uncertainty of that mean, measurement noise excluded). Warnings, the
fitted kernel and the incumbent go in ``result.attrs``.

Method
------
- Surrogate: scikit-learn's ``GaussianProcessRegressor``, kernel C·Matérn(ν = 5/2, one length
  scale per input) + white noise, hyper-parameters by maximum marginal likelihood (2 restarts).
  Continuous inputs are scaled to [0, 1] by their range; categorical ones are one-hot; a fixed
  parameter stays an input when the history varies it (its effect is learnt) but is not searched.
  The target is standardised by the history's mean and standard deviation.
- Acquisition: expected improvement over the best posterior mean at a past point (the noisy-EI
  "plug-in" incumbent), maximised over 2048 Sobol candidates (categoricals drawn at random, all
  combinations when there are few) and polished by L-BFGS-B from the best three.
- Batch: kriging believer (Ginsbourger, Le Riche & Carraro 2010): after each pick, the surrogate
  is told that the pick gave its predicted mean and refitted with the same kernel, so the next
  pick goes where the first did not already reduce the uncertainty. ``predicted`` and
  ``predicted_std`` are the first surrogate's, not the believer's.
- With fewer than two usable past runs there is nothing to learn from: the batch is a Latin
  hypercube over the space (``predicted`` NaN, with a warning).

Why scikit-learn rather than BoTorch/Ax/BayBE: BoTorch needs PyTorch (≈ 700 MB installed,
several times the whole application) for a 2–6-dimensional problem with tens to hundreds of
points, where an exact GP in scikit-learn fits in milliseconds; scikit-learn is small, pure
CPU, and its GP is the maintained reference implementation. The batch heuristic is ten lines on
top of it.
"""

from __future__ import annotations

import itertools
import math
import warnings as _warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

N_CANDIDATES = 2048
N_POLISH = 3
MAX_ENUMERATED_COMBINATIONS = 32


@dataclass
class Dim:
    name: str
    kind: str  # "continuous" | "categorical" | "fixed"
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    value: object = None


def parse_space(space: list[dict]) -> list[Dim]:
    dims: list[Dim] = []
    seen = set()
    for k, item in enumerate(space):
        name = item.get("name")
        if not name:
            raise ValueError(f"space item {k + 1} has no name")
        if name in seen:
            raise ValueError(f"{name!r} appears twice in the space")
        seen.add(name)
        if "value" in item:
            dims.append(Dim(name, "fixed", value=item["value"]))
        elif "choices" in item:
            choices = tuple(item["choices"])
            if not choices:
                raise ValueError(f"{name}: no choices")
            dims.append(Dim(name, "fixed", value=choices[0]) if len(choices) == 1 else
                        Dim(name, "categorical", choices=choices))
        elif "low" in item and "high" in item:
            low, high = float(item["low"]), float(item["high"])
            if not (math.isfinite(low) and math.isfinite(high)):
                raise ValueError(f"{name}: the range must be finite numbers")
            if low > high:
                raise ValueError(f"{name}: low {low:g} is above high {high:g}")
            dims.append(Dim(name, "fixed", value=low) if low == high else Dim(name, "continuous", low=low, high=high))
        else:
            raise ValueError(f"{name}: give low and high, choices, or value")
    if not any(d.kind != "fixed" for d in dims):
        raise ValueError("every parameter of the space is fixed: nothing to choose")
    return dims


class _Encoder:
    """Parameters ↔ the GP's inputs: a range scaled to [0, 1], or one-hot levels."""

    def __init__(self, dims: list[Dim], history: pd.DataFrame):
        self.inputs: list[tuple[str, str, tuple]] = []  # (name, "range" | "levels", (lo, hi) | levels)
        self.column: dict[str, int] = {}  # a range input's column in the encoded array
        for d in dims:
            if d.kind == "continuous":
                self.inputs.append((d.name, "range", (d.low, d.high)))
            elif d.kind == "categorical":
                self.inputs.append((d.name, "levels", d.choices))
            elif d.name in history.columns and history[d.name].nunique() > 1:
                # Fixed now, varied in the past: an input, so its effect is learnt, but not searched.
                numeric = pd.to_numeric(history[d.name], errors="coerce")
                if isinstance(d.value, int | float) and numeric.notna().all():
                    lo, hi = float(min(numeric.min(), d.value)), float(max(numeric.max(), d.value))
                    self.inputs.append((d.name, "range", (lo, hi)))
                else:
                    levels = tuple(sorted(set(history[d.name].dropna().astype(str)) | {str(d.value)}))
                    self.inputs.append((d.name, "levels", levels))
        offset = 0
        for name, kind, scaling in self.inputs:
            if kind == "range":
                self.column[name] = offset
            offset += 1 if kind == "range" else len(scaling)

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        blocks = []
        for name, kind, scaling in self.inputs:
            if kind == "range":
                lo, hi = scaling
                blocks.append(((pd.to_numeric(frame[name], errors="coerce").to_numpy(float) - lo) / (hi - lo))[:, None])
            else:
                values = frame[name].astype(str).to_numpy()
                blocks.append(np.column_stack([values == str(level) for level in scaling]).astype(float))
        return np.hstack(blocks) if blocks else np.zeros((len(frame), 0))


def _gp(seed: int | None):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    return GaussianProcessRegressor(
        kernel=ConstantKernel(1.0, (1e-2, 1e2)) * Matern(length_scale=0.5, length_scale_bounds=(1e-2, 1e2), nu=2.5)
        + WhiteKernel(0.1, (1e-6, 1.0)),
        normalize_y=False, n_restarts_optimizer=2, random_state=seed)


def _with_ard(gp, width: int):
    """One length scale per input (automatic relevance determination)."""
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    gp.kernel = (ConstantKernel(1.0, (1e-2, 1e2)) * Matern(length_scale=np.full(width, 0.5), length_scale_bounds=(1e-2, 1e2), nu=2.5)
                 + WhiteKernel(0.1, (1e-6, 1.0)))
    return gp


def _noise_level(kernel) -> float:
    from sklearn.gaussian_process.kernels import WhiteKernel

    for k in (kernel.k1, kernel.k2) if hasattr(kernel, "k2") else (kernel,):
        if isinstance(k, WhiteKernel):
            return float(k.noise_level)
    return 0.0


def expected_improvement(mu: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.01) -> np.ndarray:
    sigma = np.maximum(sigma, 1e-12)
    z = (mu - best - xi) / sigma
    return (mu - best - xi) * stats.norm.cdf(z) + sigma * stats.norm.pdf(z)


def _latent(gp, x: np.ndarray, noise: float) -> tuple[np.ndarray, np.ndarray]:
    mu, sd = gp.predict(x, return_std=True)
    return mu, np.sqrt(np.maximum(sd * sd - noise, 0.0))


def _candidate_frames(dims: list[Dim], rng: np.random.Generator, count: int) -> pd.DataFrame:
    from scipy.stats import qmc

    continuous = [d for d in dims if d.kind == "continuous"]
    categorical = [d for d in dims if d.kind == "categorical"]
    columns: dict[str, object] = {}
    if continuous:
        u = qmc.Sobol(d=len(continuous), scramble=True, rng=rng).random(count)
        for j, d in enumerate(continuous):
            columns[d.name] = d.low + u[:, j] * (d.high - d.low)
    combos = list(itertools.product(*[d.choices for d in categorical])) if categorical else [()]
    if categorical:
        if len(combos) <= MAX_ENUMERATED_COMBINATIONS:
            picks = [combos[i % len(combos)] for i in range(count)]
        else:
            picks = [tuple(d.choices[rng.integers(len(d.choices))] for d in categorical) for _ in range(count)]
        for j, d in enumerate(categorical):
            columns[d.name] = [p[j] for p in picks]
    for d in dims:
        if d.kind == "fixed":
            columns[d.name] = [d.value] * count
    return pd.DataFrame(columns)[[d.name for d in dims]]


def _initial_design(dims: list[Dim], n: int, rng: np.random.Generator) -> pd.DataFrame:
    from scipy.stats import qmc

    continuous = [d for d in dims if d.kind == "continuous"]
    columns: dict[str, object] = {}
    if continuous:
        u = qmc.LatinHypercube(d=len(continuous), rng=rng).random(n)
        for j, d in enumerate(continuous):
            columns[d.name] = d.low + u[:, j] * (d.high - d.low)
    for d in dims:
        if d.kind == "categorical":
            columns[d.name] = [d.choices[i] for i in rng.permutation(np.arange(n) % len(d.choices))]
        elif d.kind == "fixed":
            columns[d.name] = [d.value] * n
    return pd.DataFrame(columns)[[d.name for d in dims]]


def _polish(x0: np.ndarray, columns: list[int], objective, step: float = 1e-4) -> np.ndarray:
    """L-BFGS-B over the encoded continuous ``columns`` of ``x0`` (each in [0, 1]), the rest held;
    the forward-difference gradient is one vectorised call of ``objective`` (d + 1 rows)."""
    if not columns:
        return x0
    k = len(columns)

    def f_and_grad(u):
        x = np.repeat(x0[None, :], k + 1, axis=0)
        x[:, columns] = u
        h = np.where(u + step <= 1.0, step, -step)  # stay inside the box
        x[np.arange(1, k + 1), columns] += h
        values = -objective(x)
        return float(values[0]), (values[1:] - values[0]) / h

    start = x0[columns]
    result = optimize.minimize(f_and_grad, start, jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * k,
                               options={"maxiter": 40})
    best = x0.copy()
    if np.isfinite(result.fun) and result.fun <= f_and_grad(start)[0]:
        best[columns] = np.clip(result.x, 0.0, 1.0)
    return best


@dataclass
class _Surrogate:
    """The fitted GP and everything needed to predict the target at new parameter rows."""

    gp: object
    encoder: _Encoder
    x: np.ndarray
    y_n: np.ndarray
    y_mean: float
    y_sd: float
    sign: float
    noise: float
    seed: int

    def latent(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) in the target's units (std without the measurement noise)."""
        mu, sd = _latent(self.gp, self.encoder.encode(frame), self.noise)
        return self.sign * (mu * self.y_sd + self.y_mean), sd * self.y_sd


def _usable_rows(history: pd.DataFrame, dims: list[Dim], target: str) -> tuple[pd.DataFrame, list[str]]:
    warnings: list[str] = []
    if target not in history.columns:
        raise ValueError(f"the history has no column {target!r} (the target)")
    missing = [d.name for d in dims if d.kind != "fixed" and d.name not in history.columns]
    if missing:
        raise ValueError(f"the history has no column for {', '.join(map(repr, missing))}; every parameter searched "
                         "needs one (NaN where a run did not record it)")
    rows = history[pd.to_numeric(history[target], errors="coerce").notna()].copy()
    for d in dims:
        if d.kind == "continuous":
            numeric = pd.to_numeric(rows[d.name], errors="coerce")
            if numeric.isna().any():
                warnings.append(f"{int(numeric.isna().sum())} past run(s) without a value for {d.name} left out")
            outside = int(((numeric < d.low) | (numeric > d.high)).sum())
            if outside:
                warnings.append(f"{outside} past run(s) with {d.name} outside {d.low:g}–{d.high:g}: they inform "
                                "the model, no proposal goes there")
            rows = rows[numeric.notna()]
        elif d.kind == "categorical":
            unknown = ~rows[d.name].isin(d.choices)
            if unknown.any():
                warnings.append(f"{int(unknown.sum())} past run(s) with a {d.name} not among the choices "
                                f"({', '.join(sorted(set(map(str, rows.loc[unknown, d.name]))))})")
        elif d.name not in rows.columns:
            rows[d.name] = d.value
    return rows, warnings


def _fit(rows: pd.DataFrame, dims: list[Dim], target: str, maximize: bool, seed_int: int) -> _Surrogate:
    sign = 1.0 if maximize else -1.0
    y = sign * pd.to_numeric(rows[target]).to_numpy(float)
    y_mean, y_sd = float(y.mean()), float(y.std()) or 1.0
    y_n = (y - y_mean) / y_sd
    encoder = _Encoder(dims, rows)
    x = encoder.encode(rows)
    gp = _with_ard(_gp(seed_int), x.shape[1])
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # ConvergenceWarning at a bound: the kernel is reported in attrs
        gp.fit(x, y_n)
    return _Surrogate(gp, encoder, x, y_n, y_mean, y_sd, sign, _noise_level(gp.kernel_), seed_int)


def suggest(history: pd.DataFrame, space: list[dict], target: str, n: int, maximize: bool = True,
            seed: int | None = None) -> pd.DataFrame:
    """Propose ``n`` runs (module docstring)."""
    from threadpoolctl import threadpool_limits

    # Matrices of a few hundred rows: one BLAS thread is faster than two spinning on a busy box.
    with threadpool_limits(limits=1, user_api="blas"):
        return _suggest(history, space, target, n, maximize, seed)


def predict(history: pd.DataFrame, space: list[dict], target: str, points: pd.DataFrame,
            seed: int | None = None) -> pd.DataFrame:
    """The surrogate's mean and standard deviation of ``target`` at ``points`` (same GP as
    ``suggest``): e.g. the EQE and T50 expected at proposals chosen for a weighted objective."""
    from threadpoolctl import threadpool_limits

    dims = parse_space(space)
    rows, warnings = _usable_rows(history, dims, target)
    out = pd.DataFrame(index=points.index)
    if len(rows) < 2:
        out["predicted"], out["predicted_std"] = np.nan, np.nan
        out.attrs["warnings"] = [*warnings, f"only {len(rows)} past run(s) with {target}: no prediction"]
        return out
    with threadpool_limits(limits=1, user_api="blas"):
        model = _fit(rows, dims, target, True, int(np.random.default_rng(seed).integers(2**31 - 1)))
        frame = points.copy()
        for d in dims:
            if d.name not in frame.columns:
                frame[d.name] = d.value
        out["predicted"], out["predicted_std"] = model.latent(frame)
    out.attrs["warnings"] = warnings
    return out


def _suggest(history: pd.DataFrame, space: list[dict], target: str, n: int, maximize: bool,
             seed: int | None) -> pd.DataFrame:
    if n < 1:
        raise ValueError("n must be at least 1")
    dims = parse_space(space)
    rng = np.random.default_rng(seed)
    rows, warnings = _usable_rows(history, dims, target)
    if len(rows) < 2:
        warnings.append(f"only {len(rows)} past run(s) with {target}: a space-filling first batch, no predictions")
        out = _initial_design(dims, n, rng)
        out["predicted"] = np.nan
        out["predicted_std"] = np.nan
        out.attrs.update({"warnings": warnings, "n_history": len(rows), "method": "Latin hypercube (no history)"})
        return out
    model = _fit(rows, dims, target, maximize, int(rng.integers(2**31 - 1)))
    gp, encoder, x, y_n, noise, seed_int = model.gp, model.encoder, model.x, model.y_n, model.noise, model.seed
    if len(rows) < 2 * x.shape[1]:
        warnings.append(f"{len(rows)} past runs for {x.shape[1]} model inputs: the surrogate is rough, "
                        "expect the uncertainty to be large")
    incumbent = float(gp.predict(x).max())
    candidates = _candidate_frames(dims, rng, N_CANDIDATES)
    x_cand = encoder.encode(candidates)
    continuous = [d for d in dims if d.kind == "continuous"]
    columns = [encoder.column[d.name] for d in continuous]
    believer, best_so_far = gp, incumbent
    x_aug, y_aug = x, y_n
    picks: list[tuple[int, np.ndarray]] = []  # (candidate row, encoded pick)
    for _ in range(n):
        def acquisition(xs, model=believer, best=best_so_far):
            mu, sd = _latent(model, xs, noise)
            return expected_improvement(mu, sd, best)

        scores = acquisition(x_cand)
        top = np.argsort(scores)[::-1][:N_POLISH]
        polished = [(int(i), _polish(x_cand[i].copy(), columns, acquisition)) for i in top]
        i_best, x_pick = max(polished, key=lambda item: float(acquisition(item[1][None, :])[0]))
        picks.append((i_best, x_pick))
        # Kriging believer: the pick is taken to return its predicted mean (which may become the
        # incumbent); same kernel, only the data change.
        mu_pick = believer.predict(x_pick[None, :])
        x_aug, y_aug = np.vstack([x_aug, x_pick]), np.concatenate([y_aug, mu_pick])
        best_so_far = max(best_so_far, float(mu_pick[0]))
        believer = _gp(seed_int)
        believer.kernel, believer.optimizer = gp.kernel_, None
        believer.fit(x_aug, y_aug)
    out = candidates.iloc[[i for i, _ in picks]].reset_index(drop=True).copy()
    for d in continuous:
        u = np.array([x_pick[encoder.column[d.name]] for _, x_pick in picks])
        out[d.name] = np.clip(d.low + u * (d.high - d.low), d.low, d.high)
    out["predicted"], out["predicted_std"] = model.latent(out)
    out.attrs.update({"warnings": warnings, "n_history": len(rows), "kernel": str(gp.kernel_),
                      "incumbent": model.sign * (incumbent * model.y_sd + model.y_mean),
                      "noise_std": math.sqrt(noise) * model.y_sd,
                      "method": "GP (scikit-learn) + expected improvement, kriging-believer batch"})
    return out


def weighted_objective(history: pd.DataFrame, weights: dict[str, float], *, log: tuple[str, ...] = ()) -> pd.Series:
    """A weighted sum of standardised metrics (z-scores over the rows that have them all), for a
    "maximise EQE and T50" objective; metrics in ``log`` are log-transformed first (T50 is
    log-normal). NaN where any metric is missing."""
    parts = []
    for name, weight in weights.items():
        if name not in history.columns:
            raise ValueError(f"the history has no column {name!r}")
        v = pd.to_numeric(history[name], errors="coerce")
        if name in log:
            v = np.log(v.where(v > 0))
        parts.append((v, weight))
    complete = pd.concat([v for v, _ in parts], axis=1).notna().all(axis=1)
    total = pd.Series(0.0, index=history.index)
    for v, weight in parts:
        sd = v[complete].std()
        total += weight * (v - v[complete].mean()) / (sd if sd and sd > 0 else 1.0)
    return total.where(complete)
