"""Forward problem: what is in a solution, from the amounts of its components.

The quasi-2D Ruddlesden–Popper bookkeeping follows L2 A(n-1) Bn X(3n+1): per B-site metal there are
2/n spacer cations, (n-1)/n A-site cations and (3n+1)/n halides, so ⟨n⟩ = 2·B/L
(Liu, Dong et al., J. Am. Chem. Soc. 2021, doi 10.1021/jacs.1c02148, PROCESS.md §4).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .amounts import Component, component_from_dict, molarity_m
from .errors import ChemistryError
from .ions import A_SITE, B_SITE, COUNTER, HALIDE, SPACER
from .reagents import ReagentLibrary, default_library

# Relative mismatch of + and − lattice charge above which we warn (weighing error is ~0.1 %).
CHARGE_TOLERANCE = 0.005


@dataclass
class Composition:
    """What is in the solution. Molarities assume the solutes add no volume to ``solvent_ml``."""

    components: list[Component]
    solvent_ml: float
    ion_mmol: dict[str, float]
    ion_mmol_by_reagent: dict[str, dict[str, float]]
    ion_molarities_m: dict[str, float]
    b_molarity_m: float  # all B-site metals together
    halide_fractions: dict[str, float]  # Br/(I+Br+Cl)…
    a_site_fractions: dict[str, float]  # Cs:MA = 0.8:0.2
    b_site_fractions: dict[str, float]
    spacer_fractions: dict[str, float]
    ratios: dict[str, float]  # "X/B", "A/B", "spacer/B" (empty without a B-site metal)
    n: float  # ⟨n⟩ = 2·B/spacer; math.inf without spacer, math.nan without B-site metal
    formula: str
    charge_excess_mmol: float  # lattice cation charge − halide charge (0 when balanced)
    warnings: list[str] = field(default_factory=list)

    def mass_mg(self, reagent: str) -> float:
        return sum(c.mass_mg for c in self.components if c.reagent.name == reagent)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready. ``n`` is null when there is no spacer (3D) or no B-site metal."""
        return {
            "components": [c.to_dict() for c in self.components],
            "solvent_ml": self.solvent_ml,
            "ion_mmol": self.ion_mmol,
            "ion_molarities_M": self.ion_molarities_m,
            "b_molarity_M": self.b_molarity_m,
            "halide_fractions": self.halide_fractions,
            "a_site_fractions": self.a_site_fractions,
            "b_site_fractions": self.b_site_fractions,
            "spacer_fractions": self.spacer_fractions,
            "ratios": self.ratios,
            "n": self.n if math.isfinite(self.n) else None,
            "formula": self.formula,
            "charge_excess_mmol": self.charge_excess_mmol,
            "warnings": list(self.warnings),
        }


