"""LED figures of merit from a J-L-V sweep and its EL spectrum (kinds ``jlv`` and ``el``).

Formulas (DESIGN.md, "Derived metrics"):

* EQE = π·e·∫S(λ)λdλ·L / (Km·h·c·∫S(λ)V(λ)dλ·J)  — Lambertian emitter, Km = 683 lm/W,
  V(λ) = CIE 1924 photopic, S = dark-corrected EL spectrum (shape only; its scale cancels).
* current efficiency = L/J (cd/A, J in A/m²); power efficacy = π·L/(J·V) (lm/W).
* turn-on voltage = lowest V with L ≥ 1 cd/m², linearly interpolated between sweep points.
* CIE 1931 2° chromaticity from X, Y, Z = ∫S·x̄, ∫S·ȳ, ∫S·z̄.

Photodiode route (no luminance meter), as in GatherLab's OLED-evaluation (Lambertian case):
a disc photodiode of radius r at distance d on the axis of a Lambertian emitter collects the
fraction sin²α = r²/(r²+d²) of the forward-emitted power, so the emitted optical power is
P = I_pd/(sin²α · ∫S·R/∫S) (R = responsivity, A/W) and the luminance is
L = Km·P·(∫S·V/∫S)/(π·A) = Km·I_pd·∫S·V / (sin²α·∫S·R·π·A). The EQE then follows from the
same L-based formula, which reduces to GatherLab's e·I_pd·∫Sλ/(h·c·I·sin²α·∫S·R).
A voltage-mode photodiode gives I_pd = V_pd / resistor_ohm.

Sweep handling (non-monotonic or duplicated voltages): the figures of merit are taken from the
forward sweep — the longest rising voltage segment (the parser numbers segments in ``sweep``);
readings repeated at the same voltage are averaged. The other segments are ignored and a
warning says so. A file with only a falling sweep is sorted by voltage.

Speed: the CIE tables (colour-science's, saved in ``data/cie_tables.csv``) are read once, at
import, into numpy arrays and interpolated with ``np.interp`` onto each spectrum's wavelengths
(colour's generic spectral machinery is far slower than the arithmetic needed here, and importing
it costs seconds).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..parsers import ParsedData
from .base import AnalysisError, AnalysisResult, unit_warnings
from .pl import X_NOT_WAVELENGTH
from .registry import AnalysisSpec, Param, Role, register_analysis

METHOD_VERSION = "1.1"

# CODATA 2018 exact constants; Km from the SI definition of the candela (683 lm/W).
ELEMENTARY_CHARGE_C = 1.602176634e-19
PLANCK_J_S = 6.62607015e-34
SPEED_OF_LIGHT_M_S = 299792458.0
KM_LM_W = 683.0
TURN_ON_LUMINANCE_CD_M2 = 1.0  # DESIGN.md: turn-on = lowest V with L ≥ 1 cd/m²
ROLL_OFF_J_MA_CM2 = 100.0  # eqe_at_100_ma_cm2
EMISSION_SNR_MIN = 10.0  # peak must stand 10 noise-σ above the dark level to count as emission
DARK_VOLTAGE_MAX_V = 1.0  # photodiode dark level: points below 1 V (no perovskite LED emits there)
VISIBLE_NM = (380.0, 780.0)  # CIE 1931's visible range
MIN_VISIBLE_FRACTION = 0.5  # below this share of the emission in 380–780 nm: no CIE colour


CIE_TABLES_CSV = Path(__file__).with_name("data") / "cie_tables.csv"


def _load_cie_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(wavelength_nm, V(λ), x̄ȳz̄ [n×3]): colour-science's CIE 1931 2° CMFs and CIE 1924 photopic
    V(λ), written to data/cie_tables.csv by data/make_cie_tables.py. Read from that file because
    importing colour-science costs ≈ 2 s of every worker's start-up (tests/measurements/
    test_cie_tables.py checks the file against colour-science value for value)."""
    table = np.loadtxt(CIE_TABLES_CSV, delimiter=",", comments="#")
    return table[:, 0].copy(), table[:, 1].copy(), np.ascontiguousarray(table[:, 2:5])


