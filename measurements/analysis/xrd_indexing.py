"""Powder indexing for the XRD analysis: cubic, tetragonal, orthorhombic, and the (0k0) layer
series of quasi-2D films. Pure numpy.

No maintained, pip-installable powder indexer fits here (checked: mlindex needs ~0.5 GB of model
weights from a hub; GSAS-II, cctbx and CrysFML are whole crystallographic suites). The problem is
small (a handful of lines, low-index cells), so this is a brute force over low hkl with a
least-squares cell and two explicit figures of merit:

* the largest 2θ misfit of any indexed line, against ``TWO_THETA_TOL_DEG`` (0.05° 2θ). Lab
  Bragg–Brentano positions are good to ~0.01° after fitting, and sample displacement / zero
  error move them by a few 0.01°; 0.05° keeps real cells and refuses the near-miss assignments
  that any cell with enough reflections can make. (The old tolerance, 8 % in h²+k²+l², let a
  non-cubic pattern "index" with 19 % misfit.)
* de Wolff's M(N) = Q_N / (2 ε̄ N_calc) (J. Appl. Cryst. 1 (1968) 108): Q = 1/d², Q_N of the last
  line used, ε̄ the mean |Q_obs − Q_calc|, N_calc the distinct reflections the cell allows up to
  Q_N (primitive lattice, no extinctions assumed — conservative). A cell is accepted only with
  M(N) ≥ ``MIN_DE_WOLFF_M`` (10, de Wolff's own line between plausible and chance; 20 for
  orthorhombic), every line indexed, no reflection used twice, enough lines (``MIN_LINES``), and
  for tetragonal/orthorhombic at least 40 % of the reflections the cell allows up to the last line
  observed (``MIN_OBSERVED_FRACTION``; body-centring counted when every hkl obeys it).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cache

import numpy as np

TWO_THETA_TOL_DEG = 0.05
MIN_DE_WOLFF_M = 10.0
MAX_LINES = 20  # de Wolff's M20 uses the first 20 lines
# Quasi-2D (Ruddlesden–Popper / Dion–Jacobson) perovskite layer spacings are 10–40 Å; a shorter
# "series" is a 3D cell's (h00) orders and belongs to the cell indexing.
MIN_LAYER_SPACING_A = 10.0
MAX_LAYER_SPACING_A = 60.0

SYSTEM_PARAMS = {"cubic": 1, "tetragonal": 2, "orthorhombic": 3}
# Lines needed before a cell of each system is tried: a free a/c ratio places a second family of
# reflections anywhere, so five lines (a layer stack's five orders) are "indexed" tetragonal by
# chance; three free axes fit a dozen.
MIN_LINES = {"cubic": 3, "tetragonal": 6, "orthorhombic": 12}
# de Wolff's M ≥ 10 line, raised to 20 for orthorhombic: with three free axes a dozen lines are
# indexed by chance cells at M 10–20 (the PANalytical example file does it at M = 18).
# A real tetragonal/orthorhombic pattern shows most of its low-angle reflections (rutile: 11 of 17);
# a chance cell with large free axes predicts several times the lines seen (one such "fits" eight
# rutile-like lines at M = 23 while predicting 40).
MIN_OBSERVED_FRACTION = 0.4
MIN_M = {"cubic": MIN_DE_WOLFF_M, "tetragonal": MIN_DE_WOLFF_M, "orthorhombic": 20.0}


@dataclass
class Indexing:
    system: str
    cell_a: dict[str, float]  # {"a": …, "c": …}
    hkl: list[tuple[int, int, int]]  # per observed line
    misfit_2theta_deg: list[float]  # obs − calc per line
    max_misfit_deg: float
    relative_misfit: float  # rms(ΔQ/Q)
    de_wolff_m: float
    n_calc: int
    cell_se_a: dict[str, float] = field(default_factory=dict)


@dataclass
class LayerSeries:
    spacing_a: float
    spacing_se_a: float | None
    orders: list[int]  # order k per line in the series (0 = not in it)
    lines_in_series: int
    max_misfit_deg: float


def _q_to_two_theta(q: np.ndarray, wavelength_a: float) -> np.ndarray:
    s = np.clip(wavelength_a * np.sqrt(np.maximum(q, 0)) / 2, 0, 1)
    return np.degrees(2 * np.arcsin(s))


@cache
def _rows(system: str, max_index: int) -> tuple[np.ndarray, np.ndarray]:
    """Design rows for Q = rows @ p (p = 1/a², [1/c²], [1/b²]) and one hkl per row.
    Rows that give the same Q for every cell of the system are merged (cubic 300/221 → N = 9).
    The same few tables for every pattern: built once, read-only."""
    seen: dict[tuple, tuple[int, int, int]] = {}
    for h, k, m in itertools.product(range(max_index, -1, -1), repeat=3):
        if h == k == m == 0:
            continue
        if system == "cubic":
            if not h >= k >= m:
                continue
            key = (h * h + k * k + m * m,)
        elif system == "tetragonal":
            if not h >= k:
                continue
            key = (h * h + k * k, m * m)
        else:
            key = (h * h, k * k, m * m)
        seen.setdefault(key, (h, k, m))
    keys = sorted(seen)
    rows, hkl = np.array(keys, dtype=float), np.array([seen[k] for k in keys])
    rows.flags.writeable = hkl.flags.writeable = False
    return rows, hkl


def _screen(cand: np.ndarray, q_obs: np.ndarray, tol_q: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The candidate cells (rows of ``cand``) for which every line has a reflection within its
    tolerance; line by line, so the [C, R] work shrinks as candidates fail."""
    for q, tol in zip(q_obs, tol_q, strict=True):
        if cand.size == 0:
            break
        dist = cand @ rows.T  # [C, R]: Q of every reflection, then in place its distance from q
        dist -= q
        np.abs(dist, out=dist)
        cand = cand[(dist <= tol).any(axis=1)]
    return cand


