"""A deterministic demo campaign: six weeks of QD-in-matrix LED process development.

What it is
----------
30 devices (stack A, PROCESS.md §6) × 4 pixels of 0.09 cm², made five a week for six weeks from
Monday 8 March 2021, the week after the PROCESS.md chain. Every device has its own emissive-layer
film run (the QD-in-matrix film recipe, PROCESS.md §5) on its own substrate; the matrix precursor
(PROCESS.md §4) is made twice a week (Monday for the first two devices, Wednesday for the other
three) and shared by the devices of that half-week; the QD ink
(PROCESS.md §1–3) is made once a week. The film recipe goes through three versions:

=======  ======  ==============================================================================
version  weeks   what changed
=======  ======  ==============================================================================
v1       1–2     PROCESS.md as written
v2       3–4     second anneal shortened to 6 min (range 5–10 min kept)
v3       5–6     QD-ink drip nominal raised to 175 µL (range 100–200 µL kept)
=======  ======  ==============================================================================

The knobs are varied on purpose, inside the paper's ranges, by a Latin hypercube per version
(scipy.stats.qmc, "random-cd" optimised, so the knobs are close to uncorrelated):

- QD-ink drip volume 100–200 µL (film step 4 ``volume``), per device
- first anneal temperature 45–55 °C (film step 5 ``temperature``), per device; two runs are logged
  outside the range (57 °C, a hot-plate overshoot in week 2; 44 °C in week 5) and so are deviations
- drip time 25–27 s into spin step 2 (film step 4 ``time``), per device — **no effect** (the null)
- PEA/Pb 0.55–0.80 (⟨n⟩ = 3.6–2.5) by weighing PEAI 82–120 mg into the 1.5 mL matrix precursor
  (precursor step 1 ``peai``; PEA/Pb = 0.6667 at the paper's 99.64 mg), per precursor batch
- the PEAI chemical lot: DEMO-PEAI-01 in weeks 1–4, **DEMO-PEAI-02** (a wet bottle) for the second
  precursor batch of week 4 only (three devices), DEMO-PEAI-03 in weeks 5–6 (the matrix precursor recipe's v2,
  "PEA/Pb screening", gives PEAI the range 80–120 mg so the weighings are not deviations)

Ground truth
------------
With the standardised knobs d = (drip − 150 µL)/50 µL, a = (anneal − 50 °C)/5 °C,
p = (PEA/Pb − 0.6667)/0.1 and bad = 1 for a device whose precursor used DEMO-PEAI-02:

- **EQE** (the peak of each pixel's EQE–J curve, %)::

      EQE_peak = 15.0 + 2.4·d − 0.6·d² − 1.2·p + 0.8·a − 2.5·bad + u_week + e_device

  then × (1 + e_pixel) per pixel; u_week ~ N(0, 0.15²) (the week's QD ink), e_device ~ N(0, 0.25²),
  e_pixel ~ N(0, 0.02²). Drivers of ``eqe_max`` in order: drip (+) > PEA/Pb (−) > anneal (+);
  drip time none; the bad lot lowers it.
- **T50** (h, at L0 = 1000 cd/m², constant current, one lifetime run per device on its first
  working pixel)::

      ln T50 = ln 20 + 0.30·p + 0.15·a + 0.05·d − 1.0·bad + e_device,   e_device ~ N(0, 0.08²)

  Drivers of ``t50``: the lot (DEMO-PEAI-02 ≈ ×0.37), then PEA/Pb (+) > anneal (+); drip time none.
- **L_max** follows from the forward model below: the J–V curve is a diode (n·kT/q = 0.30 V,
  I0 = 2·10⁻¹¹ A) behind a series resistance R_s = 120 Ω · exp(0.35·p) · (1 + 0.6·bad), swept
  0–8 V in 50 mV steps to a 36 mA compliance; EQE(J) = EQE_peak · exp(−ln²(J/J_p)/(2·2.8²)) (the
  log-normal roll-off of tests/data/public/jlv_sweep.csv) with J_p = 2.9 mA/cm² · exp(0.15·d). So
  ``luminance_max`` rises with drip and anneal (through EQE) and falls with PEA/Pb and the bad lot
  (through EQE and R_s).

Files (the same physics and formats as tests/data/public/jlv_sweep.csv and el_spectrum.txt)
------------------------------------------------------------------------------------------
- J-L-V: ``Voltage (V),Current (A),Luminance (cd/m2)``. Luminance from DESIGN.md's EQE definition
  inverted: L = EQE·J/F with F = π·e·∫Sλdλ / (Km·h·c·∫S·V dλ) (Km = 683 lm/W, CIE 1924 photopic
  V(λ) from colour-science, J in A/m²), computed here from the pixel's noise-free spectrum with
  its own code, so the analysis (measurements/analysis/led.py) recovers EQE_peak independently.
  Noise: 0.4 % on current, 0.8 % on luminance; the luminance meter reads 0 below 0.001 cd/m².
- EL: OceanView text export, 400–900 nm, 1044 pixels, dark level ≈ 520 counts, σ 3 counts; the
  emission is a main Gaussian at 648 nm + 0.8·p nm (FWHM 30 nm, 32 nm for the bad lot) and a 15 %
  red shoulder.
- Lifetime: ``Time (h),Luminance (cd/m2),Voltage (V)``, a stretched exponential
  L/L0 = exp(−(t/τ)^β), β ≈ 0.85, sampled at 400 points to 1.5·T50, 0.4 % noise.
- Three pixels are **shorted** (a 150 Ω path: current at compliance from ~5.4 V, no light, a dark
  spectrum); their analyses fail with a reason and they carry no metric.

Everything comes from one ``numpy.random.Generator(PCG64(seed))`` in a fixed order, so
``generate()`` returns the same campaign, byte for byte, for the same seed and pinned numpy/scipy.
Pure Python: no Django.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from functools import cache

import numpy as np

SEED = 20210308
START = dt.date(2021, 3, 8)  # the Monday after the PROCESS.md chain (2021-03-01 … 04)
WEEKS = 6
DEVICES_PER_WEEK = 5
PIXEL_NAMES = ("A", "B", "C", "D")
PIXEL_AREA_CM2 = 0.09
FILM_VERSION_BY_WEEK = {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3}
FILM_VERSION_NOTES = {
    2: "Second anneal shortened to 6 min (weeks 1–2 showed no loss at the short end of 5–10 min)",
    3: "QD-ink drip nominal 175 µL: more QD ink gave brighter devices in weeks 1–4",
}
SECOND_ANNEAL_MIN_BY_VERSION = {1: 7.5, 2: 6.0, 3: 6.0}
DRIP_NOMINAL_UL_BY_VERSION = {1: 150.0, 2: 150.0, 3: 175.0}

DRIP_UL = (100.0, 200.0)  # PROCESS.md §5
DRIP_S = (25.0, 27.0)
ANNEAL_C = (45.0, 55.0)
PEA_PB = (0.55, 0.80)
PEA_PB_REFERENCE = 2 / 3  # PROCESS.md §4: 0.40 mmol PEAI / 0.60 mmol Pb
PEAI_MG_REFERENCE = 99.64  # mg of PEAI in 1.5 mL at PEA/Pb = 2/3
PEAI_RANGE_MG = (80.0, 120.0)  # the matrix precursor's "PEA/Pb screening" version

GOOD_LOT, BAD_LOT, NEW_LOT = "DEMO-PEAI-01", "DEMO-PEAI-02", "DEMO-PEAI-03"
ANNEAL_DEVIATIONS = {7: 57.0, 22: 44.0}  # device index → logged anneal temperature (°C), out of 45–55
SHORTED_PIXELS = 3
LIFETIME_L0_CD_M2 = 1000.0

# Ground-truth coefficients (module docstring); tests and the README quote them from here.
EQE_BASE, EQE_DRIP, EQE_DRIP2, EQE_PEA, EQE_ANNEAL, EQE_BAD = 15.0, 2.4, -0.6, -1.2, 0.8, -2.5
EQE_WEEK_SD, EQE_DEVICE_SD, EQE_PIXEL_SD = 0.15, 0.25, 0.02
T50_BASE_H, T50_PEA, T50_ANNEAL, T50_DRIP, T50_BAD, T50_DEVICE_SD = 20.0, 0.30, 0.15, 0.05, -1.0, 0.08
RS_BASE_OHM, RS_PEA, RS_BAD = 120.0, 0.35, 0.6
J_PEAK_MA_CM2, J_PEAK_DRIP, ROLL_OFF_WIDTH = 2.9, 0.15, 2.8
DIODE_N_VT_V, DIODE_I0_A, SHUNT_OHM, COMPLIANCE_A, SHORT_OHM = 0.30, 2e-11, 1e10, 0.036, 150.0

# What the drivers should find (metric → knobs in order of effect, with the sign); the knob names
# are the keys of Knobs. "drip_s" has no effect on anything.
GROUND_TRUTH = {
    "eqe_max": [("drip_ul", +1), ("pea_pb", -1), ("anneal_c", +1)],
    "t50": [("pea_pb", +1), ("anneal_c", +1)],
    "luminance_max": [("pea_pb", -1), ("drip_ul", +1)],
}
NULL_KNOB = "drip_s"

# Physical constants (CODATA 2018 exact; Km from the SI definition of the candela).
_E_C, _H_J_S, _C_M_S, _KM_LM_W = 1.602176634e-19, 6.62607015e-34, 299792458.0, 683.0
VOLTAGE_V = np.round(np.arange(0.0, 8.0 + 1e-9, 0.05), 4)
WAVELENGTH_NM = np.linspace(400.0, 900.0, 1044)


@dataclass(frozen=True)
class Knobs:
    drip_ul: float
    drip_s: float
    anneal_c: float
    pea_pb: float
    bad_lot: bool

    @property
    def standardised(self) -> tuple[float, float, float]:
        """(d, a, p) of the module docstring."""
        return ((self.drip_ul - 150.0) / 50.0, (self.anneal_c - 50.0) / 5.0, (self.pea_pb - PEA_PB_REFERENCE) / 0.1)


def true_eqe_peak_percent(k: Knobs) -> float:
    """The ground truth without its random effects (the docstring's EQE_peak with u = e = 0)."""
    d, a, p = k.standardised
    return EQE_BASE + EQE_DRIP * d + EQE_DRIP2 * d * d + EQE_PEA * p + EQE_ANNEAL * a + EQE_BAD * k.bad_lot


def true_t50_h(k: Knobs) -> float:
    d, a, p = k.standardised
    return T50_BASE_H * math.exp(T50_PEA * p + T50_ANNEAL * a + T50_DRIP * d + T50_BAD * k.bad_lot)


def true_series_resistance_ohm(k: Knobs) -> float:
    _, _, p = k.standardised
    return RS_BASE_OHM * math.exp(RS_PEA * p) * (1 + RS_BAD * k.bad_lot)


def true_peak_current_density_ma_cm2(k: Knobs) -> float:
    d, _, _ = k.standardised
    return J_PEAK_MA_CM2 * math.exp(J_PEAK_DRIP * d)


# --- forward model ------------------------------------------------------------------------------

@cache
def _photopic_on_grid() -> np.ndarray:
    """CIE 1924 photopic V(λ) on WAVELENGTH_NM (colour-science's table, zero outside it)."""
    from colour.colorimetry import SDS_LEFS_PHOTOPIC

    photopic = SDS_LEFS_PHOTOPIC["CIE 1924 Photopic Standard Observer"]
    return np.interp(WAVELENGTH_NM, np.asarray(photopic.wavelengths, float), np.asarray(photopic.values, float),
                     left=0.0, right=0.0)


def el_shape(peak_nm: float, fwhm_nm: float) -> np.ndarray:
    """Relative spectral power on WAVELENGTH_NM: a Gaussian and a 15 % shoulder 12 nm to the red."""
    sigma = fwhm_nm / (2 * math.sqrt(2 * math.log(2)))
    main = np.exp(-0.5 * ((WAVELENGTH_NM - peak_nm) / sigma) ** 2)
    shoulder = 0.15 * np.exp(-0.5 * ((WAVELENGTH_NM - peak_nm - 12.0) / (1.6 * sigma)) ** 2)
    return main + shoulder


def luminance_factor(spectrum: np.ndarray) -> float:
    """F in EQE = F·L/J (J in A/m², EQE as a fraction): π·e·∫Sλdλ / (Km·h·c·∫S·V dλ)."""
    s_lambda = np.trapezoid(spectrum * WAVELENGTH_NM * 1e-9, WAVELENGTH_NM)
    s_v = np.trapezoid(spectrum * _photopic_on_grid(), WAVELENGTH_NM)
    return math.pi * _E_C * s_lambda / (_KM_LM_W * _H_J_S * _C_M_S * s_v)


def diode_current_a(voltage_v: np.ndarray, series_ohm: float, i0_a: float = DIODE_I0_A,
                    n_vt_v: float = DIODE_N_VT_V) -> np.ndarray:
    """I(V) of a diode behind a series resistance (explicit Lambert-W solution) plus a shunt,
    clipped at the source meter's compliance."""
    from scipy.special import lambertw

    arg = (i0_a * series_ohm / n_vt_v) * np.exp((voltage_v + i0_a * series_ohm) / n_vt_v)
    diode = (n_vt_v / series_ohm) * np.real(lambertw(arg)) - i0_a
    return np.minimum(diode + voltage_v / SHUNT_OHM, COMPLIANCE_A)


def eqe_percent_at(j_ma_cm2: np.ndarray, eqe_peak_percent: float, j_peak_ma_cm2: float,
                   width: float = ROLL_OFF_WIDTH) -> np.ndarray:
    """EQE(J): a log-normal bell around J_p (the shape of the public reference sweep)."""
    j = np.maximum(j_ma_cm2, 1e-30)
    return eqe_peak_percent * np.exp(-np.log(j / j_peak_ma_cm2) ** 2 / (2 * width * width))


# --- the campaign -------------------------------------------------------------------------------

@dataclass
class PrecursorBatch:
    index: int
    week: int
    day: dt.date
    pea_pb: float
    peai_lot: str
    masses_mg: dict[str, float]  # what was weighed (actual values), by recipe parameter key

    @property
    def bad(self) -> bool:
        return self.peai_lot == BAD_LOT


@dataclass
class PixelData:
    name: str
    shorted: bool
    eqe_peak_percent: float | None  # the truth this pixel was made with (None when shorted)
    luminance_max_cd_m2: float | None  # the luminance_max of its noise-free sweep
    jlv: bytes
    el: bytes


@dataclass
class DeviceData:
    index: int
    week: int
    day: dt.date
    film_version: int
    precursor: int  # PrecursorBatch.index
    knobs: Knobs
    eqe_peak_percent: float  # device truth incl. its random effects (before the pixel factor)
    pixels: list[PixelData]
    lifetime_pixel: str
    lifetime_l0_cd_m2: float
    t50_h: float  # the T50 its lifetime file was made with
    lifetime: bytes

    @property
    def measured_at(self) -> dt.datetime:
        return dt.datetime.combine(self.day + dt.timedelta(days=1), dt.time(10, 0), tzinfo=dt.UTC)


@dataclass
class Campaign:
    seed: int
    weeks: int
    precursors: list[PrecursorBatch]
    devices: list[DeviceData]
    weekly_ink: dict[int, dict[str, float]] = field(default_factory=dict)  # week → logged QD-run actuals

    def truth_table(self):
        """One row per pixel with the knobs and the true metrics (what the tests compare with)."""
        import pandas as pd

        rows = []
        for dev in self.devices:
            for px in dev.pixels:
                rows.append({"device": dev.index, "pixel": px.name, "week": dev.week, "film_version": dev.film_version,
                             "precursor": dev.precursor, "peai_lot": self.precursors[dev.precursor].peai_lot,
                             "drip_ul": dev.knobs.drip_ul, "drip_s": dev.knobs.drip_s, "anneal_c": dev.knobs.anneal_c,
                             "pea_pb": dev.knobs.pea_pb, "bad_lot": dev.knobs.bad_lot, "shorted": px.shorted,
                             "eqe_peak_percent": px.eqe_peak_percent, "luminance_max_cd_m2": px.luminance_max_cd_m2,
                             "t50_h": dev.t50_h if px.name == dev.lifetime_pixel else None})
        return pd.DataFrame(rows)


def _lhs(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=d, optimization="random-cd", rng=rng).random(n)


def _scale(u: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    return bounds[0] + u * (bounds[1] - bounds[0])


def _jlv_bytes(current_a: np.ndarray, luminance_cd_m2: np.ndarray) -> bytes:
    lines = ["Voltage (V),Current (A),Luminance (cd/m2)"]
    for v, i, lum in zip(VOLTAGE_V, current_a, luminance_cd_m2, strict=True):
        lum_text = "0" if lum <= 0 else f"{lum:.5g}"
        lines.append(f"{v:.4f},{i:.6e},{lum_text}")
    return ("\n".join(lines) + "\n").encode()


def _el_bytes(counts: np.ndarray, when: dt.datetime, label: str) -> bytes:
    header = [
        f"Data from EL_{label}.txt Node", "",
        f"Date: {when:%a %b %d %H:%M:%S} UTC {when:%Y}", "User: glovebox", "Spectrometer: QEP01234",
        "Trigger mode: 0", "Integration Time (sec): 1.000000E-01", "Scans to average: 3",
        "Electric dark correction enabled: true", "Nonlinearity correction enabled: true", "Boxcar width: 0",
        "XAxis mode: Wavelengths", f"Number of Pixels in Spectrum: {WAVELENGTH_NM.size}",
        ">>>>>Begin Spectral Data<<<<<",
    ]
    rows = [f"{w:.3f}\t{c:.2f}" for w, c in zip(WAVELENGTH_NM, counts, strict=True)]
    return ("\n".join(header + rows) + "\n").encode()


def _lifetime_bytes(time_h: np.ndarray, luminance: np.ndarray, voltage: np.ndarray, label: str, j_ma_cm2: float) -> bytes:
    lines = [f"# {label}: constant current {j_ma_cm2:.2f} mA/cm2 set for L0 = 1000 cd/m2, ambient 24 C, RH 30%",
             "Time (h),Luminance (cd/m2),Voltage (V)"]
    lines += [f"{t:.5f},{lum:.2f},{v:.3f}" for t, lum, v in zip(time_h, luminance, voltage, strict=True)]
    return ("\n".join(lines) + "\n").encode()


def _pixel_files(rng: np.random.Generator, *, knobs: Knobs, eqe_peak: float | None, series_ohm: float,
                 when: dt.datetime, label: str, shorted: bool) -> PixelData:
    _, _, p = knobs.standardised
    peak_nm = 648.0 + 0.8 * p + rng.normal(0, 0.3)
    fwhm_nm = (32.0 if knobs.bad_lot else 30.0) + rng.normal(0, 0.3)
    shape = el_shape(peak_nm, fwhm_nm)
    dark = 520.0 + rng.normal(0, 3.0, WAVELENGTH_NM.size)
    if shorted:
        current = np.minimum(VOLTAGE_V / SHORT_OHM, COMPLIANCE_A) * (1 + rng.normal(0, 0.004, VOLTAGE_V.size))
        luminance = np.zeros_like(VOLTAGE_V)
        return PixelData(label[-1], True, None, None, _jlv_bytes(current, luminance), _el_bytes(dark, when, label))
    current_clean = diode_current_a(VOLTAGE_V, series_ohm)
    j_ma_cm2 = current_clean * 1e3 / PIXEL_AREA_CM2
    eqe = eqe_percent_at(j_ma_cm2, eqe_peak, true_peak_current_density_ma_cm2(knobs))
    luminance_clean = eqe / 100.0 * (j_ma_cm2 * 10.0) / luminance_factor(shape)
    current = current_clean * (1 + rng.normal(0, 0.004, VOLTAGE_V.size))
    luminance = luminance_clean * (1 + rng.normal(0, 0.008, VOLTAGE_V.size))
    luminance[luminance < 1e-3] = 0.0
    counts = dark + 18000.0 * (eqe_peak / 15.0) * shape
    return PixelData(label[-1], False, float(eqe_peak), float(luminance_clean.max()),
                     _jlv_bytes(current, luminance), _el_bytes(counts, when, label))


def _lifetime(rng: np.random.Generator, t50_h: float, label: str) -> tuple[float, bytes]:
    beta = 0.85 + rng.normal(0, 0.03)
    tau_h = t50_h / math.log(2) ** (1 / beta)
    l0 = LIFETIME_L0_CD_M2 * (1 + rng.normal(0, 0.01))
    time_h = np.linspace(0.0, 1.5 * t50_h, 400)
    luminance = l0 * np.exp(-((time_h / tau_h) ** beta)) * (1 + rng.normal(0, 0.004, time_h.size))
    voltage = 4.10 + 0.25 * (1 - luminance / l0) + rng.normal(0, 0.001, time_h.size)
    j_ma_cm2 = 10.0 + rng.normal(0, 0.5)
    return float(l0), _lifetime_bytes(time_h, luminance, voltage, label, j_ma_cm2)


def generate(seed: int = SEED) -> Campaign:
    """The campaign of the module docstring (deterministic for a seed)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    n_devices = WEEKS * DEVICES_PER_WEEK
    # Precursor batches: two a week (Monday for the first two devices, Wednesday for the other three).
    n_batches = 2 * WEEKS
    pea_levels = _scale((rng.permutation(n_batches) + rng.uniform(size=n_batches)) / n_batches, PEA_PB)
    precursors = []
    for b in range(n_batches):
        week = b // 2 + 1
        lot = NEW_LOT if week >= 5 else BAD_LOT if (week == 4 and b % 2 == 1) else GOOD_LOT
        pea_pb = float(pea_levels[b])
        masses = {"pbbr2": 146.80 + rng.normal(0, 0.12), "pbi2": 92.20 + rng.normal(0, 0.12),
                  "csi": 83.14 + rng.normal(0, 0.12), "mai": 12.72 + rng.normal(0, 0.03),
                  "peai": PEAI_MG_REFERENCE * pea_pb / PEA_PB_REFERENCE}
        day = START + dt.timedelta(weeks=week - 1, days=0 if b % 2 == 0 else 2)
        precursors.append(PrecursorBatch(b, week, day, pea_pb, lot, {k: round(v, 2) for k, v in masses.items()}))
    weekly_ink = {w: {"cs2co3_mg": round(300.0 + rng.normal(0, 0.4), 1), "injection_ml": round(0.85 + rng.normal(0, 0.015), 3),
                      "injection_c": round(170.0 + rng.normal(0, 0.8), 1)} for w in range(1, WEEKS + 1)}
    week_effect = rng.normal(0, EQE_WEEK_SD, WEEKS + 1)
    # The knobs: a Latin hypercube per film version over (drip volume, anneal temperature, drip time).
    per_version = n_devices // 3
    design = np.vstack([_lhs(per_version, 3, rng) for _ in range(3)])
    shorted = set(rng.choice(n_devices * 4, size=SHORTED_PIXELS, replace=False).tolist())
    devices = []
    for i in range(n_devices):
        week, slot = i // DEVICES_PER_WEEK + 1, i % DEVICES_PER_WEEK
        batch = precursors[2 * (week - 1) + (0 if slot < 2 else 1)]
        drip_ul = float(np.round(_scale(design[i, 0], DRIP_UL), 0))
        anneal_c = float(np.round(_scale(design[i, 1], ANNEAL_C), 1))
        anneal_c = ANNEAL_DEVIATIONS.get(i, anneal_c)
        drip_s = float(np.round(_scale(design[i, 2], DRIP_S), 1))
        knobs = Knobs(drip_ul=drip_ul, drip_s=drip_s, anneal_c=anneal_c, pea_pb=batch.pea_pb, bad_lot=batch.bad)
        eqe_device = true_eqe_peak_percent(knobs) + week_effect[week] + rng.normal(0, EQE_DEVICE_SD)
        t50 = true_t50_h(knobs) * math.exp(rng.normal(0, T50_DEVICE_SD))
        series = true_series_resistance_ohm(knobs) * (1 + rng.normal(0, 0.03))
        day = START + dt.timedelta(weeks=week - 1, days=slot)
        when = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(10, 0), tzinfo=dt.UTC)
        pixels = []
        for k, name in enumerate(PIXEL_NAMES):
            is_short = (4 * i + k) in shorted
            eqe_pixel = None if is_short else eqe_device * (1 + rng.normal(0, EQE_PIXEL_SD))
            pixels.append(_pixel_files(rng, knobs=knobs, eqe_peak=eqe_pixel, series_ohm=series * (1 + rng.normal(0, 0.02)),
                                       when=when + dt.timedelta(minutes=5 * k), label=f"campaign-{i + 1:02d}-{name}",
                                       shorted=is_short))
        lifetime_pixel = next(p.name for p in pixels if not p.shorted)
        l0, lifetime = _lifetime(rng, t50, f"campaign-{i + 1:02d}-{lifetime_pixel}")
        devices.append(DeviceData(i, week, day, FILM_VERSION_BY_WEEK[week], batch.index, knobs, float(eqe_device),
                                  pixels, lifetime_pixel, l0, float(t50), lifetime))
    return Campaign(seed=seed, weeks=WEEKS, precursors=precursors, devices=devices, weekly_ink=weekly_ink)
