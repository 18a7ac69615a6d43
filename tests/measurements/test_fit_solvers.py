"""The lifetime and XRD fits run MINPACK's Levenberg–Marquardt (scipy's least_squares, method="lm")
on the exact Jacobian instead of scipy's bounded curve_fit (issue 15: the fits were most of those
analyses). They must land on curve_fit's
minimum — the same numbers to within its own tolerance — and never on a worse one; a fit that ends
on a bound is left to curve_fit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import curve_fit

from measurements.analysis import lifetime, xrd
from measurements.parsers import parse_bytes


def _run(data_dir, name):
    data = parse_bytes((data_dir / "public" / name).read_bytes(), filename=name, shape="lifetime").data
    t = data["time_h"].to_numpy(float)
    return t - t[0], data["luminance_cd_m2"].to_numpy(float)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_lifetime_l0_fit_is_curve_fits_minimum(data_dir, k):
    t, lum = _run(data_dir, f"lifetime_{k}.csv")
    tau0 = t[-1] / -np.log(np.clip(lum[-1] / lum[0], 1e-3, 0.999))
    ours = lifetime._lm_stretched(t, lum, (lum[0], tau0, 1.0), with_l0=True)
    theirs, _ = curve_fit(lifetime._stretched_with_l0, t, lum, p0=(lum[0], tau0, 1.0),
                          bounds=((0, 1e-9, 0.1), (np.inf, np.inf, 3.0)), maxfev=5000)
    assert ours == pytest.approx(tuple(theirs), rel=1e-6)

    def cost(p):
        return float(np.sum((lifetime._stretched_with_l0(t, *p) - lum) ** 2))

    assert cost(ours) <= cost(theirs) * (1 + 1e-12)


def test_lifetime_fit_on_a_bound_goes_to_curve_fit():
    # A step that β = 3 cannot follow: the optimum lies beyond the bound, so no answer from LM.
    t = np.linspace(0, 10, 200)
    y = np.where(t < 5, 1.0, 0.2)
    assert lifetime._lm_stretched(t, y, (5.0, 1.0), with_l0=False) is None


def test_xrd_peak_fits_are_curve_fits_minimum(data_dir):
    pattern = parse_bytes((data_dir / "public" / "xrd.xy").read_bytes(), filename="xrd.xy").data
    x, y = pattern["two_theta_deg"].to_numpy(float), pattern["intensity"].to_numpy(float)
    step = float(np.median(np.diff(x)))
    calls = []
    real = xrd._fit_pseudo_voigt

    def compared(xs, ys, sigma, p0, lo, hi):
        ours = real(xs, ys, sigma, p0, lo, hi)
        theirs, pcov = curve_fit(xrd._pseudo_voigt, xs, ys, p0=p0, bounds=(lo, hi), sigma=sigma, maxfev=20000)
        calls.append((xs, ys, sigma, ours, theirs, pcov))
        return ours

    xrd._fit_pseudo_voigt = compared
    try:
        peaks = xrd.find_and_fit_peaks(x, y, step=step)
    finally:
        xrd._fit_pseudo_voigt = real
    assert len(peaks) == 3 and all(p["fitted"] for p in peaks)
    for xs, ys, sigma, ours, theirs, pcov in calls:
        assert ours is not None
        popt, our_pcov = ours
        # centre and width to 1e-7 relative; η (a flat direction) to 1e-4 absolute
        assert popt[1:3] == pytest.approx(theirs[1:3], rel=1e-7)
        assert popt[3] == pytest.approx(theirs[3], abs=1e-4)
        assert np.sqrt(np.diag(our_pcov))[1:3] == pytest.approx(np.sqrt(np.diag(pcov))[1:3], rel=1e-4)

        def cost(p, xs=xs, ys=ys, sigma=sigma):
            return float(np.sum(((xrd._pseudo_voigt(xs, *p) - ys) / sigma) ** 2))

        assert cost(popt) <= cost(theirs) * (1 + 1e-12)