CIE_WAVELENGTH_NM, CIE_V_LAMBDA, CIE_XYZ_BAR = _load_cie_tables()
# Observer functions on a spectrum's wavelength grid, keyed by the grid's bytes: a station
# produces thousands of spectra on the same few grids.
_GRID_CACHE: dict[bytes, np.ndarray] = {}


def _observer_on(wavelength_nm: np.ndarray) -> np.ndarray:
    """Rows V, x̄, ȳ, z̄ sampled at ``wavelength_nm`` (zero outside 360–830 nm)."""
    key = wavelength_nm.tobytes()
    table = _GRID_CACHE.get(key)
    if table is None:
        table = np.empty((4, wavelength_nm.size))
        table[0] = np.interp(wavelength_nm, CIE_WAVELENGTH_NM, CIE_V_LAMBDA, left=0.0, right=0.0)
        for k in range(3):
            table[k + 1] = np.interp(wavelength_nm, CIE_WAVELENGTH_NM, CIE_XYZ_BAR[:, k], left=0.0, right=0.0)
        if len(_GRID_CACHE) > 64:
            _GRID_CACHE.clear()
        _GRID_CACHE[key] = table
    return table


def _trapezoid_weights(x: np.ndarray) -> np.ndarray:
    """w with ∫f dx ≈ w·f (trapezoid rule, any spacing): one dot product per integral."""
    w = np.empty_like(x)
    dx = np.diff(x)
    w[0], w[-1] = dx[0] / 2, dx[-1] / 2
    w[1:-1] = (dx[:-1] + dx[1:]) / 2
    return w


# ---------------------------------------------------------------------------------------------
# EL spectrum


class Spectrum:
    """A dark-corrected emission spectrum and the integrals every LED metric needs."""

    def __init__(self, wavelength_nm: np.ndarray, signal: np.ndarray, *, name: str = "spectrum",
                 calibration: ParsedData | None = None):
        self.name = name
        order = np.argsort(wavelength_nm, kind="stable") if np.any(np.diff(wavelength_nm) < 0) else slice(None)
        self.wavelength_nm = np.asarray(wavelength_nm, float)[order]
        raw = np.asarray(signal, float)[order]
        if self.wavelength_nm.size < 10:
            raise AnalysisError(f"{name}: only {self.wavelength_nm.size} spectral points; expected a spectrum")
        self.dark_offset, self.noise_sigma = estimate_dark(raw)
        corrected = raw - self.dark_offset
        peak_counts = float(corrected.max())
        if not (peak_counts > EMISSION_SNR_MIN * self.noise_sigma and peak_counts > 0):
            raise AnalysisError(
                f"{name}: no emission above noise (highest point {peak_counts:.3g} counts above the dark "
                f"level {self.dark_offset:.4g}, noise σ {self.noise_sigma:.3g}); was the pixel lit?")
        if calibration is not None:
            # Spectrometer relative sensitivity: a factor turning counts into relative spectral
            # power (GatherLab's CalibrationData.txt convention), interpolated onto this grid.
            cal_wl = calibration.data["wavelength_nm"].to_numpy(float)
            cal = calibration.data.iloc[:, 1].to_numpy(float)
            cal_order = np.argsort(cal_wl)
            corrected = corrected * np.interp(self.wavelength_nm, cal_wl[cal_order], cal[cal_order],
                                              left=0.0, right=0.0)
        self.counts = raw
        self.power = corrected  # relative spectral power S(λ)
        weights = _trapezoid_weights(self.wavelength_nm)
        observer = _observer_on(self.wavelength_nm)
        weighted = self.power * weights
        self.integral_s = float(weighted.sum())
        self.integral_s_lambda_m = float(weighted @ self.wavelength_nm) * 1e-9  # ∫S·λ, λ in m
        self.integral_s_v, x_total, y_total, z_total = (float(v) for v in observer @ weighted)
        visible = (self.wavelength_nm >= VISIBLE_NM[0]) & (self.wavelength_nm <= VISIBLE_NM[1])
        positive = np.clip(self.power, 0, None) * weights
        self.visible_fraction = float(positive[visible].sum() / positive.sum()) if positive.sum() > 0 else 0.0
        total = x_total + y_total + z_total
        # Chromaticity of light the eye barely sees is meaningless (a near-infrared emitter's
        # visible tail decides it): left out below MIN_VISIBLE_FRACTION, with a warning.
        if self.visible_fraction >= MIN_VISIBLE_FRACTION and total > 0:
            self.cie_x, self.cie_y = x_total / total, y_total / total
        else:
            self.cie_x = self.cie_y = None
        self._weights = weights
        self.peak_nm, self.fwhm_nm = peak_and_fwhm(self.wavelength_nm, self.power)

    def integral_with(self, wavelength_nm: np.ndarray, values: np.ndarray) -> float:
        """∫S(λ)·f(λ)dλ for a curve f given on its own grid (responsivity, …); 0 outside it."""
        order = np.argsort(wavelength_nm)
        f = np.interp(self.wavelength_nm, wavelength_nm[order], values[order], left=0.0, right=0.0)
        return float((self.power * self._weights) @ f)


