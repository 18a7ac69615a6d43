"""How a typed query is read loosely, shared by the site search (portal) and the pickers of the
domain apps (the run form's input samples): labels typed any way, formulas with or without
subscripts. Pure functions on strings."""

from __future__ import annotations

import re
import unicodedata

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_FORMULA_DIGITS = re.compile(r"(?<=[A-Za-z)\]])\d+")  # I3 in CsPbI3, not the 11 of "batch 11"
_FUZZY_LABEL = re.compile(r"^([A-Za-z]+)[-_\s]*0*(\d{1,6})(?:[-_\s]*([A-Za-z]{1,2}|\d{1,2}))?$")


def label_forms(text: str) -> list[str]:
    """'QD-2', 'qd0002', 'QD 2' → 'QD-0002'; 'DEV-1-A' → 'DEV-0001-A' (labels are PREFIX-NNNN[-PIXEL])."""
    match = _FUZZY_LABEL.match(unicodedata.normalize("NFKC", text).strip())
    if not match:
        return []
    prefix, number, pixel = match.groups()
    label = f"{prefix.upper()}-{int(number):04d}"
    return [label, f"{label}-{pixel.upper()}"] if pixel else [label]


def text_forms(text: str) -> list[str]:
    """The query as typed, with Unicode folded (CsPbI₃ → CsPbI3), and with digits as subscripts
    (CsPbI3 → CsPbI₃) where they follow an element, so a formula matches however it was written
    and "CsPbI3 batch 11" finds "CsPbI₃ batch 11"."""
    folded = unicodedata.normalize("NFKC", text)
    subscripted = _FORMULA_DIGITS.sub(lambda m: m.group().translate(_SUBSCRIPTS), folded)
    return list(dict.fromkeys([text, folded, subscripted, folded.translate(_SUBSCRIPTS)]))
