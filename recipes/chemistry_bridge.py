"""Molar mass of a Chemical's formula, through the stoichiometry engine (recipes.chemistry).

Kept as its own module because ``recipes.models`` imports it lazily from ``Chemical.clean``.
"""

from __future__ import annotations

import unicodedata

from .chemistry import default_library, molar_mass_g_mol


def molar_mass_from_formula(formula: str) -> float:
    """g/mol of ``formula``: "CH3NH3I" → 158.97, "Mn(Ac)2·4H2O" → 245.09.

    A lab abbreviation typed into the formula field ("MAI", "PEAI", "DMSO") resolves through the
    engine's alias table first: molmass alone reads "MAI" as the peptide Met-Ala-Ile (333 g/mol)
    and "Mn(Ac)2" as manganese with actinium. The match is case-sensitive so that a real formula
    is never swapped for an abbreviation that only differs in case.

    Raises ``ChemistryError`` (a ``ValueError``) with a message for the chemist.
    """
    text = unicodedata.normalize("NFKC", formula or "").strip()
    library = default_library()
    if text in library:
        reagent = library.get(text)
        if text in (reagent.name, reagent.full_name, *reagent.synonyms):
            return reagent.molar_mass_g_mol
    return molar_mass_g_mol(text)
