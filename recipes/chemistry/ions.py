"""Ions the engine books, with their place in a quasi-2D perovskite L2 A(n-1) Bn X(3n+1).

Roles: A-site cations, B-site metals, X halides, large "spacer" (L) cations, and counter-ions
(H⁺ of an acid, carbonate, acetate) that balance a reagent's charge but do not stay in the film.
"""

from __future__ import annotations

from dataclasses import dataclass

A_SITE = "A"
B_SITE = "B"
HALIDE = "X"
SPACER = "spacer"
COUNTER = "counter"
ROLES = (A_SITE, B_SITE, HALIDE, SPACER, COUNTER)
LATTICE_ROLES = (A_SITE, B_SITE, HALIDE, SPACER)


@dataclass(frozen=True)
class Ion:
    symbol: str  # what the ion split and the formula string use: "MA", "Pb", "Br"
    role: str  # one of ROLES
    charge: int
    name: str  # for messages: "no bromide source among …"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"ion {self.symbol}: role must be one of {', '.join(ROLES)}, not {self.role!r}")


# Order matters: it is the order in formula strings (Cs before MA, I before Br, as papers write them).
DEFAULT_IONS: tuple[Ion, ...] = (
    Ion("Cs", A_SITE, 1, "caesium"),
    Ion("MA", A_SITE, 1, "methylammonium"),
    Ion("FA", A_SITE, 1, "formamidinium"),
    Ion("Rb", A_SITE, 1, "rubidium"),
    Ion("K", A_SITE, 1, "potassium"),
    Ion("Pb", B_SITE, 2, "lead"),
    Ion("Sn", B_SITE, 2, "tin"),
    Ion("Mn", B_SITE, 2, "manganese"),
    Ion("Zn", B_SITE, 2, "zinc"),
    Ion("I", HALIDE, -1, "iodide"),
    Ion("Br", HALIDE, -1, "bromide"),
    Ion("Cl", HALIDE, -1, "chloride"),
    Ion("PEA", SPACER, 1, "phenethylammonium"),
    Ion("BA", SPACER, 1, "n-butylammonium"),
    Ion("IPA", SPACER, 1, "isopropylammonium"),
    Ion("H", COUNTER, 1, "proton (acid)"),
    Ion("CO3", COUNTER, -2, "carbonate"),
    Ion("Ac", COUNTER, -1, "acetate"),
)

# Hill formulas of the organic cations, to recognise them inside a salt's formula
# (infer_ions in reagents.py). n-propylammonium has the same formula as IPA and reads as IPA.
ORGANIC_CATION_FORMULAS: dict[str, str] = {
    "CH6N": "MA",
    "CH5N2": "FA",
    "C8H12N": "PEA",
    "C4H12N": "BA",
    "C3H10N": "IPA",
}
