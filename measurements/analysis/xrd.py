"""XRD: peak list, cubic lattice constant and Scherrer size (kind ``xrd``, method ``xrd.peaks``).

Steps
1. Wavelength λ (Å): the ``wavelength_a`` parameter, else the file's stated value; neither →
   AnalysisError asking for it (no default anode is assumed).
2. Background: iterative clipping of a wide running median (the SNIP idea, Ryan et al. NIM B 34
   (1988) 396, simplified); peaks: local maxima above 5σ of Poisson noise (σ = √counts).
3. Each peak is fitted with a pseudo-Voigt on a linear background (window ±3 FWHM guesses):
   position 2θ, FWHM (°), height. d = λ / (2 sin θ) (Bragg).
4. Cubic indexing of the low-angle peaks: 1/d² = (h²+k²+l²)/a², N = h²+k²+l² ∈ {1,2,3,4,5,6,8,9,…}
   (7 is not a sum of three squares). Trial N for the first peak, the assignment with the
   smallest misfit wins; a from least squares on 1/d² = N/a² (a⁻² = Σ Nᵢ/dᵢ² / Σ Nᵢ²).
5. Scherrer size of the first peak: D = K·λ / (β·cos θ) (Scherrer 1918; Langford & Wilson,
   J. Appl. Cryst. 11 (1978) 102), β in radians, with the instrument broadening removed in
   quadrature, β² = FWHM² − FWHM_inst² (Gaussian profiles).

Metrics: ``d_spacing`` (Å, first peak), ``lattice_constant`` (Å; hkl in extra),
``crystallite_size`` (nm). The full peak list is in ``lattice_constant.extra`` / ``d_spacing.extra``
and in arrays (``peak_two_theta_deg``, ``peak_d_a``, ``peak_fwhm_deg``, ``peak_intensity``).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d
from scipy.optimize import curve_fit
from scipy.signal import find_peaks, peak_widths

from .base import AnalysisError, AnalysisResult
from .plotting import new_figure
from .registry import AnalysisSpec, Param, Role, register_analysis

METHOD, VERSION = "xrd.peaks", "1.0"
# h²+k²+l² values reachable by integers, with one hkl for labels (7, 15 are not sums of 3 squares).
CUBIC_N = {n: hkl for n, hkl in sorted(
    {h * h + k * k + m * m: (h, k, m) for h, k, m in itertools.product(range(4, -1, -1), repeat=3)
     if h >= k >= m and h * h + k * k + m * m > 0}.items())}


def _pseudo_voigt(x, height, center, fwhm, eta, c0, c1):
    g = np.exp(-4 * np.log(2) * ((x - center) / fwhm) ** 2)
    lor = 1.0 / (1.0 + 4 * ((x - center) / fwhm) ** 2)
    return height * (eta * lor + (1 - eta) * g) + c0 + c1 * (x - center)


def _background(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # Running median over ~2° then clip peaks iteratively: a smooth floor under the pattern.
    step = float(np.median(np.diff(x)))
    width = max(int(round(2.0 / step)) | 1, 5)
    bg = median_filter(y, size=width, mode="nearest")
    for _ in range(5):
        bg = uniform_filter1d(np.minimum(y, bg), size=width, mode="nearest")
    return bg


def find_and_fit_peaks(x: np.ndarray, y: np.ndarray, *, max_peaks: int = 12) -> list[dict]:
    bg = _background(x, y)
    net = y - bg
    smooth = uniform_filter1d(net, size=3)
    noise = np.sqrt(np.maximum(bg, 1.0))
    idx, _ = find_peaks(smooth, height=5 * noise, prominence=5 * np.median(noise))
    if idx.size == 0:
        return []
    idx = idx[np.argsort(smooth[idx])[::-1][:max_peaks]]
    idx.sort()
    step = float(np.median(np.diff(x)))
    widths = peak_widths(smooth, idx, rel_height=0.5)[0] * step
    peaks = []
    for i, w in zip(idx, widths, strict=True):
        w = max(w, 2 * step)
        sel = (x > x[i] - 3 * w) & (x < x[i] + 3 * w)
        xs, ys = x[sel], y[sel]
        p0 = [net[i], x[i], w, 0.5, float(bg[i]), 0.0]
        lo = [0, x[i] - w, step * 0.5, 0, -np.inf, -np.inf]
        hi = [np.inf, x[i] + w, 10 * w, 1, np.inf, np.inf]
        try:
            popt, pcov = curve_fit(_pseudo_voigt, xs, ys, p0=p0, bounds=(lo, hi),
                                   sigma=np.sqrt(np.maximum(ys, 1.0)), maxfev=20000)
            perr = np.sqrt(np.clip(np.diag(pcov), 0, None))
            peaks.append({"two_theta_deg": float(popt[1]), "fwhm_deg": float(abs(popt[2])),
                          "intensity": float(popt[0]), "eta": float(popt[3]),
                          "two_theta_se_deg": float(perr[1]), "fwhm_se_deg": float(perr[2]), "fitted": True})
        except (RuntimeError, ValueError):
            # Keep the raw maximum rather than dropping the peak, flagged as not fitted.
            peaks.append({"two_theta_deg": float(x[i]), "fwhm_deg": float(w), "intensity": float(net[i]),
                          "fitted": False})
    return peaks


def index_cubic(d_a: np.ndarray, *, tolerance: float = 0.08, max_n: int = 12):
    """Assign N = h²+k²+l² to each d (Å). Returns (a, N array with 0 for unindexed, misfit)."""
    allowed = np.array([n for n in CUBIC_N if n <= max_n])
    best = None
    inv_d2 = 1.0 / d_a**2
    for n_first in (1, 2, 3, 4):
        a2 = n_first / inv_d2[0]
        n_real = inv_d2 * a2
        nearest = allowed[np.argmin(np.abs(n_real[:, None] - allowed[None, :]), axis=1)]
        ok = np.abs(n_real - nearest) <= tolerance * nearest
        if ok.sum() < min(2, d_a.size):
            continue
        n_idx = np.where(ok, nearest, 0)
        inv_a2 = np.sum(n_idx[ok] * inv_d2[ok]) / np.sum(n_idx[ok] ** 2)
        misfit = float(np.sqrt(np.mean((inv_d2[ok] - n_idx[ok] * inv_a2) ** 2)) / inv_a2)
        # Prefer the assignment indexing most peaks, then the smallest misfit, then the smallest cell.
        key = (-int(ok.sum()), round(misfit, 3), n_first)
        if best is None or key < best[0]:
            best = (key, float(1 / np.sqrt(inv_a2)), n_idx, misfit)
    if best is None:
        return None
    return best[1], best[2], best[3]


def analyse_pattern(two_theta_deg, intensity, *, wavelength_a: float, instrument_broadening_deg: float = 0.0,
                    scherrer_k: float = 0.9) -> AnalysisResult:
    result = AnalysisResult(method=METHOD, version=VERSION)
    x = np.asarray(two_theta_deg, float)
    y = np.asarray(intensity, float)
    if x.size < 20:
        raise AnalysisError(f"only {x.size} points: too few for a diffraction pattern")
    peaks = find_and_fit_peaks(x, y)
    if not peaks:
        raise AnalysisError("no diffraction peak stands above the background (5σ): nothing to index")
    two_theta = np.array([p["two_theta_deg"] for p in peaks])
    d_a = wavelength_a / (2 * np.sin(np.radians(two_theta / 2)))  # Bragg, n = 1
    for p, d in zip(peaks, d_a, strict=True):
        p["d_a"] = float(d)

    first = peaks[0]
    result.add("d_spacing", first["d_a"], "Å", extra={"two_theta_deg": first["two_theta_deg"], "peaks": peaks})

    # Index the low-angle peaks (the first six) as a cubic perovskite.
    low = min(len(peaks), 6)
    indexed = index_cubic(d_a[:low]) if low >= 2 else None
    if indexed is None:
        result.warnings.append("the peaks do not index as a cubic lattice: no lattice_constant")
    else:
        a, n_idx, misfit = indexed
        hkl = []
        for p, n in zip(peaks[:low], n_idx, strict=True):
            p["hkl"] = list(CUBIC_N[int(n)]) if n else None
            hkl.append(p["hkl"])
        used = int(np.count_nonzero(n_idx))
        # Standard error of a from the scatter of a_i = d_i √N_i over the indexed peaks.
        a_i = d_a[:low][n_idx > 0] * np.sqrt(n_idx[n_idx > 0])
        se = float(np.std(a_i, ddof=1) / np.sqrt(used)) if used > 2 else None
        result.add("lattice_constant", a, "Å", uncertainty=se,
                   extra={"hkl": hkl, "peaks_indexed": used, "relative_misfit": misfit, "system": "cubic"})

    # Scherrer on the first peak.
    fwhm = first["fwhm_deg"]
    if instrument_broadening_deg >= fwhm:
        raise AnalysisError(f"the first peak's FWHM {fwhm:.4f}° is not wider than the instrument broadening "
                            f"{instrument_broadening_deg:.4f}°: the size is beyond the Scherrer limit")
    beta_rad = np.radians(np.sqrt(fwhm**2 - instrument_broadening_deg**2))
    theta = np.radians(first["two_theta_deg"] / 2)
    size_nm = scherrer_k * wavelength_a / (beta_rad * np.cos(theta)) / 10.0  # Å → nm
    flags = ("peak_not_fitted",) if not first.get("fitted") else ()
    result.add("crystallite_size", size_nm, "nm", flags=flags,
               extra={"peak_two_theta_deg": first["two_theta_deg"], "fwhm_deg": fwhm,
                      "beta_corrected_deg": float(np.degrees(beta_rad)), "scherrer_k": scherrer_k})

    result.arrays = {"two_theta_deg": x, "intensity": y,
                     "peak_two_theta_deg": two_theta, "peak_d_a": d_a,
                     "peak_fwhm_deg": np.array([p["fwhm_deg"] for p in peaks]),
                     "peak_intensity": np.array([p["intensity"] for p in peaks])}
    result.parameters = {"wavelength_a": wavelength_a, "instrument_broadening_deg": instrument_broadening_deg,
                         "scherrer_k": scherrer_k}
    return result


def xrd(inputs, params) -> AnalysisResult:
    files = inputs["files"]
    if len(files) != 1:
        raise AnalysisError(f"xrd analyses one pattern at a time, got {len(files)} files")
    parsed = files[0]
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
    wavelength = float(wavelength if wavelength is not None else stated)
    result = analyse_pattern(parsed.data["two_theta_deg"].to_numpy(), parsed.data["intensity"].to_numpy(),
                             wavelength_a=wavelength,
                             instrument_broadening_deg=params.get("instrument_broadening_deg") or 0.0,
                             scherrer_k=params.get("scherrer_k") or 0.9)
    result.parameters["wavelength_source"] = source
    result.warnings[:0] = warnings
    result.per_file = [{"file": parsed.source, "metrics": result.metrics_json()}]
    return result


def plot(result: AnalysisResult) -> dict:
    a = result.arrays
    fig = new_figure(5.5, 3.6)
    ax = fig.subplots()
    ax.plot(a["two_theta_deg"], a["intensity"], lw=0.7, color="0.2")
    peaks = result.metrics["d_spacing"].extra["peaks"]
    top = float(np.max(a["intensity"]))
    for p in peaks:
        y = float(np.interp(p["two_theta_deg"], a["two_theta_deg"], a["intensity"]))
        label = "".join(str(i) for i in p["hkl"]) if p.get("hkl") else "?"
        ax.annotate(f"({label})\n{p['d_a']:.3f} Å", (p["two_theta_deg"], y), xytext=(0, 6),
                    textcoords="offset points", ha="center", fontsize=7, color="C3")
    ax.set_ylim(top=top * 1.2)
    ax.set_xlabel("2θ (°)")
    ax.set_ylabel("intensity (counts)")
    if "lattice_constant" in result.metrics:
        ax.set_title(f"cubic a = {result.metrics['lattice_constant'].value:.3f} Å, "
                     f"λ = {result.parameters['wavelength_a']} Å", fontsize=9)
    return {"pattern": fig}


register_analysis(AnalysisSpec(
    kind="xrd", method=METHOD, version=VERSION, func=xrd, plot=plot,
    roles=(Role("files", shapes=("xrd",), help="powder pattern: .xy/.xye, Bruker .xy, .xrdml, .ras"),),
    params=(Param("wavelength_a", float, None, help="X-ray wavelength in Å; required unless the file states it"),
            Param("instrument_broadening_deg", float, 0.0, help="instrument FWHM (°2θ), removed in quadrature"),
            Param("scherrer_k", float, 0.9, help="Scherrer shape factor K")),
    description="XRD: peak list (2θ, d, FWHM), cubic lattice constant, Scherrer crystallite size",
))
