"""MINPACK's Levenberg–Marquardt on an exact Jacobian: the one unbounded least-squares call the
fits here share (lifetime's stretched exponential, XRD's pseudo-Voigt peaks).

Through ``scipy.optimize.leastsq``: the same lmder call ``least_squares(method="lm",
x_scale="jac")`` makes (factor 100, no diag, the tolerances and budget given), so the same
iterates and minimum, bit for bit, without ``least_squares``' function bookkeeping around it
(≈ 0.1 ms a lifetime fit, ≈ 0.4 ms a peak). The two checks ``least_squares`` made before calling
MINPACK are made here: at least as many residuals as parameters, finite residuals at the start.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import leastsq


def lmder(residual: Callable[[np.ndarray], np.ndarray], jacobian_rows: Callable[[np.ndarray], np.ndarray],
          x0: np.ndarray, *, tol: float, max_nfev: int) -> np.ndarray | None:
    """The minimum of ½‖residual(x)‖² from ``x0``, or None when MINPACK does not reach it (the
    budget ran out, the tolerances cannot be met, or the start is not a point to start from).

    ``jacobian_rows(x)``: ∂residual/∂x with one row per parameter (MINPACK's own layout: no
    transpose). ``tol`` is ftol = xtol = gtol."""
    x0 = np.asarray(x0, dtype=float)
    r0 = residual(x0)
    if r0.size < x0.size or not np.all(np.isfinite(r0)):
        return None
    x, _, _, _, status = leastsq(residual, x0, Dfun=jacobian_rows, col_deriv=True, full_output=True,
                                 ftol=tol, xtol=tol, gtol=tol, maxfev=max_nfev)
    # 1–4: a tolerance met; 5: the evaluation budget ran out; 6–8: the tolerances cannot be met.
    if status not in (1, 2, 3, 4) or not np.all(np.isfinite(x)):
        return None
    return x
