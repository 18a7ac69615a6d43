"""Human names and units of the derived metrics: the one registry people read them through.

Canonical names (DESIGN.md) stay what the API, the exports and the code use; this maps each to
what a table header, a Compare selector or a traveller's Results box says ("EQE max (%)"), with
the significant digits it is shown to. Pure Python; the API serves it at /api/v1/metric-names/.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class MetricName:
    name: str  # canonical, as stored
    label: str  # what a person reads
    unit: str  # the unit the analyses store it in ("" for a pure number)
    digits: int = 4  # significant digits shown
    description: str = ""

    @property
    def heading(self) -> str:
        """'EQE max (%)', 'CIE x' (no empty brackets)."""
        return f"{self.label} ({self.unit})" if self.unit else self.label

    def to_dict(self) -> dict:
        return {**asdict(self), "heading": self.heading}


_M = MetricName
METRIC_NAMES: dict[str, MetricName] = {m.name: m for m in (
    _M("eqe_max", "EQE max", "%", 3, "Peak external quantum efficiency over the sweep (Lambertian)"),
    _M("eqe_at_100_ma_cm2", "EQE at 100 mA/cm²", "%", 3, "EQE interpolated at J = 100 mA/cm² (roll-off)"),
    _M("j_at_eqe_max", "J at EQE max", "mA/cm²", 3, "Current density where EQE max occurs"),
    _M("luminance_max", "Luminance max", "cd/m²", 4),
    _M("current_efficiency_max", "Current efficiency max", "cd/A", 3),
    _M("power_efficacy_max", "Power efficacy max", "lm/W", 3),
    _M("turn_on_voltage", "Turn-on voltage", "V", 3, "Lowest V with L ≥ 1 cd/m²"),
    _M("el_peak_wavelength", "EL peak", "nm", 4),
    _M("el_fwhm", "EL FWHM", "nm", 3),
    _M("cie_x", "CIE x", "", 3, "CIE 1931 2° chromaticity"),
    _M("cie_y", "CIE y", "", 3, "CIE 1931 2° chromaticity"),
    _M("t50", "T50", "h", 3, "Time to 50 % of the initial luminance"),
    _M("t70", "T70", "h", 3, "Time to 70 % of the initial luminance"),
    _M("t90", "T90", "h", 3, "Time to 90 % of the initial luminance"),
    _M("initial_luminance", "Initial luminance L0", "cd/m²", 4),
    _M("lifetime_acceleration_n", "Acceleration factor n", "", 3, "Fit of L0ⁿ·T50 = C"),
    _M("t50_at_100_cd", "T50 at 100 cd/m²", "h", 3, "T50 extrapolated to L0 = 100 cd/m²"),
    _M("pl_peak_wavelength", "PL peak", "nm", 4),
    _M("pl_peak_energy", "PL peak energy", "eV", 4),
    _M("pl_fwhm", "PL FWHM", "nm", 3),
    _M("plqy", "PLQY", "%", 3, "Photoluminescence quantum yield (de Mello)"),
    _M("tau_avg", "τ average", "ns", 3, "Intensity-weighted average lifetime Σaᵢτᵢ²/Σaᵢτᵢ"),
    _M("d_spacing", "d-spacing", "Å", 4, "Bragg's law, first peak"),
    _M("lattice_constant", "Lattice constant a", "Å", 4),
    _M("crystallite_size", "Crystallite size", "nm", 3, "Scherrer, K = 0.9"),
    _M("layer_spacing", "Layer spacing", "Å", 4),
    _M("optical_gap", "Optical gap", "eV", 3, "Tauc fit"),
    _M("first_exciton_peak_wavelength", "First exciton peak", "nm", 4),
)}


def metric_name(name: str, unit: str = "") -> MetricName:
    """The registry entry; a metric it does not know (a fitted component, a TA band) reads as its
    canonical name with the stored unit, so nothing is hidden."""
    found = METRIC_NAMES.get(name)
    if found is not None:
        return found
    return MetricName(name, name.replace("_", " "), unit, 4)


def metric_heading(name: str, unit: str = "") -> str:
    return metric_name(name, unit).heading


def format_significant(value, digits: int = 4) -> str:
    """A number to ``digits`` significant digits, keeping significant trailing zeros (17.998 →
    "18.0" at 3), no exponent for lab-sized numbers, integers as integers; "–" for nothing."""
    if value is None or value == "":
        return "–"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number.is_integer() and abs(number) < 1e7:
        return str(int(number))  # counts (pl_band_count, pixels) and exact values read as integers
    text = f"{number:#.{int(digits)}g}"
    if "e" in text and 1e-4 <= abs(number) < 1e7:
        text = f"{number:.6f}".rstrip("0").rstrip(".")
    return text.rstrip(".") if "e" not in text else text


def format_metric_value(name: str, value) -> str:
    """A metric's value to its registry's significant digits (one number format per metric)."""
    return format_significant(value, metric_name(name).digits)