def index_lines(d_a: np.ndarray, *, wavelength_a: float, system: str,
                tol_deg: float = TWO_THETA_TOL_DEG) -> Indexing | None:
    """The best accepted cell of ``system`` for the observed d-spacings (ascending 2θ), or None."""
    n_par = SYSTEM_PARAMS[system]
    d_a = np.asarray(d_a, float)[:MAX_LINES]
    n = d_a.size
    if n < MIN_LINES[system]:
        return None
    q_obs = 1.0 / d_a**2
    two_theta = np.radians(_q_to_two_theta(q_obs, wavelength_a))
    # ΔQ for a 2θ error δ: dQ/d(2θ) = 2 sin 2θ / λ².
    tol_q = 2 * np.sin(two_theta) / wavelength_a**2 * np.radians(tol_deg)

    seed_rows, _ = _rows(system, {"cubic": 4, "tetragonal": 3, "orthorhombic": 2}[system])
    full_rows, full_hkl = _rows(system, {"cubic": 8, "tetragonal": 8, "orthorhombic": 6}[system])
    screen_rows = full_rows[np.max(full_hkl, axis=1) <= (4 if n_par == 3 else 5)]  # enough for the first lines
    # Every line must index, so the seeds can come from the first few lines.
    seed_lines = min(n, {1: 4, 2: 5, 3: 4}[n_par])

    # Every way of giving n_par of the first lines low-index hkl → a cell (batched solves).
    picks = np.array(list(itertools.product(range(len(seed_rows)), repeat=n_par)))
    mats = seed_rows[picks]  # [P, m, m]
    if n_par > 1:
        keep = np.abs(np.linalg.det(mats)) > 1e-9
        picks, mats = picks[keep], mats[keep]
    cells = []
    for lines in itertools.combinations(range(seed_lines), n_par):
        rhs = np.broadcast_to(q_obs[list(lines)], (len(mats), n_par))
        cells.append(np.linalg.solve(mats, rhs[..., None])[..., 0])
    cand = np.concatenate(cells)
    # Positive, and no axis beyond 40 Å: more than a handful of lab lines can fix.
    cand = cand[np.all(cand > 1 / 40.0**2, axis=1)]
    # Quick screen: the first lines must all index (chunks bound the [C, R] work array).
    # Lines past the seeds first: a seed line indexes by construction for most candidates.
    order = [*range(seed_lines, min(n, seed_lines + 3)), *range(seed_lines)]
    kept = [_screen(cand[start:start + 4096], q_obs[order], tol_q[order], screen_rows)
            for start in range(0, len(cand), 4096)]
    cand = np.concatenate(kept) if kept else cand[:0]
    if cand.size == 0:
        return None
    cand = np.unique(np.round(cand, 6), axis=0)[:5000]

    # The refinement below depends on a candidate only through its first assignment of hkl to
    # lines: candidates that assign alike (most of them: many seeds give one cell) give the same
    # cell, so each assignment is refined once. The best cell is kept as its numbers and made into
    # an Indexing once, at the end.
    best: tuple | None = None  # (M, p, idx, dq, n_calc)
    assignments: set[bytes] = set()
    for p0 in cand:
        idx = np.argmin(np.abs(q_obs[:, None] - (full_rows @ p0)[None, :]), axis=1)
        first = idx.tobytes()
        if first in assignments:
            continue  # refined already, to the same cell
        assignments.add(first)
        for step in range(3):  # assign → least squares → reassign
            p, *_ = np.linalg.lstsq(full_rows[idx], q_obs, rcond=None)
            if np.any(p <= 0) or step == 2:
                break
            again = np.argmin(np.abs(q_obs[:, None] - (full_rows @ p)[None, :]), axis=1)
            if np.array_equal(again, idx):
                break  # the same assignment: another least squares gives this p again, exactly
            idx = again
        if np.any(p <= 0):
            continue
        q_calc = full_rows @ p
        idx = np.argmin(np.abs(q_obs[:, None] - q_calc[None, :]), axis=1)
        dq = q_obs - q_calc[idx]
        if np.any(np.abs(dq) > tol_q):
            continue  # every line must index
        if len(set(idx.tolist())) < n:
            continue  # a reflection used twice: two lines claim one hkl
        if len(set(np.round(q_calc[idx], 9).tolist())) < n:
            continue  # …or two hkl with the same Q (one reflection)
        q_n = q_obs.max()
        # Body-centring (h+k+l even, ≡ the parity of the row sum) halves the reflections a cell
        # allows; count only those when every indexed line obeys it.
        # (M itself counts the primitive lattice, which also prefers the smaller of two cells that
        # index the same lines, a over a√2.)
        reachable = q_calc <= q_n * (1 + 1e-9) + tol_q.max()
        n_calc = len(set(np.round(q_calc[reachable], 9).tolist()))
        if system != "cubic":
            if np.all(full_rows[idx].sum(axis=1) % 2 == 0):
                reachable &= full_rows.sum(axis=1) % 2 == 0
            if n < MIN_OBSERVED_FRACTION * len(set(np.round(q_calc[reachable], 9).tolist())):
                continue  # a cell with free axes that predicts far more lines than are seen fits by chance
        eps = float(np.mean(np.abs(dq)))
        m_n = float(q_n / (2 * max(eps, 1e-12) * max(n_calc, 1)))
        if m_n < MIN_M[system]:
            continue
        if best is None or m_n > best[0]:
            best = (m_n, p, idx, dq, n_calc)
    return None if best is None else _indexing(system, *best, q_obs=q_obs, wavelength_a=wavelength_a,
                                               full_rows=full_rows, full_hkl=full_hkl)


