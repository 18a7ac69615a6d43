"""Parser contract shared by every instrument format.

Pure Python (numpy/pandas only, never Django) so a notebook can use it without a database.
A parser turns raw bytes into a tidy :class:`ParsedData`; it never computes metrics.

Text and binary parsers
    A text parser (the default) implements ``sniff(text)`` and ``parse(text, …)`` and receives the
    decoded text (``measurements.parsers.decode``: BOM, UTF-8, then charset-normalizer, so UTF-16
    "Unicode text" exports reach it as ordinary text). A binary parser sets ``binary = True`` and
    implements ``sniff_bytes(content)`` and ``parse_bytes(content, …)`` instead; it receives the raw
    bytes of the whole file (zip containers such as ``.xlsx``/``.brml``/``.rasx`` keep their
    directory at the end). ``parse_bytes`` in ``measurements.parsers`` ranks both kinds together
    and picks the most confident. Introduced in branch ``optical`` (issue 11, commit 938e065); the
    XRD readers (Bruker ``.raw``/``.brml``, Rigaku ``.rasx``) use the same contract. A binary
    parser is registered like any other; see ``parsers/binary.py`` for two (``.xlsx``, ``.tdms``).

What a parser reports besides the numbers (``ParsedData.metadata``), so that analyses and the
ingest service can check the assumptions a number rests on:

* ``metadata["axes"]``: ``{"x": Axis, "y": Axis}``, see :func:`axis`. Each says the quantity
  (``wavelength``, ``raman_shift``, ``wavenumber``, ``time``, ``two_theta``, ``intensity``,
  ``absorbance``, ``transmittance``, ``photon_flux`` …), the unit as written in the file, the unit
  of the canonical column, whether it was ``read`` from the file, fixed by the ``format``'s
  specification, given as an ``option`` (column map) or ``assumed``, and the evidence. An
  assumed unit becomes a warning on the analysis (``measurements.analysis.base.unit_warnings``),
  never a silent note. ``metadata["x_unit"]``/``["y_unit"]`` repeat the canonical units flat.
* ``metadata["kind_hint"]``: see :func:`kind_hint`. What the content says about the measurement
  kind (an absorbance/%T file is never PL; a Raman spectrum is no kind LEDger analyses). The
  ingest service owns the policy; ``parse_bytes`` fills in a hint from the shape when a parser
  gives none.
* ``ParsedData.samples``: when one file holds several samples (a Cary CSV with eleven column
  pairs, an Edinburgh export with several traces), one ParsedData per sample, in file order,
  each with its own data, axes (its own y unit) and ``metadata["sample"]`` = the column title.
  ``data``/``metadata`` of the parent are those of the first sample (so a single-sample reader
  of old stays right), and ``metadata["samples"]`` lists the titles. Analyses that accept
  several samples return one result per sample (see measurements/analysis/base.py).

A sniff may return a plain float or a :class:`Sniff` (a float that also carries the evidence
words that made the parser confident); ``measurements.parsers.rank`` reports both.
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
        # The reader that claimed the content and then failed (set by parse_bytes), if any.
        self.parser_name: str | None = None
        self.shape: str | None = None
        prefix = ""
        if filename:
            prefix += f"{filename}: "
        if line is not None:
            prefix += f"line {line}: "
        super().__init__(prefix + message)


class UnknownFormat(ParseError):
    """No registered parser recognises the content (the API answers 415)."""


# Data shapes a parser can produce. The analysis kind (jlv, el, pl, ...) is chosen from the
# shape plus the upload's target and the parser's kind hint (the ingest service decides).
SHAPES = ("spectrum", "jlv", "lifetime", "decay", "xrd", "ta_matrix", "absorbance", "jv")

# What each shape is called in messages ("this is a spectrum, not a J-L-V sweep").
SHAPE_NAMES = {"spectrum": "a spectrum", "jlv": "a J-L-V sweep", "lifetime": "a luminance-vs-time lifetime log",
               "decay": "a TCSPC decay", "xrd": "a diffraction pattern",
               "ta_matrix": "a transient-absorption matrix", "absorbance": "an absorbance/transmission spectrum",
               "jv": "a current-voltage (J-V) table with no luminance or photodiode column (a solar cell?)"}

# Where an axis unit came from. Only "assumed" is a caveat (a warning on the analysis).
UNIT_SOURCES = ("read", "format", "option", "assumed")


class Sniff(float):
    """A sniff confidence (0..1) that also carries the evidence for it.

    ``Sniff(0.95, "first line 'PE UV'", "y unit %T")`` compares and sorts as 0.95."""

    evidence: tuple[str, ...]

    def __new__(cls, confidence: float, *evidence: str) -> Sniff:
        obj = super().__new__(cls, confidence)
        obj.evidence = tuple(e for e in evidence if e)
        return obj


def axis(quantity: str, unit: str, *, source: str, evidence: str = "", written: str | None = None,
         converted: str = "") -> dict[str, Any]:
    """One axis description for ``metadata["axes"]``.

    quantity: what the axis is (``wavelength``, ``raman_shift``, ``absorbance``, ``transmittance``…).
    unit: the unit of the canonical column after conversion (``nm``, ``cm-1``, ``A``, ``ns``…).
    source: one of UNIT_SOURCES. evidence: the header words it was read from, or why assumed.
    written: the unit as the file writes it (``%T``, ``bins [ps]``), default ``unit``.
    converted: the conversion applied, e.g. ``A = 2 - log10(%T)`` or ``ps → ns``.
    """
    if source not in UNIT_SOURCES:
        raise ValueError(f"axis source must be one of {UNIT_SOURCES}, got {source!r}")
    return {"quantity": quantity, "unit": unit, "written": unit if written is None else written,
            "source": source, "evidence": evidence, "converted": converted}


def kind_hint(kinds: list[str] | tuple[str, ...], confidence: float, *evidence: str,
              reason: str = "") -> dict[str, Any]:
    """What the content says about the measurement kind, for ``metadata["kind_hint"]``.

    kinds: LEDger kinds the file can be, best first (``["absorbance"]``; ``["pl", "el"]`` for an
    emission spectrum whose target decides; ``[]`` when no LEDger analysis fits, e.g. Raman).
    confidence: 0..1, how strong the evidence is (format signature + unit words ≈ 0.9; a bare
    two-column table ≈ 0.2). evidence: the words seen. reason: for ``[]``, why no kind fits.
    """
    return {"kinds": list(kinds), "confidence": round(float(confidence), 3),
            "evidence": [e for e in evidence if e], "reason": reason}


@dataclass
class ParsedData:
    """Tidy result of a parser.

    ``data`` uses canonical column names with the unit in the name, e.g. ``wavelength_nm``,
    ``intensity_counts``, ``voltage_v``, ``current_a``, ``luminance_cd_m2``, ``time_h``,
    ``time_ns``, ``counts``, ``two_theta_deg``, ``intensity``, ``absorbance``,
    ``raman_shift_cm1``. For ``ta_matrix`` the frame's index is ``delay_ps`` and its columns are
    wavelengths (nm). See the module docstring for ``metadata["axes"]``, ``["kind_hint"]`` and
    ``samples``.
    """

    format: str  # parser name, e.g. "oceanview"
    shape: str  # one of SHAPES
    data: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)  # integration time, serial, units...
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)  # secondary tables
    source: str | None = None  # file name, set by parse_bytes
    samples: list[ParsedData] = field(default_factory=list)  # one per sample of a multi-sample file

    @property
    def axes(self) -> dict[str, dict[str, Any]]:
        return self.metadata.get("axes") or {}

    def assumed_axes(self) -> dict[str, dict[str, Any]]:
        """Axes whose unit the file did not state."""
        return {name: a for name, a in self.axes.items() if a.get("source") == "assumed"}

    def set_axes(self, **axes: dict[str, Any]) -> None:
        """Record axes (``x=axis(...)``, ``y=axis(...)``) and the flat ``x_unit``/``y_unit``."""
        self.metadata.setdefault("axes", {}).update(axes)
        for name, a in axes.items():
            self.metadata[f"{name}_unit"] = a["unit"]

    @property
    def label(self) -> str:
        """How messages name this data: the file, and the sample for one of several."""
        name = self.source or self.metadata.get("label") or "the file"
        sample = self.metadata.get("sample")
        if sample and len(self.metadata.get("samples") or ()) > 1:
            return f"{name} [{sample}]"
        return name


class Parser:
    """One instrument format. Subclass, set ``name`` and ``shape``, implement ``sniff``/``parse``
    (text) or set ``binary = True`` and implement ``sniff_bytes``/``parse_bytes``, and decorate
    with ``@register`` (see measurements/parsers/__init__.py)."""

    name: ClassVar[str] = ""
    shape: ClassVar[str] = ""
    description: ClassVar[str] = ""  # one line for the README / UI: what files it reads
    binary: ClassVar[bool] = False  # True: gets raw bytes (sniff_bytes/parse_bytes), never text

    def sniff(self, text: str) -> float:
        """Confidence 0..1 that ``text`` (the decoded first ~64 kB) is this format; may be a Sniff."""
        raise NotImplementedError

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        raise NotImplementedError

    def sniff_bytes(self, content: bytes) -> float:
        """Binary parsers: confidence 0..1 from the raw bytes (magic numbers, zip member names).
        Called for every upload, so keep it cheap (look at the head, or a zip's name list)."""
        raise NotImplementedError

    def parse_bytes(self, content: bytes, *, filename: str | None = None,
                    options: dict | None = None) -> ParsedData:
        raise NotImplementedError
