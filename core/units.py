"""Units LEDger accepts on recipe parameters and run values, with conversions within a dimension.

Pure Python. One table so that forms, the API and deviation checks agree on what "µL" means.
"""

from __future__ import annotations

# unit -> (dimension, factor to the dimension's base unit)
UNITS: dict[str, tuple[str, float]] = {
    "mg": ("mass", 1e-3), "g": ("mass", 1.0), "µg": ("mass", 1e-6),
    "mmol": ("amount", 1e-3), "mol": ("amount", 1.0), "µmol": ("amount", 1e-6),
    "µL": ("volume", 1e-3), "mL": ("volume", 1.0), "L": ("volume", 1e3),
    "M": ("molarity", 1.0), "mM": ("molarity", 1e-3),
    "mg/mL": ("concentration", 1.0),
    "s": ("time", 1.0), "min": ("time", 60.0), "h": ("time", 3600.0),
    "°C": ("temperature", 1.0),
    "rpm": ("speed", 1.0), "rpm/s": ("acceleration", 1.0),
    "nm": ("length", 1.0), "Å": ("length", 0.1), "µm": ("length", 1e3), "mm": ("length", 1e6),
    "Å/s": ("rate", 1.0), "nm/s": ("rate", 10.0),
    "Torr": ("pressure", 1.0), "mbar": ("pressure", 0.750062), "Pa": ("pressure", 0.00750062),
    "cm²": ("area", 1.0), "mm²": ("area", 0.01),
    "%": ("fraction", 1.0), "wt%": ("mass_fraction", 1.0), "ppm": ("trace", 1.0),
    "g/mL": ("density", 1.0), "g/mol": ("molar_mass", 1.0),
    "eV": ("energy", 1.0), "OD": ("optical_density", 1.0),
    "W": ("power", 1.0), "mA/cm²": ("current_density", 1.0), "V": ("voltage", 1.0),
    "": ("dimensionless", 1.0),
}

# Common ways people type a unit -> the canonical spelling above.
ALIASES = {
    "ul": "µL", "uL": "µL", "μL": "µL", "ml": "mL", "l": "L", "ug": "µg", "umol": "µmol",
    "degC": "°C", "C": "°C", "oC": "°C", "sec": "s", "mins": "min", "hr": "h", "hrs": "h",
    "A": "Å", "angstrom": "Å", "A/s": "Å/s", "cm2": "cm²", "mm2": "mm²", "mg/ml": "mg/mL",
    "torr": "Torr", "g/ml": "g/mL", "mA/cm2": "mA/cm²", "wt %": "wt%", "μm": "µm", "um": "µm",
}

UNIT_CHOICES = [(u, u or "—") for u in UNITS]


class UnitError(ValueError):
    pass


def canonical_unit(unit: str) -> str:
    unit = (unit or "").strip()
    unit = ALIASES.get(unit, unit)
    if unit not in UNITS:
        raise UnitError(f"unknown unit {unit!r}; use one of: {', '.join(u for u in UNITS if u)}")
    return unit


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert between units of the same dimension (°C only to itself)."""
    src, dst = canonical_unit(from_unit), canonical_unit(to_unit)
    if src == dst:
        return value
    (dim_a, fa), (dim_b, fb) = UNITS[src], UNITS[dst]
    if dim_a != dim_b:
        raise UnitError(f"cannot convert {src} ({dim_a}) to {dst} ({dim_b})")
    return value * fa / fb


def dimension(unit: str) -> str:
    return UNITS[canonical_unit(unit)][0]


# Dimensions as a person picks them on a form, in the order of UNITS, each with its units.
DIMENSION_LABELS = {
    "mass": "mass", "amount": "amount of substance", "volume": "volume", "molarity": "molarity",
    "concentration": "mass concentration", "time": "time", "temperature": "temperature", "speed": "spin speed",
    "acceleration": "spin acceleration", "length": "length / thickness", "rate": "deposition rate",
    "pressure": "pressure", "area": "area", "fraction": "fraction", "mass_fraction": "mass fraction",
    "trace": "trace level", "density": "density", "molar_mass": "molar mass", "energy": "energy",
    "optical_density": "optical density", "power": "power", "current_density": "current density",
    "voltage": "voltage", "dimensionless": "number without unit",
}


def units_of(dim: str) -> list[str]:
    return [u for u, (d, _) in UNITS.items() if d == dim]


def dimension_choices() -> list[tuple[str, str]]:
    """``[("mass", "mass (mg, g, µg)"), …]``: every dimension of UNITS, labelled with its units."""
    seen = dict.fromkeys(d for d, _ in UNITS.values())
    out = []
    for dim in seen:
        units = ", ".join(u for u in units_of(dim) if u)
        label = DIMENSION_LABELS.get(dim, dim.replace("_", " "))
        out.append((dim, f"{label} ({units})" if units else label))
    return out


def grouped_unit_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """UNIT_CHOICES grouped by dimension, for an <optgroup> select."""
    return [(DIMENSION_LABELS.get(dim, dim), [(u, u or "—") for u in units_of(dim)])
            for dim in dict.fromkeys(d for d, _ in UNITS.values())]