def _indexing(system: str, m_n: float, p: np.ndarray, idx: np.ndarray, dq: np.ndarray, n_calc: int, *,
              q_obs: np.ndarray, wavelength_a: float, full_rows: np.ndarray, full_hkl: np.ndarray) -> Indexing:
    """The accepted cell ``p`` (1/a², …) with its hkl ``idx`` per line, as reported."""
    n, n_par = q_obs.size, p.size
    q_calc = full_rows @ p
    tt_calc = _q_to_two_theta(q_calc[idx], wavelength_a)
    misfit = (_q_to_two_theta(q_obs, wavelength_a) - tt_calc).tolist()
    names = {"cubic": ("a",), "tetragonal": ("a", "c"), "orthorhombic": ("a", "b", "c")}[system]
    cell = {name: float(1 / np.sqrt(v)) for name, v in zip(names, p, strict=True)}
    se = {}
    dof = n - n_par
    if dof > 0:
        design = full_rows[idx]
        cov = np.linalg.pinv(design.T @ design) * float(dq @ dq) / dof
        for name, v, var in zip(names, p, np.diag(cov), strict=True):
            se[name] = float(0.5 * np.sqrt(max(var, 0)) * v**-1.5)  # a = p^-½ → σa = ½ p^-3/2 σp
    if system == "orthorhombic":
        # Report a ≤ b ≤ c with hkl permuted to match: the axes' labels are a convention.
        order = np.argsort([cell["a"], cell["b"], cell["c"]])
        vals = [list(cell.values())[i] for i in order]
        ses = [list(se.values())[i] for i in order] if se else []
        cell = dict(zip(names, vals, strict=True))
        se = dict(zip(names, ses, strict=True)) if se else {}
        hkl = [tuple(int(full_hkl[i][j]) for j in order) for i in idx]
    else:
        hkl = [tuple(int(v) for v in full_hkl[i]) for i in idx]
    return Indexing(system=system, cell_a=cell, hkl=hkl, misfit_2theta_deg=misfit,
                    max_misfit_deg=float(np.max(np.abs(misfit))),
                    relative_misfit=float(np.sqrt(np.mean((dq / q_obs) ** 2))),
                    de_wolff_m=m_n, n_calc=n_calc, cell_se_a=se)


