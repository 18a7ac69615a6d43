"""The one place the Django side touches molmass directly (before the engine is in use)."""

from __future__ import annotations


def molar_mass_from_formula(formula: str) -> float:
    from molmass import Formula, FormulaError

    try:
        return float(Formula(formula.replace("·", "*")).mass)
    except (FormulaError, ValueError, KeyError) as exc:
        raise ValueError(f"cannot read formula {formula!r}: {exc}") from None
