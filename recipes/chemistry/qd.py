"""Helpers for the CsPbI3 quantum-dot steps of Liu, Dong et al., J. Am. Chem. Soc. 2021,
doi 10.1021/jacs.1c02148 (PROCESS.md §1–3, §5)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .amounts import (
    Component,
    amount_mmol,
    component_from_dict,
    mass_to_weigh_mg,
    stock_amount_mmol,
)
from .errors import ChemistryError
from .ions import B_SITE, COUNTER
from .reagents import ReagentLibrary, default_library


@dataclass(frozen=True)
class CsOleate:
    cs2co3_mmol: float
    cs_mmol: float
    volume_ml: float  # oleic acid + ODE; volumes taken as additive, the salt's volume neglected
    cs_molarity_m: float

    def cs_delivered_mmol(self, injection_ml: float) -> float:
        return cs_delivered_mmol(self.cs_molarity_m, injection_ml)


def cs_oleate(cs2co3_mg: float, oleic_acid_ml: float, ode_ml: float, *,
              library: ReagentLibrary | None = None) -> CsOleate:
    """Cs-oleate stock (PROCESS.md §1): 300 mg Cs2CO3 in 1.2 mL OAc + 3.2 mL ODE → 0.4185 M Cs."""
    reagent = (library or default_library()).get("Cs2CO3")
    carbonate_mmol = amount_mmol(reagent, cs2co3_mg, "mg")
    volume_ml = oleic_acid_ml + ode_ml
    if not volume_ml > 0 or oleic_acid_ml < 0 or ode_ml < 0:
        raise ChemistryError(f"oleic acid and ODE volumes must be non-negative with a positive sum "
                             f"(got {oleic_acid_ml} mL + {ode_ml} mL)")
    cs_mmol = carbonate_mmol * reagent.ions.get("Cs", 2.0)  # Cs2CO3 → 2 Cs⁺
    return CsOleate(cs2co3_mmol=carbonate_mmol, cs_mmol=cs_mmol, volume_ml=volume_ml,
                    cs_molarity_m=cs_mmol / volume_ml)


def cs_delivered_mmol(cs_molarity_m: float, injection_ml: float) -> float:
    """Cs injected with ``injection_ml`` of Cs-oleate (0.85 mL of 0.4185 M → 0.356 mmol)."""
    if injection_ml < 0:
        raise ChemistryError(f"the injection volume cannot be negative (got {injection_ml} mL)")
    return cs_molarity_m * injection_ml


@dataclass(frozen=True)
class HotInjectionRatios:
    """Nominal (precursor) ratios of a hot-injection flask, before the Cs-oleate goes in."""

    pb_mmol: float
    ratios_to_pb: dict[str, float]  # every B metal and halide over Pb: {"Mn": 2.82, "Zn": 2.60, "I": 12.44}
    halide_mmol_by_reagent: dict[str, dict[str, float]]
    iodide_from_metal_halides_mmol: float  # PbI2 + ZnI2 + …
    iodide_from_acid_mmol: float  # HI

    @property
    def mn_to_pb(self) -> float:
        return self.ratios_to_pb.get("Mn", 0.0)

    @property
    def i_to_pb(self) -> float:
        return self.ratios_to_pb.get("I", 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"pb_mmol": self.pb_mmol, "ratios_to_pb": self.ratios_to_pb,
                "halide_mmol_by_reagent": self.halide_mmol_by_reagent,
                "iodide_from_metal_halides_mmol": self.iodide_from_metal_halides_mmol,
                "iodide_from_acid_mmol": self.iodide_from_acid_mmol}


def hot_injection_ratios(components: Iterable[Component | Mapping[str, Any]], *,
                         library: ReagentLibrary | None = None) -> HotInjectionRatios:
    """Mn:Pb and I:Pb of a hot-injection recipe (PROCESS.md §2: Mn:Pb = 2.82; I from PbI2 + ZnI2
    = 3.123 mmol, + 2.273 mmol from HI)."""
    library = library or default_library()
    parts = [c if isinstance(c, Component) else component_from_dict(c, library) for c in components]
    totals: dict[str, float] = {}
    by_reagent: dict[str, dict[str, float]] = {}
    from_metal_halides = from_acid = 0.0
    for part in parts:
        roles = {library.ion(s).role for s in part.reagent.ions}
        for symbol, count in part.reagent.ions.items():
            mmol = count * part.amount_mmol
            totals[symbol] = totals.get(symbol, 0.0) + mmol
            if library.ion(symbol).role == "X":
                by_reagent.setdefault(part.reagent.name, {})[symbol] = mmol
                if symbol == "I" and B_SITE in roles:
                    from_metal_halides += mmol
                elif symbol == "I" and COUNTER in roles:  # an acid: H⁺ is its counter-ion
                    from_acid += mmol
    pb = totals.get("Pb", 0.0)
    if pb <= 0:
        raise ChemistryError("no lead in this recipe: ratios to Pb are undefined")
    ratios = {s: v / pb for s, v in totals.items()
              if s != "Pb" and library.ion(s).role in (B_SITE, "X", "A")}
    return HotInjectionRatios(pb_mmol=pb, ratios_to_pb=ratios, halide_mmol_by_reagent=by_reagent,
                              iodide_from_metal_halides_mmol=from_metal_halides, iodide_from_acid_mmol=from_acid)


@dataclass(frozen=True)
class LigandDose:
    reagent: str
    mass_mg: float
    amount_mmol: float

    def to_dict(self) -> dict[str, Any]:
        return {"reagent": self.reagent, "mg": self.mass_mg, "mmol": self.amount_mmol}


def ligand_dose(reagent: str, stock_mg_ml: float, volume_ml: float, *,
                library: ReagentLibrary | None = None) -> LigandDose:
    """Dose of one surface-treatment iteration (PROCESS.md §3: IPAI 250 mg/mL × 0.1 mL → 25 mg,
    0.1337 mmol; KI 200 mg/mL × 0.05 mL → 10 mg, 0.0602 mmol)."""
    chemical = (library or default_library()).get(reagent)
    mmol = stock_amount_mmol(chemical, stock_mg_ml, volume_ml)
    return LigandDose(reagent=chemical.name, mass_mg=mass_to_weigh_mg(chemical, mmol), amount_mmol=mmol)


def coherence_length_nm(qd_volume_fraction: float, qd_radius_nm: float) -> float:
    """Half the inter-QD distance in a QD-in-matrix film, eq. 5 of Liu, Dong et al. (JACS 2021):
    l = ((1/QD%)^(1/3) − 1)·r, for QDs on a cubic lattice. 0.15, 2.0 nm → 1.764 nm."""
    if not 0 < qd_volume_fraction <= 1:
        hint = f" — give {qd_volume_fraction:g} % as {qd_volume_fraction / 100:g}" if 1 < qd_volume_fraction <= 100 else ""
        raise ChemistryError(f"QD volume fraction must be in (0, 1] (got {qd_volume_fraction:g}){hint}")
    if not (qd_radius_nm > 0 and math.isfinite(qd_radius_nm)):
        raise ChemistryError(f"QD radius must be a positive number of nm (got {qd_radius_nm})")
    return ((1.0 / qd_volume_fraction) ** (1.0 / 3.0) - 1.0) * qd_radius_nm