def best_cubic_misfit(d_a: np.ndarray, *, max_n: int = 48) -> dict:
    """What a forced cubic cell would look like (for the warning when cubic is refused): the
    relative misfit in h²+k²+l² of the best assignment from the first line, and repeated hkl."""
    allowed = np.array(sorted({h * h + k * k + m * m for h, k, m in itertools.product(range(7), repeat=3)} - {0}))
    allowed = allowed[allowed <= max_n]
    inv_d2 = 1 / np.asarray(d_a, float) ** 2
    best = None
    for n_first in (1, 2, 3, 4):
        n_real = inv_d2 * (n_first / inv_d2[0])
        nearest = allowed[np.argmin(np.abs(n_real[:, None] - allowed[None, :]), axis=1)]
        misfit = float(np.max(np.abs(n_real - nearest) / nearest))
        repeated = len(nearest) - len(set(nearest.tolist()))
        if best is None or misfit < best["relative_misfit"]:
            best = {"relative_misfit": misfit, "repeated_hkl": repeated, "a_a": float(np.sqrt(n_first / inv_d2[0]))}
    return best or {}


def layer_series(d_a: np.ndarray, *, wavelength_a: float, tol_deg: float = TWO_THETA_TOL_DEG) -> LayerSeries | None:
    """The (0k0) series 1/d_k = k/d₀ of a layered film, d₀ ≥ 10 Å, with at least three orders.

    d₀ candidates come from the three lowest-angle lines as orders 1–4; a series is kept when
    ≥ 3 distinct orders fit within ``tol_deg``, they include order 1 or 2 and most orders up to
    the highest seen, and share no common factor (else d₀/g explains the same lines and is the
    real spacing)."""
    d_a = np.asarray(d_a, float)
    if d_a.size < 3:
        return None
    q_half = 1 / d_a  # 1/d = k/d₀
    two_theta = np.radians(_q_to_two_theta(q_half**2, wavelength_a))
    # Δ(1/d) for a 2θ error δ: d(1/d)/d(2θ) = cos θ / λ.
    tol = np.cos(two_theta / 2) / wavelength_a * np.radians(tol_deg)
    best: LayerSeries | None = None
    for i in range(min(3, d_a.size)):
        for k0 in (1, 2, 3, 4):
            d0 = k0 * d_a[i]
            if not MIN_LAYER_SPACING_A <= d0 <= MAX_LAYER_SPACING_A:
                continue
            for _ in range(2):
                k = np.rint(q_half * d0)
                inside = (k >= 1) & (np.abs(q_half - k / d0) <= tol)
                if inside.sum() < 3:
                    break
                d0 = float(np.sum(k[inside] ** 2) / np.sum(k[inside] * q_half[inside]))  # LSQ through origin
            k = np.rint(q_half * d0)
            inside = (k >= 1) & (np.abs(q_half - k / d0) <= tol)
            orders = k[inside].astype(int)
            if len(set(orders.tolist())) < 3 or len(set(orders.tolist())) < orders.size:
                continue
            if np.gcd.reduce(orders) > 1 or d0 < MIN_LAYER_SPACING_A:
                continue
            # A layered film's first orders are its strongest lines: a "series" of orders 4, 8, 9
            # is a coincidence of unrelated lines, not a stack.
            if orders.min() > 2 or len(set(orders.tolist())) < 0.6 * orders.max():
                continue
            misfit = _q_to_two_theta(q_half[inside] ** 2, wavelength_a) - _q_to_two_theta((orders / d0) ** 2, wavelength_a)
            resid = q_half[inside] - orders / d0
            se = (float(d0**2 * np.sqrt(np.sum(resid**2) / (orders.size - 1) / np.sum(orders**2)))
                  if orders.size > 1 else None)
            found = LayerSeries(spacing_a=d0, spacing_se_a=se, orders=np.where(inside, k, 0).astype(int).tolist(),
                                lines_in_series=int(inside.sum()), max_misfit_deg=float(np.max(np.abs(misfit))))
            if best is None or (found.lines_in_series, -found.spacing_a) > (best.lines_in_series, -best.spacing_a):
                best = found
    return best