def composition(components: Iterable[Component | Mapping[str, Any]], solvent_ml: float, *,
                library: ReagentLibrary | None = None) -> Composition:
    """Ion molarities, fractions, ratios, ⟨n⟩ and formula of ``components`` in ``solvent_ml``.

    ``components`` are Component objects or API dicts ({"reagent": "CsI", "mg": 83.14}).
    """
    library = library or default_library()
    parts = [c if isinstance(c, Component) else component_from_dict(c, library) for c in components]
    if not (isinstance(solvent_ml, (int, float)) and solvent_ml > 0 and math.isfinite(solvent_ml)):
        raise ChemistryError(f"the solvent volume must be a positive number of mL (got {solvent_ml!r})")

    ion_mmol: dict[str, float] = {}
    by_reagent: dict[str, dict[str, float]] = {}
    for part in parts:
        for symbol, count in part.reagent.ions.items():
            library.ion(symbol)  # a reagent built outside the library may name an unknown ion
            ion_mmol[symbol] = ion_mmol.get(symbol, 0.0) + count * part.amount_mmol
            row = by_reagent.setdefault(part.reagent.name, {})
            row[symbol] = row.get(symbol, 0.0) + count * part.amount_mmol
    ion_mmol = dict(sorted(ion_mmol.items(), key=lambda item: library.ion_order(item[0])))

    def of_role(role: str) -> dict[str, float]:
        return {s: v for s, v in ion_mmol.items() if library.ion(s).role == role and v > 0}

    a_ions, b_ions, x_ions, l_ions = of_role(A_SITE), of_role(B_SITE), of_role(HALIDE), of_role(SPACER)
    a_total, b_total, x_total, l_total = (sum(d.values()) for d in (a_ions, b_ions, x_ions, l_ions))
    warnings: list[str] = []

    ratios: dict[str, float] = {}
    if b_total > 0:
        ratios = {"X/B": x_total / b_total, "A/B": a_total / b_total, "spacer/B": l_total / b_total}
        n = 2 * b_total / l_total if l_total > 0 else math.inf
    else:
        n = math.nan
        if parts:
            warnings.append("no B-site metal (Pb, Sn, Mn, Zn): ratios per B-site and ⟨n⟩ are undefined")

    # Charge balance of the lattice ions only: counter-ions (H⁺, carbonate, acetate) leave the film.
    positive = sum(library.ion(s).charge * v for d in (a_ions, b_ions, l_ions) for s, v in d.items())
    negative = sum(-library.ion(s).charge * v for s, v in x_ions.items())
    excess = positive - negative
    if abs(excess) > CHARGE_TOLERANCE * max(positive, negative, 1e-300):
        side = "cations" if excess > 0 else "halides"
        counter = sorted({c.reagent.name for c in parts
                          if any(library.ion(s).role == COUNTER for s in c.reagent.ions)})
        note = f"; {', '.join(counter)} bring counter-ions that do not stay in the film" if counter else ""
        warnings.append(
            f"charge balance off by {abs(excess):.4g} mmol ({abs(excess) / solvent_ml:.4g} M) of excess {side}: "
            f"lattice cations carry {positive:.4g} mmol of + charge, halides {negative:.4g} mmol of − charge "
            f"({100 * abs(excess) / max(positive, negative):.1f} %){note}")

    return Composition(
        components=parts,
        solvent_ml=float(solvent_ml),
        ion_mmol=ion_mmol,
        ion_mmol_by_reagent=by_reagent,
        ion_molarities_m={s: molarity_m(v, solvent_ml) for s, v in ion_mmol.items()},
        b_molarity_m=molarity_m(b_total, solvent_ml),
        halide_fractions=_fractions(x_ions),
        a_site_fractions=_fractions(a_ions),
        b_site_fractions=_fractions(b_ions),
        spacer_fractions=_fractions(l_ions),
        ratios=ratios,
        n=n,
        formula=perovskite_formula(a_ions, b_ions, x_ions, l_ions),
        charge_excess_mmol=excess,
        warnings=warnings,
    )


def _fractions(amounts: Mapping[str, float]) -> dict[str, float]:
    total = sum(amounts.values())
    return {s: v / total for s, v in amounts.items()} if total > 0 else {}


def format_count(value: float) -> str:
    """Compact numbers for formulas: 2 → "2", 0.8 → "0.8", 3.3333 → "3.333"."""
    if abs(value) < 0.01:
        return f"{value:.2g}"
    return f"{value:.3f}".rstrip("0").rstrip(".")


def perovskite_formula(a_ions: Mapping[str, float], b_ions: Mapping[str, float],
                       x_ions: Mapping[str, float], spacer_ions: Mapping[str, float]) -> str:
    """``PEA2(Cs0.8MA0.2)2Pb3(I0.6Br0.4)10`` — L2 A(n-1) Bn X(3n+1) normalised to n B-sites;
    without spacer, normalised to one B-site (``CsPb(I0.6Br0.4)3``). Mixed sites are written as
    fractions in brackets. Empty when there is no B-site metal. Inputs are mmol by ion."""
    b_total = sum(b_ions.values())
    if b_total <= 0:
        return ""
    spacer_total = sum(spacer_ions.values())
    b_count = 2 * b_total / spacer_total if spacer_total > 0 else 1.0  # = ⟨n⟩ with a spacer
    per_unit = b_count / b_total
    parts = []
    for ions in (spacer_ions, a_ions, b_ions, x_ions):
        total = sum(ions.values())
        if total <= 0:
            continue
        count = total * per_unit
        count_text = "" if abs(count - 1) < 5e-4 else format_count(count)
        if len(ions) == 1:
            parts.append(f"{next(iter(ions))}{count_text}")
        else:
            inside = "".join(f"{s}{format_count(v / total)}" for s, v in ions.items())
            parts.append(f"({inside}){count_text}")
    return "".join(parts)
