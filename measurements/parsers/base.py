"""Parser contract shared by every instrument format.

Pure Python (numpy/pandas only, never Django) so a notebook can use it without a database.
A parser turns raw bytes into a tidy :class:`ParsedData`; it never computes metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd


class ParseError(ValueError):
    """The file cannot be read. The message is for a person: which line, what was expected."""

    def __init__(self, message: str, *, line: int | None = None, filename: str | None = None):
        self.line = line
        self.filename = filename
        self.reason = message
        prefix = ""
        if filename:
            prefix += f"{filename}: "
        if line is not None:
            prefix += f"line {line}: "
        super().__init__(prefix + message)


class UnknownFormat(ParseError):
    """No registered parser recognises the content (the API answers 415)."""


# Data shapes a parser can produce. The analysis kind (jlv, el, pl, ...) is chosen from the
# shape plus the upload's target; see measurements.parsers.guess_kind.
SHAPES = ("spectrum", "jlv", "lifetime", "decay", "xrd", "ta_matrix", "absorbance", "jv")


@dataclass
class ParsedData:
    """Tidy result of a parser.

    ``data`` uses canonical column names with the unit in the name, e.g. ``wavelength_nm``,
    ``intensity_counts``, ``voltage_v``, ``current_a``, ``luminance_cd_m2``, ``time_h``,
    ``time_ns``, ``counts``, ``two_theta_deg``, ``intensity``, ``absorbance``.
    For ``ta_matrix`` the frame's index is ``delay_ps`` and its columns are wavelengths (nm).
    """

    format: str  # parser name, e.g. "oceanview"
    shape: str  # one of SHAPES
    data: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)  # integration time, serial, units...
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)  # secondary tables
    source: str | None = None  # file name, set by parse_bytes


class Parser:
    """One instrument format. Subclass, set ``name`` and ``shape``, implement both methods,
    and decorate with ``@register`` (see measurements/parsers/__init__.py)."""

    name: ClassVar[str] = ""
    shape: ClassVar[str] = ""
    description: ClassVar[str] = ""  # one line for the README / UI: what files it reads

    def sniff(self, text: str) -> float:
        """Confidence 0..1 that ``text`` (the decoded first ~64 kB) is this format."""
        raise NotImplementedError

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        raise NotImplementedError
