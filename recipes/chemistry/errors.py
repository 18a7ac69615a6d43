"""The one error the stoichiometry engine raises."""

from __future__ import annotations


class ChemistryError(ValueError):
    """A recipe, amount or target the engine cannot honestly answer.

    The message is for a chemist at the balance ("no bromide source among PbI2, CsI, MAI, PEAI")
    and is shown as-is in the UI and as the 400 body of the API.
    """