def estimate_dark(counts: np.ndarray) -> tuple[float, float]:
    """Dark offset and noise σ from the emission-free pixels.

    Iterative 3σ clipping around the median: emission pixels are outliers above the flat dark
    level as long as the emission covers less than about half the range, which holds for EL
    spectra (FWHM 20–100 nm over a 400–1000 nm detector). σ = 1.4826·MAD (robust normal σ).
    When clipping leaves too few pixels (broad emission), fall back to the outer 5 % on each side.
    """
    kept = counts
    for _ in range(6):
        median = np.median(kept)
        sigma = 1.4826 * np.median(np.abs(kept - median))
        if sigma == 0:
            break
        inside = np.abs(kept - median) < 3 * sigma
        if inside.all():
            break
        kept = kept[inside]
    if kept.size < max(10, counts.size // 10):
        edge = max(3, counts.size // 20)
        kept = np.concatenate([counts[:edge], counts[-edge:]])
    median = float(np.median(kept))
    sigma = float(1.4826 * np.median(np.abs(kept - median)))
    return median, sigma


def peak_and_fwhm(wavelength_nm: np.ndarray, power: np.ndarray) -> tuple[float, float | None]:
    """Peak wavelength (of a 5-point running mean, so one noisy pixel cannot win) and the full
    width at half maximum, walking outward from the peak to the half-maximum crossings and
    interpolating linearly. FWHM is None when the emission runs off the end of the range."""
    smooth = np.convolve(power, np.ones(5) / 5, mode="same") if power.size >= 15 else power
    i_peak = int(np.argmax(smooth))
    half = smooth[i_peak] / 2
    below = smooth < half
    left_idx = np.nonzero(below[:i_peak])[0]
    right_idx = np.nonzero(below[i_peak:])[0]
    if left_idx.size == 0 or right_idx.size == 0:
        return float(wavelength_nm[i_peak]), None
    lo = left_idx[-1]  # last point below half on the blue side; lo+1 is above
    hi = i_peak + right_idx[0]  # first point below half on the red side; hi-1 is above
    wl_left = np.interp(half, [smooth[lo], smooth[lo + 1]], [wavelength_nm[lo], wavelength_nm[lo + 1]])
    wl_right = np.interp(half, [smooth[hi], smooth[hi - 1]], [wavelength_nm[hi], wavelength_nm[hi - 1]])
    return float(wavelength_nm[i_peak]), float(wl_right - wl_left)


def _spectrum_from(parsed: ParsedData, calibration: ParsedData | None = None) -> Spectrum:
    data = parsed.data
    if "wavelength_nm" not in data.columns:
        other = next((c for c in data.columns if c in X_NOT_WAVELENGTH), None)
        if other:
            raise AnalysisError(f"{parsed.label}: the x axis is {X_NOT_WAVELENGTH[other]} in cm⁻¹, not a wavelength: "
                                "no EL peak, colour or EQE can be computed from it")
        raise AnalysisError(f"{parsed.source}: no wavelength column in the spectrum")
    value_column = "intensity_counts" if "intensity_counts" in data.columns else data.columns[1]
    return Spectrum(data["wavelength_nm"].to_numpy(float), data[value_column].to_numpy(float),
                    name=parsed.source or "EL spectrum", calibration=calibration)


def _add_spectrum_metrics(result: AnalysisResult, spectrum: Spectrum) -> None:
    result.add("el_peak_wavelength", spectrum.peak_nm, "nm")
    if spectrum.fwhm_nm is not None:
        result.add("el_fwhm", spectrum.fwhm_nm, "nm")
    else:
        result.warnings.append("el_fwhm not computed: the emission runs off the end of the measured range")
    if spectrum.cie_x is not None:
        result.add("cie_x", spectrum.cie_x, "")
        result.add("cie_y", spectrum.cie_y, "")
    else:
        result.warnings.append(f"{spectrum.name}: no CIE 1931 colour: only {100 * spectrum.visible_fraction:.0f} % of "
                               f"the emission lies in the visible ({VISIBLE_NM[0]:.0f}–{VISIBLE_NM[1]:.0f} nm), so "
                               "its chromaticity would be set by a faint visible tail (a near-infrared emitter?)")
    result.parameters["visible_fraction"] = round(spectrum.visible_fraction, 4)
    result.arrays["wavelength_nm"] = spectrum.wavelength_nm
    result.arrays["el_power"] = spectrum.power
    result.parameters["dark_offset_counts"] = round(spectrum.dark_offset, 4)


# ---------------------------------------------------------------------------------------------
# J-L-V sweep


def _forward_sweep(parsed: ParsedData, warnings: list[str]) -> dict[str, np.ndarray]:
    """Columns of the forward sweep, rising in voltage, with duplicated voltages averaged."""
    data = parsed.data
    columns = [c for c in data.columns if c != "sweep"]
    table = data[columns].to_numpy(float)
    complete = ~np.isnan(table).any(axis=1)  # a reading with a gap (NaN) is left out …
    table = table[complete]
    voltage = table[:, columns.index("voltage_v")]
    if "sweep" in data.columns and data["sweep"].nunique() > 1:
        segment = data["sweep"].to_numpy()[complete]  # … and so is its sweep label, row for row
        best, best_len = None, -1
        for s in np.unique(segment):
            v = voltage[segment == s]
            rising = v.size > 1 and v[-1] > v[0]
            if rising and v.size > best_len:
                best, best_len = s, v.size
        if best is not None:
            table = table[segment == best]
            warnings.append(f"{parsed.source}: {int(segment.max()) + 1} voltage sweeps; "
                            "figures of merit from the longest rising (forward) sweep")
        voltage = table[:, columns.index("voltage_v")]
    unique_v, inverse, counts = np.unique(voltage, return_inverse=True, return_counts=True)
    if unique_v.size != voltage.size:
        sums = np.zeros((unique_v.size, table.shape[1]))
        np.add.at(sums, inverse, table)
        table = sums / counts[:, None]
        warnings.append(f"{parsed.source}: repeated voltages averaged "
                        f"({voltage.size - unique_v.size} duplicate readings)")
    elif np.any(np.diff(voltage) < 0):
        table = table[np.argsort(voltage, kind="stable")]
    return {c: table[:, k] for k, c in enumerate(columns)}


def _first_crossing(x: np.ndarray, y: np.ndarray, level: float, *, log_x: bool = False) -> float | None:
    """x where y first reaches ``level`` going along the sweep, interpolated linearly (in log x
    when asked); None if never reached or already reached at the first point."""
    reached = np.nonzero(y >= level)[0]
    if reached.size == 0 or reached[0] == 0:
        return None
    i = reached[0]
    x0, x1 = (np.log(x[i - 1]), np.log(x[i])) if log_x else (x[i - 1], x[i])
    frac = (level - y[i - 1]) / (y[i] - y[i - 1])
    value = x0 + frac * (x1 - x0)
    return float(np.exp(value) if log_x else value)


def _photodiode_luminance(sweep: dict[str, np.ndarray], spectrum: Spectrum, responsivity: ParsedData | None,
                          params: dict[str, Any], pixel_area_m2: float, warnings: list[str]) -> np.ndarray:
    """Luminance (cd/m²) from a photodiode signal; GatherLab OLED-evaluation, Lambertian case."""
    if responsivity is None:
        raise AnalysisError("the J-L-V file has a photodiode column but no responsivity file (A/W vs nm) "
                            "was given to turn it into luminance")
    radius_mm, distance_mm = params.get("photodiode_radius_mm"), params.get("photodiode_distance_mm")
    if not radius_mm or not distance_mm or radius_mm <= 0 or distance_mm <= 0:
        raise AnalysisError("photodiode route needs photodiode_radius_mm and photodiode_distance_mm (> 0)")
    if "photodiode_current_a" in sweep:
        photocurrent_a = sweep["photodiode_current_a"]
    else:
        resistor_ohm = params.get("resistor_ohm")
        if not resistor_ohm or resistor_ohm <= 0:
            raise AnalysisError("a photodiode voltage column needs resistor_ohm (> 0) to give the photocurrent")
        photocurrent_a = sweep["photodiode_voltage_v"] / resistor_ohm
    dark = sweep["voltage_v"] < DARK_VOLTAGE_MAX_V
    if dark.sum() >= 2:
        photocurrent_a = photocurrent_a - np.median(photocurrent_a[dark])
    else:
        warnings.append(f"no points below {DARK_VOLTAGE_MAX_V} V: photodiode signal not dark-corrected")
    sin2_alpha = radius_mm**2 / (radius_mm**2 + distance_mm**2)
    resp = responsivity.data
    integral_s_r = spectrum.integral_with(resp["wavelength_nm"].to_numpy(float), resp.iloc[:, 1].to_numpy(float))
    if integral_s_r <= 0:
        raise AnalysisError("the photodiode responsivity is zero over the emission spectrum")
    return KM_LM_W * photocurrent_a * spectrum.integral_s_v / (sin2_alpha * integral_s_r * np.pi * pixel_area_m2)


def analyse_jlv(inputs: dict[str, list[ParsedData]], params: dict[str, Any]) -> AnalysisResult:
    pixel_area_cm2 = params["pixel_area_cm2"]
    if not pixel_area_cm2 > 0:
        raise AnalysisError(f"pixel area must be positive, got {pixel_area_cm2} cm²")
    jlv, el = inputs["jlv"][0], inputs["el"][0]
    calibration = (inputs.get("calibration") or [None])[0]
    responsivity = (inputs.get("responsivity") or [None])[0]
    result = AnalysisResult(method="led.jlv_el", version=METHOD_VERSION)
    light = [c for c in ("luminance_cd_m2", "photodiode_current_a", "photodiode_voltage_v") if c in jlv.data.columns]
    if not light:
        raise AnalysisError(f"{jlv.source}: no luminance or photodiode column (found "
                            f"{', '.join(c for c in jlv.data.columns if c != 'sweep')}); "
                            "is this a solar-cell J-V file?")
    if "voltage_v" not in jlv.data.columns:
        raise AnalysisError(f"{jlv.source}: no voltage column")
    spectrum = _spectrum_from(el, calibration)
    if spectrum.integral_s_v <= 0:
        raise AnalysisError(f"{el.label}: the emission lies outside the visible range (∫S·V(λ) = 0), "
                            "so luminance-based EQE is undefined")
    result.warnings.extend(unit_warnings(jlv) + unit_warnings(el, ("x",)))
    if responsivity is not None:
        result.warnings.extend(unit_warnings(responsivity, ("x",)))
    sweep = _forward_sweep(jlv, result.warnings)
    voltage_v = sweep["voltage_v"]
    pixel_area_m2 = pixel_area_cm2 * 1e-4
    if "current_density_ma_cm2" in sweep:
        current_density_ma_cm2 = sweep["current_density_ma_cm2"]
    elif "current_a" in sweep:
        current_density_ma_cm2 = sweep["current_a"] * 1e3 / pixel_area_cm2
    else:
        raise AnalysisError(f"{jlv.source}: no current or current-density column")
    if "luminance_cd_m2" in sweep:
        luminance_cd_m2 = sweep["luminance_cd_m2"]
        if len(light) > 1:
            result.warnings.append("luminance column used; photodiode column ignored")
    else:
        luminance_cd_m2 = _photodiode_luminance(sweep, spectrum, responsivity, params, pixel_area_m2, result.warnings)
        result.parameters["luminance_source"] = "photodiode"

    current_density_a_m2 = current_density_ma_cm2 * 10.0  # 1 mA/cm² = 10 A/m²
    forward = (current_density_a_m2 > 0) & (luminance_cd_m2 > 0)
    if not forward.any():
        raise AnalysisError(f"{jlv.source}: no point with forward current and light output")
    # EQE (DESIGN.md): π·e·∫Sλ·L / (Km·h·c·∫S·V·J), λ in m, J in A/m² → fraction; ×100 for %.
    eqe_factor = (np.pi * ELEMENTARY_CHARGE_C * spectrum.integral_s_lambda_m
                  / (KM_LM_W * PLANCK_J_S * SPEED_OF_LIGHT_M_S * spectrum.integral_s_v))
    eqe_percent = np.full(voltage_v.shape, np.nan)
    current_efficiency_cd_a = np.full(voltage_v.shape, np.nan)
    power_efficacy_lm_w = np.full(voltage_v.shape, np.nan)
    j_ok, l_ok = current_density_a_m2[forward], luminance_cd_m2[forward]
    eqe_percent[forward] = 100.0 * eqe_factor * l_ok / j_ok
    current_efficiency_cd_a[forward] = l_ok / j_ok
    power_efficacy_lm_w[forward] = np.pi * l_ok / (j_ok * voltage_v[forward])

    # Efficiencies below the turn-on luminance are noise over a dark floor; look for maxima
    # among lit points when the device ever reaches 1 cd/m².
    lit = forward & (luminance_cd_m2 >= TURN_ON_LUMINANCE_CD_M2)
    if not lit.any():
        lit = forward
        result.warnings.append("luminance never reaches 1 cd/m²: maxima taken over all points with light")
    i_best = int(np.nanargmax(np.where(lit, eqe_percent, np.nan)))
    eqe_flags: tuple[str, ...] = ()
    if spectrum.visible_fraction < MIN_VISIBLE_FRACTION and "luminance_source" not in result.parameters:
        # A luminance meter sees only the visible tail of a near-infrared emitter: the EQE rests
        # on that tail through ∫S·V, which the spectrum's noise and calibration dominate.
        eqe_flags = ("mostly_outside_visible",)
        result.warnings.append(f"{el.label}: only {100 * spectrum.visible_fraction:.0f} % of the emission is visible: "
                               "an EQE from photopic luminance rests on the visible tail; measure the optical power "
                               "(photodiode route) for a near-infrared LED")
    result.add("eqe_max", eqe_percent[i_best], "%", flags=eqe_flags)
    result.add("j_at_eqe_max", current_density_ma_cm2[i_best], "mA/cm²")
    eqe_100 = None
    if forward.any():
        j_fwd = current_density_ma_cm2[forward]
        i_cross = np.nonzero(j_fwd >= ROLL_OFF_J_MA_CM2)[0]
        if i_cross.size and i_cross[0] > 0:
            k = i_cross[0]
            j0, j1 = np.log(j_fwd[k - 1]), np.log(j_fwd[k])
            e0, e1 = eqe_percent[forward][k - 1], eqe_percent[forward][k]
            eqe_100 = e0 + (np.log(ROLL_OFF_J_MA_CM2) - j0) / (j1 - j0) * (e1 - e0)
    if eqe_100 is not None:
        result.add("eqe_at_100_ma_cm2", eqe_100, "%", flags=eqe_flags)
    else:
        result.warnings.append("eqe_at_100_ma_cm2 not computed: the sweep does not cross 100 mA/cm²")
    result.add("luminance_max", float(np.nanmax(luminance_cd_m2)), "cd/m²")
    result.add("current_efficiency_max", float(np.nanmax(np.where(lit, current_efficiency_cd_a, np.nan))), "cd/A")
    result.add("power_efficacy_max", float(np.nanmax(np.where(lit, power_efficacy_lm_w, np.nan))), "lm/W")
    turn_on = _first_crossing(voltage_v, luminance_cd_m2, TURN_ON_LUMINANCE_CD_M2)
    if turn_on is not None:
        result.add("turn_on_voltage", turn_on, "V")
    else:
        result.warnings.append("turn_on_voltage not computed: luminance never crosses 1 cd/m² within the sweep")
    _add_spectrum_metrics(result, spectrum)
    result.arrays.update({
        "voltage_v": voltage_v,
        "current_density_ma_cm2": current_density_ma_cm2,
        "luminance_cd_m2": luminance_cd_m2,
        "eqe_percent": eqe_percent,
        "current_efficiency_cd_a": current_efficiency_cd_a,
        "power_efficacy_lm_w": power_efficacy_lm_w,
    })
    return result


def analyse_el(inputs: dict[str, list[ParsedData]], params: dict[str, Any]) -> AnalysisResult:
    calibration = (inputs.get("calibration") or [None])[0]
    result = AnalysisResult(method="led.el_spectrum", version=METHOD_VERSION)
    result.warnings.extend(unit_warnings(inputs["el"][0], ("x",)))
    _add_spectrum_metrics(result, _spectrum_from(inputs["el"][0], calibration))
    return result


# ---------------------------------------------------------------------------------------------
# Chart helpers (analysis/charts.py)


def _spectral_locus() -> np.ndarray:
    total = CIE_XYZ_BAR.sum(axis=1)
    keep = total > 1e-6
    xy = CIE_XYZ_BAR[keep, :2] / total[keep, None]
    return np.vstack([xy, xy[:1]])  # close along the purple line


_CALIBRATION_ROLE = Role("calibration", ("spectrum",), required=False,
                         help="spectrometer relative sensitivity vs nm (multiplies dark-corrected counts)")

register_analysis(AnalysisSpec(
    kind="jlv",
    method="led.jlv_el",
    version=METHOD_VERSION,
    func=analyse_jlv,
    roles=(
        Role("jlv", ("jlv",), help="J-L-V sweep: voltage, current, luminance or photodiode signal"),
        Role("el", ("spectrum",), help="EL spectrum of the same pixel"),
        Role("responsivity", ("spectrum",), required=False,
             help="photodiode responsivity (A/W) vs wavelength (nm), for the photodiode route"),
        _CALIBRATION_ROLE,
    ),
    params=(
        Param("pixel_area_cm2", float, required=True, help="emitting pixel area in cm², > 0"),
        Param("photodiode_radius_mm", float, help="photodiode active radius (photodiode route)"),
        Param("photodiode_distance_mm", float, help="pixel-to-photodiode distance (photodiode route)"),
        Param("resistor_ohm", float, help="load resistor when the photodiode is read as a voltage"),
    ),
    description="EQE, luminance, efficiencies, turn-on and colour from a J-L-V sweep and its EL spectrum",
))

register_analysis(AnalysisSpec(
    kind="el",
    method="led.el_spectrum",
    version=METHOD_VERSION,
    func=analyse_el,
    roles=(Role("el", ("spectrum",), help="EL spectrum"), _CALIBRATION_ROLE),
    description="EL peak, FWHM and CIE 1931 colour from an EL spectrum",
))
