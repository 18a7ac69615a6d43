"""Amounts of a reagent: mg, g, mmol, mol, µL/mL of a liquid, or mg/mL stock × volume.

Everything is converted to mmol of the reagent's formula unit. A mass is what goes on the balance
and a volume what the pipette delivers, so both include the non-active part of a reagent that is
not 100 wt % (the water of 57 wt % HI): amount_mmol = mass_mg × wt% / 100 / M.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ChemistryError
from .reagents import Reagent, ReagentLibrary, default_library

MASS_UNITS_MG = {"mg": 1.0, "g": 1000.0, "ug": 1e-3}  # unit → mg
AMOUNT_UNITS_MMOL = {"mmol": 1.0, "mol": 1000.0, "umol": 1e-3}  # unit → mmol
VOLUME_UNITS_ML = {"ml": 1.0, "ul": 1e-3, "l": 1000.0}  # unit → mL
_UNIT_SPELLINGS = "mg, g, mmol, mol, µL, mL, or mg/mL stock × volume"


def normalize_unit(unit: str) -> str:
    """"µL", "μL", "uL", "ul" → "ul"; "mL" → "ml"; raises ChemistryError for anything else."""
    text = unicodedata.normalize("NFKC", str(unit or "")).strip()
    key = text.replace("µ", "u").replace("μ", "u").lower()
    if key in MASS_UNITS_MG or key in AMOUNT_UNITS_MMOL or key in VOLUME_UNITS_ML:
        return key
    raise ChemistryError(f"unknown unit {unit!r}; use one of {_UNIT_SPELLINGS}")


def _check_value(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ChemistryError(f"{what} must be a number (got {value!r})") from None
    if not math.isfinite(number):
        raise ChemistryError(f"{what} must be a finite number (got {value!r})")
    if number < 0:
        raise ChemistryError(f"{what} cannot be negative (got {number:g})")
    return number


def amount_mmol(reagent: Reagent, value: float, unit: str) -> float:
    """mmol of ``reagent`` in ``value`` ``unit`` (mg, g, mmol, mol, µL, mL).

    >>> round(amount_mmol(default_library().get("HI"), 300, "µL"), 3)  # 57 wt %, 1.70 g/mL
    2.273
    """
    unit_key = normalize_unit(unit)
    number = _check_value(value, f"amount of {reagent.name}")
    if unit_key in AMOUNT_UNITS_MMOL:
        return number * AMOUNT_UNITS_MMOL[unit_key]
    if unit_key in MASS_UNITS_MG:
        mass_mg = number * MASS_UNITS_MG[unit_key]
    else:
        if reagent.density_g_ml is None:
            raise ChemistryError(
                f"{reagent.name} is not a liquid on record (no density), so {number:g} {unit} cannot be converted to mmol; "
                "give a solid in mg or mmol, a stock solution as mg/mL × volume, "
                "or add the density in Chemicals")
        mass_mg = number * VOLUME_UNITS_ML[unit_key] * reagent.density_g_ml * 1000.0  # g/mL × mL → mg
    return mass_mg * reagent.purity_wt_percent / 100.0 / reagent.molar_mass_g_mol


def stock_amount_mmol(reagent: Reagent, stock_mg_ml: float, volume_ml: float) -> float:
    """mmol in ``volume_ml`` of a stock made with ``stock_mg_ml`` mg of reagent per mL.

    >>> round(stock_amount_mmol(default_library().get("IPAI"), 250, 0.1), 4)  # PROCESS.md §3
    0.1337
    """
    concentration = _check_value(stock_mg_ml, f"stock concentration of {reagent.name} (mg/mL)")
    volume = _check_value(volume_ml, f"volume of the {reagent.name} stock (mL)")
    return amount_mmol(reagent, concentration * volume, "mg")


def mass_to_weigh_mg(reagent: Reagent, amount_mmol: float) -> float:
    """Mass on the balance for ``amount_mmol`` (includes the inactive part below 100 wt %)."""
    return amount_mmol * reagent.molar_mass_g_mol * 100.0 / reagent.purity_wt_percent


def volume_to_dispense_ul(reagent: Reagent, amount_mmol: float) -> float | None:
    """Volume to pipette for ``amount_mmol`` of a liquid; None for a solid (no density)."""
    if reagent.density_g_ml is None:
        return None
    return mass_to_weigh_mg(reagent, amount_mmol) / reagent.density_g_ml  # mg / (g/mL) = µL


def molarity_m(amount_mmol: float, volume_ml: float) -> float:
    """mmol / mL = mol / L. The solute's own volume is neglected, as in the paper's recipes."""
    if not volume_ml > 0:
        raise ChemistryError(f"the solvent volume must be positive (got {volume_ml} mL)")
    return amount_mmol / volume_ml


_QUANTITY = re.compile(r"^\s*([-+]?\d+(?:[.,]\d*)?(?:[eE][-+]?\d+)?)\s*([^\d\s].*?)\s*$")


def parse_quantity(text: str) -> tuple[float, str]:
    """"300 µL" → (300.0, "ul"); "0,4 mmol" → (0.4, "mmol")."""
    match = _QUANTITY.match(unicodedata.normalize("NFKC", text or ""))
    if not match:
        raise ChemistryError(f"cannot read the amount {text!r}; write a number and a unit, e.g. 300 µL or 83.14 mg")
    return float(match.group(1).replace(",", ".")), normalize_unit(match.group(2))


@dataclass(frozen=True)
class Component:
    """A reagent and how much of it, in mmol of its formula unit."""

    reagent: Reagent
    amount_mmol: float
    given_as: str = ""  # how the user gave it ("300 µL"), for the traveller sheet

    @property
    def molar_mass_g_mol(self) -> float:
        return self.reagent.molar_mass_g_mol

    @property
    def mass_mg(self) -> float:
        """Mass to weigh (for a liquid below 100 wt %, the mass of the solution)."""
        return mass_to_weigh_mg(self.reagent, self.amount_mmol)

    @property
    def volume_ul(self) -> float | None:
        return volume_to_dispense_ul(self.reagent, self.amount_mmol)

    def scaled(self, factor: float) -> Component:
        return Component(self.reagent, self.amount_mmol * factor, "")

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"reagent": self.reagent.name, "mmol": self.amount_mmol, "mg": self.mass_mg,
                               "molar_mass_g_mol": self.molar_mass_g_mol}
        if self.reagent.is_liquid:
            row["ul"] = self.volume_ul
        if self.given_as:
            row["given_as"] = self.given_as
        return row


def component(reagent: Reagent | str, value: float, unit: str, *, library: ReagentLibrary | None = None) -> Component:
    """``component("HI", 300, "µL")`` → Component(HI, 2.273 mmol)."""
    if isinstance(reagent, str):
        reagent = (library or default_library()).get(reagent)
    return Component(reagent, amount_mmol(reagent, value, unit), f"{value:g} {unit}")


# keys of an API component dict that carry an amount
_AMOUNT_KEYS = ("mmol", "mol", "umol", "mg", "g", "ul", "ml")


def component_from_dict(data: Mapping[str, Any], library: ReagentLibrary | None = None) -> Component:
    """Parse an API component: ``{"reagent": "PbBr2", "mmol": 0.4}``, ``{"reagent": "CsI", "mg": 83.14}``,
    ``{"reagent": "HI", "ul": 300}``, ``{"reagent": "IPAI", "stock_mg_ml": 250, "ml": 0.1}``,
    or ``{"reagent": "PbI2", "amount": 92.2, "unit": "mg"}``."""
    library = library or default_library()
    if not isinstance(data, Mapping):
        raise ChemistryError(f"a component is an object like {{\"reagent\": \"PbBr2\", \"mmol\": 0.4}}, not {data!r}")
    if not data.get("reagent"):
        raise ChemistryError("a component needs a \"reagent\" (its name or abbreviation)")
    reagent = library.get(str(data["reagent"]))
    amounts = {}
    for raw_key, value in data.items():
        if raw_key in ("reagent", "stock_mg_ml", "amount", "unit", "note"):
            continue
        try:
            amounts[normalize_unit(raw_key)] = value
        except ChemistryError:
            raise ChemistryError(
                f"{reagent.name}: unknown unit {raw_key!r}; use one of mg, g, mmol, mol, ul, ml "
                "(or stock_mg_ml with ml or ul)") from None
    if "amount" in data or "unit" in data:
        amounts[normalize_unit(data.get("unit", ""))] = data.get("amount")
    if "stock_mg_ml" in data:
        volumes = {k: v for k, v in amounts.items() if k in VOLUME_UNITS_ML}
        if len(volumes) != 1 or len(amounts) != 1:
            raise ChemistryError(f"{reagent.name}: a stock solution needs stock_mg_ml and one volume (ml or ul)")
        (unit_key, volume), = volumes.items()
        volume_ml = _check_value(volume, f"volume of the {reagent.name} stock") * VOLUME_UNITS_ML[unit_key]
        mmol = stock_amount_mmol(reagent, data["stock_mg_ml"], volume_ml)
        return Component(reagent, mmol, f"{float(data['stock_mg_ml']):g} mg/mL × {volume:g} {unit_key}")
    if len(amounts) != 1:
        given = ", ".join(amounts) or "none"
        raise ChemistryError(f"{reagent.name}: give exactly one amount (mg, g, mmol, mol, ul or ml); got {given}")
    (unit_key, value), = amounts.items()
    return Component(reagent, amount_mmol(reagent, value, unit_key), f"{value} {unit_key}")


def components_from_dicts(rows: Iterable[Mapping[str, Any]], library: ReagentLibrary | None = None) -> list[Component]:
    """Parse a list of API components; an error names the component's position and reagent."""
    library = library or default_library()
    parsed = []
    for position, row in enumerate(rows, start=1):
        try:
            parsed.append(component_from_dict(row, library))
        except ChemistryError as exc:
            raise ChemistryError(f"component {position}: {exc}") from None
    return parsed


def scale_components(components: Iterable[Component], factor: float) -> list[Component]:
    """Every amount × ``factor`` (a batch 2× as large: factor 2)."""
    if not (factor > 0 and math.isfinite(factor)):
        raise ChemistryError(f"the scale factor must be a positive number (got {factor})")
    return [c.scaled(factor) for c in components]


def scale_to_volume(components: Iterable[Component], from_volume_ml: float, to_volume_ml: float) -> list[Component]:
    """The same molarities in another volume: 1.5 mL of the §4 precursor → 0.5 mL needs a third."""
    if not (from_volume_ml > 0 and to_volume_ml > 0):
        raise ChemistryError(f"volumes must be positive (got {from_volume_ml} mL → {to_volume_ml} mL)")
    return scale_components(components, to_volume_ml / from_volume_ml)
