"""A block of text rows of numbers to a float array: the conversion the text readers share.

Every field is converted as ``float()`` converts it, and every row must hold as many fields as
the others; anything else is ``None``, and the reader then goes row by row to name the line. Two
C readers do the work where they give exactly that:

- pandas' C reader (pandas ≥ 3.1 converts with fast_float: correctly rounded, the same double as
  ``float()`` for every decimal it accepts) for large blocks, and only on blocks made of digits,
  signs, points, exponents and whitespace — the characters where its grammar and ``float()``'s
  are the same. It costs ≈ 0.25 ms to set up and then ≈ 0.05 µs a field: 3–4× numpy on a 10⁴-row
  log, slower than numpy below ~1,500 fields.
- numpy's ``loadtxt`` otherwise: CPython's own string-to-double (what ``float()`` calls), minus
  the digit grouping (``1_000``) that only ``float()`` takes — those rows go to the loop.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache

import numpy as np
import pandas as pd

_PANDAS_FROM_CHARS = 12_000  # ≈ 1,500 fields of 8 characters: where pandas' set-up pays for itself
_NUMBER_CHARACTERS = b"0123456789eE.+- \t\n"


def _plain_numbers(block: str) -> bool:
    """Only digits, signs, points, exponents and whitespace (bytes.translate: ≈ 0.5 ns a character)."""
    return block.isascii() and not block.encode("ascii").translate(None, _NUMBER_CHARACTERS)


@lru_cache(maxsize=8)
def _not_a_row(comments: tuple[str, ...]) -> re.Pattern:
    marks = "|".join(re.escape(c) for c in ("\n", *comments))
    return re.compile(rf"\n[^\S\n]*(?:{marks}|$)")


def has_non_rows(lines: list[str], comments: tuple[str, ...] = ()) -> bool:
    """Is any of ``lines`` blank (or whitespace only) or, after its indentation, a comment starting
    with one of ``comments``? One regex scan of the joined text instead of a test per line: a data
    block nearly never has such lines, and the readers filter line by line only when it does."""
    return bool(_not_a_row(comments).search("\n" + "\n".join(lines)))


def float_rows(block: str, n_rows: int) -> np.ndarray | None:
    """``block``: ``n_rows`` lines (``\\n``-separated, none blank) of whitespace-separated
    fields. A (n_rows, width) float array when every line has ``width`` ≥ 1 fields that are
    numbers to ``float()``, else None."""
    if n_rows < 1 or not block:
        return None
    values = None
    if len(block) >= _PANDAS_FROM_CHARS and _plain_numbers(block):
        try:
            values = pd.read_csv(io.StringIO(block), sep=r"\s+", header=None, engine="c", dtype=np.float64,
                                 na_filter=False).to_numpy()
        except (ValueError, pd.errors.ParserError):
            values = None  # a row wider than the first: the loop below decides
        # A short row comes back padded with NaN (no field here can spell "nan"): not a rectangle.
        if values is not None and (values.shape[0] != n_rows or np.isnan(values).any()):
            values = None
    if values is None:
        try:
            values = np.loadtxt(io.StringIO(block), dtype=float, comments=None, ndmin=2)
        except ValueError:
            values = None
        if values is not None and values.shape[0] != n_rows:
            values = None  # loadtxt skips a line of whitespace only: not the rows asked for
    if values is not None:
        return values
    return _row_by_row(block, n_rows)


def _row_by_row(block: str, n_rows: int) -> np.ndarray | None:
    rows = block.split("\n")
    if len(rows) != n_rows:
        return None
    width = None
    out = []
    for row in rows:
        try:
            numbers = [float(f) for f in row.split()]
        except ValueError:
            return None
        if not numbers or (width is not None and len(numbers) != width):
            return None
        width = len(numbers)
        out.append(numbers)
    return np.array(out, dtype=float)
