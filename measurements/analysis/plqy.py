"""Photoluminescence quantum yield from integrating-sphere spectra (kind ``plqy``).

de Mello, Wittmann & Friend, Adv. Mater. 9, 230 (1997). Three sphere configurations:
A, empty sphere (laser only); B, sample in the sphere but out of the beam; C, sample in the beam.
With L the integrated excitation (laser) and P the integrated emission of each spectrum:

    absorptance  A = 1 − L_C / L_B
    PLQY         η = (P_C − (1 − A)·P_B) / (L_A·A)          (eq. 3 of the paper)

Without B (two-measurement form, ignores light re-absorbed after scattering off the sphere wall):

    η = (P_C − P_A) / (L_A − L_C)

Spectra are integrated over wavelength as recorded; this counts photons when the spectrometer
records counts (photon detection), which is what sphere systems export.

Windows: ``excitation_min_nm``/``excitation_max_nm`` and ``emission_min_nm``/``emission_max_nm``
may be given (as a pair each). When absent they are found from the data:
- excitation: the laser line is the maximum of the empty-sphere spectrum A; the window is its
  centre ± 3 FWHM (≥ ±2 nm), which holds > 99.99 % of a Gaussian line; a "line" wider than
  20 nm is refused (that is an emission band: the files are probably swapped);
- emission: the band of (C − A) beyond the excitation window, from where it rises above 2 % of
  its maximum to where it falls below, widened on each side by that band's width.
A constant background per spectrum is taken as the median of points outside both windows
(needs ≥ 10 such points; otherwise the spectra are assumed dark-corrected and a warning says so).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..parsers import ParsedData
from .base import AnalysisError, AnalysisResult
from .pl import _half_max_crossing, smooth, spectrum_arrays
from .registry import AnalysisSpec, Param, Role, register_analysis

LASER_MIN_SNR = 20.0  # a laser line in an empty sphere is far above the noise; less is no laser
MAX_EXCITATION_FWHM_NM = 20.0  # lasers, LEDs behind a filter, monochromated lamps are narrower
EMISSION_MIN_SNR = 5.0
EXCITATION_HALF_WIDTH_FWHM = 3.0
EMISSION_THRESHOLD = 0.02  # share of the emission maximum that delimits the band
MIN_BACKGROUND_POINTS = 10


def _integrate(x: np.ndarray, y: np.ndarray) -> float:
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 names it trapz
    return float(trapezoid(y, x)) if len(x) > 1 else 0.0


def _robust_noise(values: np.ndarray) -> float:
    # MAD of point-to-point differences: insensitive to peaks and to a sloped background.
    diffs = np.diff(values)
    return 1.4826 * float(np.median(np.abs(diffs - np.median(diffs)))) / np.sqrt(2)


def _detect_excitation(name: str, x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """(min_nm, max_nm, centre_nm) of the laser line of the empty-sphere spectrum."""
    level = float(np.median(y))  # the laser covers few points, so the median is the background
    signal = y - level
    noise = _robust_noise(y)
    peak = int(np.argmax(signal))
    height = float(signal[peak])
    if height <= LASER_MIN_SNR * max(noise, 1e-12 * abs(height)) or height <= 0:
        raise AnalysisError(f"{name}: no excitation (laser) peak in the empty-sphere spectrum: highest point "
                            f"{height:.3g} above background, noise σ {noise:.3g} (need {LASER_MIN_SNR:g}σ). "
                            "Is the excitation inside the recorded range and unfiltered?")
    left = _half_max_crossing(x, signal, peak, 0, height / 2)
    right = _half_max_crossing(x, signal, peak, len(x) - 1, height / 2)
    sides = [s for s in (x[peak] - left if left is not None else None,
                         right - x[peak] if right is not None else None) if s is not None]
    fwhm_nm = 2 * max(sides) if sides else 2 * float(np.median(np.diff(x)))
    if fwhm_nm > MAX_EXCITATION_FWHM_NM:
        raise AnalysisError(f"{name}: the strongest peak of the empty-sphere spectrum ({x[peak]:.1f} nm) is "
                            f"{fwhm_nm:.0f} nm wide, not an excitation line (≤ {MAX_EXCITATION_FWHM_NM:g} nm); "
                            "is this the empty-sphere measurement?")
    half_width = max(EXCITATION_HALF_WIDTH_FWHM * fwhm_nm, 2.0)
    return float(x[peak] - half_width), float(x[peak] + half_width), float(x[peak])


def _detect_emission(name: str, x: np.ndarray, difference: np.ndarray, excitation_max_nm: float) -> tuple[float, float]:
    """(min_nm, max_nm) of the emission band in (C − A) beyond the excitation window."""
    beyond = x > excitation_max_nm
    if beyond.sum() < 5:
        raise AnalysisError(f"{name}: no recorded wavelengths beyond the excitation window "
                            f"(> {excitation_max_nm:.1f} nm) to hold the emission")
    xs, ds = x[beyond], smooth(difference[beyond], 7)
    noise = _robust_noise(difference[beyond])
    top = int(np.argmax(ds))
    if ds[top] <= EMISSION_MIN_SNR * noise:
        raise AnalysisError(f"{name}: no emission above noise beyond the excitation window "
                            f"(> {excitation_max_nm:.1f} nm); give emission_min_nm and emission_max_nm "
                            "to measure a PLQY close to zero")
    above = ds >= EMISSION_THRESHOLD * ds[top]
    lo = top
    while lo > 0 and above[lo - 1]:
        lo -= 1
    hi = top
    while hi < len(xs) - 1 and above[hi + 1]:
        hi += 1
    width = xs[hi] - xs[lo]
    return float(max(xs[lo] - width, excitation_max_nm)), float(min(xs[hi] + width, xs[-1]))


def _window(params: dict[str, Any], which: str) -> tuple[float, float] | None:
    lo, hi = params.get(f"{which}_min_nm"), params.get(f"{which}_max_nm")
    if lo is None and hi is None:
        return None
    if lo is None or hi is None:
        raise AnalysisError(f"plqy: give both {which}_min_nm and {which}_max_nm, or neither to detect them")
    if not lo < hi:
        raise AnalysisError(f"plqy: {which}_min_nm ({lo}) must be below {which}_max_nm ({hi})")
    return float(lo), float(hi)


class _Sphere:
    """One sphere spectrum with its background, integrals over the two windows."""

    def __init__(self, parsed: ParsedData, label: str):
        self.name = parsed.source or label
        self.label = label
        self.x, self.y = spectrum_arrays(parsed)
        self.background = 0.0
        self.response = np.ones_like(self.x, dtype=float)  # relative sensitivity (sphere calibration)

    def set_background(self, excitation: tuple[float, float], emission: tuple[float, float]) -> bool:
        outside = ~(((self.x >= excitation[0]) & (self.x <= excitation[1]))
                    | ((self.x >= emission[0]) & (self.x <= emission[1])))
        if outside.sum() < MIN_BACKGROUND_POINTS:
            return False
        self.background = float(np.median(self.y[outside]))
        return True

    def integral(self, window: tuple[float, float]) -> float:
        inside = (self.x >= window[0]) & (self.x <= window[1])
        if inside.sum() < 2:
            raise AnalysisError(f"{self.name}: fewer than 2 points between {window[0]:.1f} and {window[1]:.1f} nm")
        return _integrate(self.x[inside], (self.y[inside] - self.background) * self.response[inside])

    def calibrate(self, calibration: ParsedData, windows: list[tuple[float, float]]) -> None:
        """Multiply the background-corrected counts by the calibration (relative sensitivity of
        sphere + spectrometer vs nm), which must cover both windows."""
        cal_x, cal_y = spectrum_arrays(calibration)
        for lo, hi in windows:
            if lo < cal_x.min() or hi > cal_x.max():
                raise AnalysisError(f"{calibration.source or 'the sphere calibration'} covers {cal_x.min():.0f}–"
                                    f"{cal_x.max():.0f} nm, not the {lo:.0f}–{hi:.0f} nm window")
        self.response = np.interp(self.x, cal_x, cal_y)


def analyse_plqy(inputs: dict[str, list[ParsedData]], params: dict[str, Any]) -> AnalysisResult:
    empty = _Sphere(inputs["empty"][0], "A (empty sphere)")
    in_beam = _Sphere(inputs["in_beam"][0], "C (sample in beam)")
    out_of_beam = _Sphere(inputs["out_of_beam"][0], "B (sample out of beam)") if inputs.get("out_of_beam") else None
    spheres = [s for s in (empty, out_of_beam, in_beam) if s is not None]
    result = AnalysisResult(method="plqy.de_mello", version="1.0")

    excitation = _window(params, "excitation")
    detected = []
    if excitation is None:
        lo, hi, _ = _detect_excitation(empty.name, empty.x, empty.y)
        excitation = (lo, hi)
        detected.append("excitation")
    else:
        inside = (empty.x >= excitation[0]) & (empty.x <= excitation[1])
        if inside.sum() < 2:
            raise AnalysisError(f"{empty.name}: no data in the excitation window {excitation[0]}–{excitation[1]} nm")
        # Same "is there a laser?" test as the detection, limited to the given window.
        _detect_excitation(empty.name, empty.x, np.where(inside, empty.y, np.median(empty.y)))

    emission = _window(params, "emission")
    if emission is None:
        difference = in_beam.y - np.interp(in_beam.x, empty.x, empty.y)
        emission = _detect_emission(in_beam.name, in_beam.x, difference, excitation[1])
        detected.append("emission")
    if emission[0] < excitation[1] and emission[1] > excitation[0]:
        raise AnalysisError(f"plqy: the emission window {emission[0]:.1f}–{emission[1]:.1f} nm overlaps the "
                            f"excitation window {excitation[0]:.1f}–{excitation[1]:.1f} nm")

    for sphere in spheres:
        if not sphere.set_background(excitation, emission):
            result.warnings.append(f"{sphere.name}: fewer than {MIN_BACKGROUND_POINTS} points outside the windows; "
                                   "no background subtracted (the spectrum is assumed dark-corrected)")

    calibration = (inputs.get("calibration") or [None])[0]
    if calibration is not None:
        for sphere in spheres:
            sphere.calibrate(calibration, [excitation, emission])
    else:
        result.warnings.append("uncalibrated counts: the sphere and spectrometer response is taken as equal at the "
                               "excitation and the emission wavelengths, which it rarely is — attach the sphere "
                               "calibration to the instrument (or the file) for a PLQY to rely on")
    laser = {s.label[0]: s.integral(excitation) for s in spheres}  # L_A, L_B, L_C
    emitted = {s.label[0]: s.integral(emission) for s in spheres}  # P_A, P_B, P_C
    if laser["A"] <= 0:
        raise AnalysisError(f"{empty.name}: the integrated excitation of the empty sphere is not positive "
                            f"({laser['A']:.3g}); check the excitation window")
    if out_of_beam is not None:
        absorptance = 1 - laser["C"] / laser["B"]
        if absorptance <= 0:
            raise AnalysisError(f"the sample absorbs none of the excitation (L_C {laser['C']:.4g} ≥ L_B "
                                f"{laser['B']:.4g}); PLQY is undefined")
        plqy = (emitted["C"] - (1 - absorptance) * emitted["B"]) / (laser["A"] * absorptance)
        formula = "de Mello 1997: η = (P_C − (1 − A)·P_B)/(L_A·A), A = 1 − L_C/L_B"
    else:
        absorbed = laser["A"] - laser["C"]
        if absorbed <= 0:
            raise AnalysisError(f"the sample absorbs none of the excitation (L_C {laser['C']:.4g} ≥ L_A "
                                f"{laser['A']:.4g}); PLQY is undefined")
        absorptance = absorbed / laser["A"]
        plqy = (emitted["C"] - emitted["A"]) / absorbed
        formula = "two-measurement: η = (P_C − P_A)/(L_A − L_C)"
    plqy_percent = 100 * plqy
    if plqy_percent > 100:
        result.warnings.append(f"PLQY {plqy_percent:.1f} % exceeds 100 %: check the windows and that all "
                               "spectra were recorded with the same settings")
    if absorptance < 0.05:
        result.warnings.append(f"absorptance only {100 * absorptance:.1f} %: the PLQY is sensitive to noise")
    result.add("plqy", plqy_percent, "%", flags=() if calibration is not None else ("uncalibrated",), extra={
        "absorptance": absorptance, "formula": formula,
        "laser_integrals": laser, "emission_integrals": emitted,
        "windows_detected": detected})
    result.parameters = {"excitation_min_nm": excitation[0], "excitation_max_nm": excitation[1],
                         "emission_min_nm": emission[0], "emission_max_nm": emission[1],
                         "method": "three-measurement" if out_of_beam is not None else "two-measurement"}
    for sphere in spheres:
        key = sphere.label[0]
        result.arrays[f"wavelength_nm_{key}"] = sphere.x
        result.arrays[f"intensity_{key}"] = sphere.y - sphere.background
    return result


register_analysis(AnalysisSpec(
    kind="plqy",
    method="plqy.de_mello",
    version="1.0",
    func=analyse_plqy,
    roles=(
        Role("empty", ("spectrum",), help="A: empty integrating sphere with the excitation on"),
        Role("in_beam", ("spectrum",), help="C: sample in the sphere, in the excitation beam"),
        Role("out_of_beam", ("spectrum",), required=False,
             help="B: sample in the sphere, out of the beam (optional; enables the full de Mello method)"),
        Role("calibration", ("spectrum",), required=False,
             help="relative spectral sensitivity of sphere + spectrometer vs nm (multiplies the counts)"),
    ),
    params=(
        Param("excitation_min_nm", float, help="excitation window start (nm); detected from the laser line if absent"),
        Param("excitation_max_nm", float, help="excitation window end (nm)"),
        Param("emission_min_nm", float, help="emission window start (nm); detected from C − A if absent"),
        Param("emission_max_nm", float, help="emission window end (nm)"),
    ),
    description="PLQY (%) from integrating-sphere spectra, de Mello et al. 1997",
))
