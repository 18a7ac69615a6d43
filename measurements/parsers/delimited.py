"""Delimited text tables: comma, tab, semicolon or whitespace, with a preamble and units.

What is read
    * a preamble of ``#`` comments and/or free text (instrument settings, a Keithley summary
      table…) before the header; the data block is the first run of purely numeric rows;
    * a header row directly above the data, optionally followed by a units row
      (``Voltage  b_rev`` / ``[V]  [mA/cm2]``); units may also sit in the names
      (``Current (mA)``, ``J [mA/cm2]``, ``Luminance (cd m-2)``);
    * an explicit override for odd files: ``options={"columns": {"Vsrc": "voltage_v", ...},
      "units": {"Isrc": "mA", ...}}`` (keys are header names or 0-based column indices).

Canonical columns (SI or field-standard unit in the name): ``voltage_v``, ``current_a``,
``current_density_ma_cm2``, ``luminance_cd_m2``, ``photodiode_current_a``,
``photodiode_voltage_v``, ``time_h``, ``wavelength_nm``. Other columns are kept under a
sanitised name. A second column that maps to a canonical name already taken (the six J sweeps
of a solar-cell file) is kept as ``<canonical>_<header>``.

The shape follows from the columns (see ``_decide_shape``): voltage + current + a light column
→ ``jlv``; time + light (constant current) → ``lifetime``; voltage + current without light →
``jv`` (a solar cell; an LED analysis refuses it); two plain numeric columns whose first looks
like wavelengths → ``spectrum`` (low confidence, other parsers win when they recognise more).

The parser keeps rows in file order and adds no metrics. For ``jlv`` it adds a ``sweep``
column numbering the monotonic voltage segments (0 = first segment), so an analysis can pick
the forward sweep and average duplicated voltages; see measurements/analysis/led.py.

Because the registry filters parsers by their single ``shape``, the same reader is registered
four times (``delimited_jlv``, ``delimited_lifetime``, ``delimited_jv``,
``delimited_spectrum``); each sniffs with the shared (cached) table inference and answers
only for its own shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from . import register
from .base import SHAPE_NAMES, ParsedData, ParseError, Parser, axis, kind_hint
from .numbers import float_rows, has_non_rows

# ---------------------------------------------------------------------------------------------
# Units: factor to the canonical unit of each quantity.
_CURRENT_TO_A = {"a": 1.0, "ma": 1e-3, "ua": 1e-6, "µa": 1e-6, "μa": 1e-6, "na": 1e-9, "pa": 1e-12}
# current density → mA/cm²  (1 A/m² = 0.1 mA/cm²)
_DENSITY_TO_MA_CM2 = {"ma/cm2": 1.0, "macm-2": 1.0, "a/cm2": 1e3, "acm-2": 1e3, "ua/cm2": 1e-3,
                      "a/m2": 0.1, "am-2": 0.1, "ma/m2": 1e-4}
_LUMINANCE_UNITS = {"cd/m2", "cdm-2", "nits", "nit", "cd/m^2"}
_TIME_TO_H = {"s": 1 / 3600, "sec": 1 / 3600, "secs": 1 / 3600, "seconds": 1 / 3600,
              "min": 1 / 60, "mins": 1 / 60, "minutes": 1 / 60,
              "h": 1.0, "hr": 1.0, "hrs": 1.0, "hour": 1.0, "hours": 1.0}
_VOLTAGE_TO_V = {"v": 1.0, "mv": 1e-3}
_WAVELENGTH_TO_NM = {"nm": 1.0, "um": 1e3, "µm": 1e3, "a": 0.1, "å": 0.1}

_WAVENUMBER_UNITS = {"cm-1", "1/cm", "cm^-1", "cm-¹", "cm⁻¹", "rel.1/cm", "rel1/cm", "wavenumbers", "wavenumber"}
_TIME_TO_NS = {"ns": 1.0, "ps": 1e-3, "fs": 1e-6, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9}

CANONICAL = ("voltage_v", "current_a", "current_density_ma_cm2", "luminance_cd_m2",
             "photodiode_current_a", "photodiode_voltage_v", "time_h", "wavelength_nm",
             # spectra, absorbance and decays (header words, or an explicit column map)
             "intensity_counts", "absorbance", "transmittance_percent", "raman_shift_cm1", "wavenumber_cm1",
             "time_ns", "counts")
LIGHT_COLUMNS = ("luminance_cd_m2", "photodiode_current_a", "photodiode_voltage_v")
X_NOT_NM = ("raman_shift_cm1", "wavenumber_cm1")
# What the canonical columns are, for axis records and messages.
QUANTITY = {"wavelength_nm": ("wavelength", "nm"), "raman_shift_cm1": ("raman_shift", "cm-1"),
            "wavenumber_cm1": ("wavenumber", "cm-1"), "intensity_counts": ("intensity", "counts"),
            "absorbance": ("absorbance", "A"), "transmittance_percent": ("transmittance", "A"),
            "time_ns": ("time", "ns"), "counts": ("counts", "counts"), "time_h": ("time", "h"),
            "voltage_v": ("voltage", "V"), "current_a": ("current", "A"),
            "current_density_ma_cm2": ("current density", "mA/cm2"), "luminance_cd_m2": ("luminance", "cd/m2"),
            "photodiode_current_a": ("photodiode current", "A"), "photodiode_voltage_v": ("photodiode voltage", "V")}
MIN_SPECTRUM_ROWS = 10  # fewer rows are no spectrum, decay or pattern (analyses need ≥ 10 as well)

_UNIT_IN_NAME = re.compile(r"^(?P<name>.*?)\s*[\(\[](?P<unit>[^\)\]]*)[\)\]]\s*$")
_UNIT_AFTER_SLASH = re.compile(r"^(?P<name>[A-Za-z _]+?)\s*/\s*(?P<unit>[A-Za-zµμ]+[A-Za-z0-9/^\-µμ ]*)$")
_PHOTODIODE = re.compile(r"photo|\bpd\b|^pd|_pd\b|diode", re.I)


def _norm_unit(unit: str) -> str:
    """'mA/cm²' → 'ma/cm2', 'cd m-2' → 'cdm-2', 'A m^-2' → 'am-2'."""
    u = unit.strip().lower().replace("²", "2").replace("^", "").replace("*", "").replace("·", "")
    u = u.replace("micro", "u").replace(" ", "")
    return u


@dataclass
class Column:
    header: str  # as written in the file
    unit: str  # as written ('' if none)
    canonical: str | None  # canonical name, or None (kept under a sanitised name)
    factor: float = 1.0  # multiply file values by this to get the canonical unit
    assumed: bool = False  # unit not given, assumed from the name
    option: bool = False  # named by the user's column map
    note: str = ""  # where the unit was read when not in the header (the preamble)


# LEDger's own canonical names carry their unit after an underscore: wavelength_nm, time_ns.
_CANONICAL_SUFFIX = re.compile(r"^(?P<name>[A-Za-z]+(?:_[A-Za-z]+)*?)_(?P<unit>nm|ns|ps|v|a|ma|h|counts|cd_m2|ma_cm2)$")


def _split_name_unit(header: str) -> tuple[str, str]:
    header = header.strip().strip('"').strip("'")
    m = _CANONICAL_SUFFIX.match(header)
    if m and header in CANONICAL:
        unit = {"cd_m2": "cd/m2", "ma_cm2": "mA/cm2"}.get(m["unit"], m["unit"])
        return m["name"], unit
    m = _UNIT_IN_NAME.match(header)
    if m:
        return m["name"].strip(), m["unit"].strip()
    m = _UNIT_AFTER_SLASH.match(header)
    if m and _norm_unit(m["unit"]) in {**_CURRENT_TO_A, **_VOLTAGE_TO_V, **_TIME_TO_H, "nm": 1}:
        return m["name"].strip(), m["unit"].strip()
    return header, ""


def classify(header: str, unit: str = "") -> Column:
    """Recognise a column from its name and unit (the unit decides when both are present)."""
    name, unit_in_name = _split_name_unit(header)
    unit = unit or unit_in_name
    u = _norm_unit(unit.strip("[]() "))
    lname = name.lower()
    is_pd = bool(_PHOTODIODE.search(name))
    compact = lname.replace(" ", "")
    # Optical quantities first: "Absorbance (A)" is not a current, "%T" is not a bare number.
    if "absorb" in lname or compact in ("abs", "abs.", "od", "opticaldensity") or u in ("abs", "od"):
        return Column(header, unit or "A", "absorbance")
    if "%t" in compact or compact.startswith("transmitt") or u == "%t" or (compact == "t" and u == "%"):
        return Column(header, unit or "%", "transmittance_percent", assumed=not (u or "%" in compact))
    if u in _WAVENUMBER_UNITS or "raman" in lname or "wavenumber" in lname:
        target = "raman_shift_cm1" if ("raman" in lname or "shift" in lname) else "wavenumber_cm1"
        return Column(header, unit or "cm-1", target, assumed=u not in _WAVENUMBER_UNITS)
    if u in _DENSITY_TO_MA_CM2:
        return Column(header, unit, "current_density_ma_cm2", _DENSITY_TO_MA_CM2[u])
    if u in _LUMINANCE_UNITS:
        return Column(header, unit, "luminance_cd_m2")
    if u in _CURRENT_TO_A:
        return Column(header, unit, "photodiode_current_a" if is_pd else "current_a", _CURRENT_TO_A[u])
    if u in _VOLTAGE_TO_V:
        return Column(header, unit, "photodiode_voltage_v" if is_pd else "voltage_v", _VOLTAGE_TO_V[u])
    if u in _TIME_TO_H:
        return Column(header, unit, "time_h", _TIME_TO_H[u])
    if u in _TIME_TO_NS and ("time" in lname or "delay" in lname or lname in ("t", "bins", "bin")):
        return Column(header, unit, "time_ns", _TIME_TO_NS[u])
    if u in _WAVELENGTH_TO_NM and ("wave" in lname or "lambda" in lname or u == "nm"):
        return Column(header, unit, "wavelength_nm", _WAVELENGTH_TO_NM[u])
    if u:
        words = re.sub(r"[^a-z]+", " ", lname).split()
        if words and words[0] in ("intensity", "counts", "count", "cps", "signal", "int", "pl", "el", "emission"):
            return Column(header, unit, "intensity_counts")
        return Column(header, unit, None)
    # No unit written: recognise by name only and record the assumption.
    words = re.sub(r"[^a-z]+", " ", lname).split()
    first = words[0] if words else ""
    if is_pd and ("volt" in lname or first in {"v", "vpd"}):
        return Column(header, "V", "photodiode_voltage_v", assumed=True)
    if is_pd:
        return Column(header, "A", "photodiode_current_a", assumed=True)
    if "luminance" in lname or "brightness" in lname or first in {"l", "lum"}:
        return Column(header, "cd/m2", "luminance_cd_m2", assumed=True)
    if "density" in lname or first == "j":
        return Column(header, "mA/cm2", "current_density_ma_cm2", assumed=True)
    if "current" in lname or first == "i":
        return Column(header, "A", "current_a", assumed=True)
    if "volt" in lname or first in {"v", "u", "bias"}:
        return Column(header, "V", "voltage_v", assumed=True)
    if "time" in lname or first == "t":
        # Lifetime racks log hours far more often than seconds; flagged as an assumption.
        return Column(header, "h", "time_h", assumed=True)
    if "wavelength" in lname or "lambda" in lname:
        return Column(header, "nm", "wavelength_nm", assumed=True)
    if first in ("intensity", "counts", "count", "cps", "signal", "int", "pl", "el", "emission"):
        return Column(header, unit or "counts", "intensity_counts", assumed=not unit)
    return Column(header, "", None)


def column_for_target(header: str, target: str, unit: str) -> Column:
    """An explicit mapping: the user names the canonical column, the unit gives the factor."""
    if target not in CANONICAL:
        raise ParseError(f"column mapping: unknown target {target!r}; expected one of {', '.join(CANONICAL)}")
    u = _norm_unit(unit.strip("[]() "))
    tables = {"voltage_v": _VOLTAGE_TO_V, "photodiode_voltage_v": _VOLTAGE_TO_V,
              "current_a": _CURRENT_TO_A, "photodiode_current_a": _CURRENT_TO_A,
              "current_density_ma_cm2": _DENSITY_TO_MA_CM2, "time_h": _TIME_TO_H,
              "wavelength_nm": _WAVELENGTH_TO_NM, "luminance_cd_m2": dict.fromkeys(_LUMINANCE_UNITS, 1.0),
              "time_ns": _TIME_TO_NS, "raman_shift_cm1": dict.fromkeys(_WAVENUMBER_UNITS, 1.0),
              "wavenumber_cm1": dict.fromkeys(_WAVENUMBER_UNITS, 1.0)}
    table = tables.get(target)
    if table is None:  # counts, intensity, absorbance, %T: no unit conversion
        return Column(header, unit, target, 1.0, option=True)
    if not u:
        return Column(header, "", target, 1.0, assumed=True, option=True)
    if u not in table:
        raise ParseError(f"column mapping: unit {unit!r} does not fit {target} "
                         f"(expected one of {', '.join(sorted(table))})")
    return Column(header, unit, target, table[u], option=True)


# ---------------------------------------------------------------------------------------------
# Table layout: delimiter, header lines and the numeric block.

_DELIMITERS = ("\t", ";", ",", None)  # None = runs of whitespace
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:nan|inf)$", re.I)


def _fields(line: str, delimiter: str | None) -> list[str]:
    parts = line.split(delimiter) if delimiter else line.split()
    parts = [p.strip() for p in parts]
    while parts and parts[-1] == "":  # trailing delimiter (common in Keithley/LabVIEW exports)
        parts.pop()
    return parts


def _numeric_count(line: str, delimiter: str | None, decimal_comma: bool = False) -> int:
    """Number of fields if every field is a number, else -1."""
    parts = _fields(line, delimiter)
    if not parts:
        return -1
    for p in parts:
        if decimal_comma:
            p = p.replace(",", ".")
        if not _NUMBER.match(p):
            return -1
    return len(parts)


@dataclass
class Layout:
    delimiter: str | None
    decimal_comma: bool
    data_start: int  # 0-based index into lines
    n_columns: int
    header_lines: list[int] = field(default_factory=list)  # 0-based, name row then unit row
    preamble: list[str] = field(default_factory=list)


_COMMENT_PREFIXES = ("#", "%", "//")


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith(_COMMENT_PREFIXES)


def _content_rows(lines: list[str]):
    """(index, line) of the first 400 lines that are neither blank nor a comment, as a pass asks for
    them: most passes stop within the first few rows (building the whole list first was a third of
    a small file's parse)."""
    for i, line in enumerate(lines[:400]):
        if (bare := line.lstrip()) and not bare.startswith(_COMMENT_PREFIXES):
            yield i, line


def _find_layout(lines: list[str]) -> Layout | None:
    """Find the delimiter and the first run of ≥3 numeric rows with the same width ≥2."""
    best: Layout | None = None
    # A delimiter that no line of the head holds makes every row one field: that pass cannot find a
    # table (was ~60 % of a sniff). Comment lines may hold it: the pass then finds nothing, as before.
    head = "\n".join(lines[:400])
    for delimiter in _DELIMITERS:
        if delimiter is not None and delimiter not in head:
            continue
        for decimal_comma in ((False, True) if delimiter in ("\t", ";", None) else (False,)):
            run_start, run_width, run_len = -1, -1, 0
            for i, line in _content_rows(lines):
                if best is not None and i >= best.data_start and (run_start < 0 or run_start >= best.data_start):
                    break  # a run starting here or later cannot start earlier than the best one
                width = _numeric_count(line, delimiter, decimal_comma)
                if width >= 2 and width == run_width:
                    run_len += 1
                elif width >= 2:
                    run_start, run_width, run_len = i, width, 1
                else:
                    run_start, run_width, run_len = -1, -1, 0
                if run_len >= 3:
                    break
            # Three agreeing rows make a table; a tiny file may hold fewer rows in all.
            if run_start < 0 or run_len < min(3, _remaining_rows(lines, run_start, at_most=3)):
                continue
            candidate = Layout(delimiter, decimal_comma, run_start, run_width)
            # Earliest data start wins; on a tie the delimiter order above decides (tab before
            # whitespace for "Voltage (V)<TAB>Current (A)", semicolon before comma for
            # decimal-comma files).
            if best is None or candidate.data_start < best.data_start:
                best = candidate
    if best is None:
        return None
    # Header: the last non-comment, non-blank line(s) above the data; a units row sits below
    # the names row when every field looks like a bare unit ("[V]", "(mA/cm2)", "V").
    above = [i for i in range(best.data_start) if lines[i].strip() and not _is_comment(lines[i])]
    if above:
        last = above[-1]
        if _looks_like_units(_fields(lines[last], best.delimiter)) and len(above) >= 2:
            best.header_lines = [above[-2], last]
        else:
            best.header_lines = [last]
        best.preamble = [lines[i] for i in range(best.header_lines[0])]
    else:
        best.preamble = [lines[i] for i in range(best.data_start)]
    return best


def _remaining_rows(lines: list[str], start: int, at_most: int | None = None) -> int:
    """Data lines from ``start`` on; counting stops at ``at_most`` (sniffs are hot)."""
    if start < 0:
        return 0
    count = 0
    for line in lines[start:]:
        if line.strip() and not _is_comment(line):
            count += 1
            if at_most is not None and count >= at_most:
                break
    return count


def _looks_like_units(parts: list[str]) -> bool:
    if not parts:
        return False
    for p in parts:
        p = p.strip()
        if not p:
            continue
        if p[0] in "[(" and p[-1] in "])":
            continue
        if _norm_unit(p) in {**_CURRENT_TO_A, **_DENSITY_TO_MA_CM2, **_TIME_TO_H, **_VOLTAGE_TO_V,
                             **dict.fromkeys(_LUMINANCE_UNITS), "nm": 1}:
            continue
        return False
    return True


def _header_names(lines: list[str], layout: Layout) -> tuple[list[str], list[str]] | None:
    """(names, units) for each data column, or None when there is no usable header."""
    if not layout.header_lines:
        return None
    raw = lines[layout.header_lines[0]].strip()
    names = _fields(raw, layout.delimiter)
    if len(names) != layout.n_columns and layout.delimiter is None:
        # Whitespace tables whose names contain spaces: "Voltage (V)  Current (A)".
        names = [p.strip() for p in re.split(r"\t|\s{2,}", raw) if p.strip()]
        if len(names) != layout.n_columns:
            names = re.findall(r"[^\s\(\[]+(?:\s*[\(\[][^\)\]]*[\)\]])?", raw)
    if len(names) != layout.n_columns:
        return None
    units = [""] * len(names)
    if len(layout.header_lines) == 2:
        unit_fields = _fields(lines[layout.header_lines[1]], layout.delimiter)
        if len(unit_fields) == len(names):
            units = [u.strip("[]() ") for u in unit_fields]
    return names, units


# ---------------------------------------------------------------------------------------------
# Numbers: a fast path (numpy on the whole block) and a slow path that finds the bad line.


def _read_block(lines: list[str], layout: Layout) -> np.ndarray:
    body = lines[layout.data_start:]
    if has_non_rows(body, _COMMENT_PREFIXES):  # blank or comment lines among the rows (rare): drop them
        body = [ln for ln in body if (bare := ln.lstrip()) and not bare.startswith(_COMMENT_PREFIXES)]
    text = "\n".join(body)
    if layout.decimal_comma:
        text = text.replace(",", ".")
    if layout.delimiter and layout.delimiter not in (" ",):
        text = text.replace(layout.delimiter, " ")
    # Every row as wide as the layout (checked row by row: a short row beside a long one is not
    # two rows' worth of numbers to reshape), each field as float() reads it.
    values = float_rows(text, len(body))
    if values is not None and values.shape[1] == layout.n_columns:
        return values
    _diagnose(lines, layout)  # raises with the line number
    raise ParseError("inconsistent numeric block")  # pragma: no cover - _diagnose always raises


def _diagnose(lines: list[str], layout: Layout) -> None:
    for i in range(layout.data_start, len(lines)):
        line = lines[i]
        if not line.strip() or _is_comment(line):
            continue
        parts = _fields(line, layout.delimiter)
        numeric = [p for p in parts if _NUMBER.match(p.replace(",", ".") if layout.decimal_comma else p)]
        if len(parts) != layout.n_columns or len(numeric) != len(parts):
            if len(numeric) != len(parts):
                bad = next(p for p in parts if p not in numeric)
                raise ParseError(f"expected {layout.n_columns} numeric columns, found {len(numeric)} "
                                 f"(not a number: {bad[:30]!r})", line=i + 1)
            raise ParseError(f"expected {layout.n_columns} numeric columns, found {len(parts)}", line=i + 1)


# ---------------------------------------------------------------------------------------------
# Shape decision and the table object shared by the four registered parsers.


@dataclass
class Table:
    layout: Layout
    columns: list[Column]
    shape: str | None
    confidence: float
    reason: str = ""  # why no shape / why low confidence


def _decide_shape(columns: list[Column], values: np.ndarray | None = None) -> tuple[str | None, float, str]:
    found = {c.canonical for c in columns if c.canonical}
    has_v = "voltage_v" in found
    has_i = bool(found & {"current_a", "current_density_ma_cm2"})
    has_light = bool(found & set(LIGHT_COLUMNS))
    has_t = "time_h" in found
    if has_t and has_light and not (has_v and has_i):
        return "lifetime", 0.85, ""
    if has_v and has_i and has_light:
        if has_t and values is not None:
            # A constant-current lifetime log may also carry V and I columns: the current
            # barely moves, unlike a J-L-V sweep (with or without a leading time column).
            idx = next(i for i, c in enumerate(columns) if c.canonical in ("current_a", "current_density_ma_cm2"))
            current = values[:, idx]
            span = np.nanmax(np.abs(current))
            if span > 0 and (np.nanmax(current) - np.nanmin(current)) / span < 0.05:
                return "lifetime", 0.85, ""
        return "jlv", 0.85, ""
    if has_v and has_i:
        return "jv", 0.8, "no luminance or photodiode column"
    has_wl = "wavelength_nm" in found
    if has_wl and found & {"absorbance", "transmittance_percent"}:
        return "absorbance", 0.7, ""
    if found & set(X_NOT_NM) and not has_wl:
        return "spectrum", 0.6, ""  # a Raman/IR spectrum: the analyses refuse its cm⁻¹ axis
    if "time_ns" in found and "counts" in found:
        return "decay", 0.6, ""
    if found == {"wavelength_nm"} or (len(columns) == 2 and has_wl) or found == {"wavelength_nm", "intensity_counts"}:
        return "spectrum", 0.4, ""
    return None, 0.0, "no recognised columns"


def _looks_like_wavelengths(x: np.ndarray) -> bool:
    if x.size < 20:
        return False
    d = np.diff(x)
    return bool(150 <= x.min() and x.max() <= 3000 and (np.all(d > 0) or np.all(d < 0)))


def _apply_overrides(names: list[str] | None, units: list[str], n_columns: int, options: dict) -> list[Column] | None:
    mapping = options.get("columns") or {}
    unit_over = options.get("units") or {}
    if names is None and not mapping:
        return None
    if names is None:
        names = [str(i) for i in range(n_columns)]
    columns = []
    known = set(names)
    for key in list(mapping) + list(unit_over):
        if str(key) not in known and not (str(key).isascii() and str(key).isdigit() and int(key) < n_columns):
            raise ParseError(f"column mapping names {key!r}, but the header has {', '.join(names)}")
    for i, (name, unit) in enumerate(zip(names, units, strict=True)):
        target = mapping.get(name, mapping.get(i, mapping.get(str(i))))
        unit_given = unit_over.get(name, unit_over.get(i, unit_over.get(str(i))))
        if target:
            unit_here = unit_given if unit_given is not None else (unit or _split_name_unit(name)[1])
            columns.append(column_for_target(name, target, unit_here))
        else:
            columns.append(classify(name, unit_given if unit_given is not None else unit))
    return columns


def _inspect(text: str, options_key: str = "") -> tuple[list[str], Table | None]:
    """Shared by sniff (on the head) and parse (on the whole text). Cached: the four
    registered shapes sniff the same head one after the other, and a file no larger than the
    head is sniffed and parsed on the same text."""
    # One cache key whether or not the (empty) options are passed: lru_cache keys f(t) and
    # f(t, "") apart, which made every sniff-then-parse inspect the text twice.
    return _inspect_cached(text, options_key or "")


@lru_cache(maxsize=16)
def _inspect_cached(text: str, options_key: str) -> tuple[list[str], Table | None]:
    import json

    options = json.loads(options_key) if options_key else {}
    lines = text.splitlines()
    layout = _find_layout(lines)
    if layout is None:
        return lines, None
    header = _header_names(lines, layout)
    names, units = header if header else (None, [""] * layout.n_columns)
    columns = _apply_overrides(names, units, layout.n_columns, options)
    if columns is None or not any(c.canonical for c in columns):
        # No usable header: the preamble may still name the axes ("#AxisUnit[1]=1/cm", "Y Mode %T").
        from_preamble = _preamble_columns(layout, names)
        if from_preamble is not None:
            columns = from_preamble
    if columns is None:
        # No header: only a two-column wavelength-like table means anything on its own.
        columns = [Column(str(i), "", None) for i in range(layout.n_columns)]
        return lines, Table(layout, columns, None, 0.0, "no header row")
    shape, confidence, reason = _decide_shape(columns)
    return lines, Table(layout, columns, shape, confidence, reason)


_PREAMBLE_X = re.compile(r"(?:^|[#\s])(?:x[\s_]*(?:units?|mode|axis)|axisunit\[1\])\s*[:=\t ]\s*(?P<unit>[^\t;,]+)", re.I)
_PREAMBLE_Y = re.compile(r"(?:^|[#\s])(?:y[\s_]*(?:units?|mode|axis)|axisunit\[0\])\s*[:=\t ]\s*(?P<unit>[^\t;,]+)", re.I)


def _preamble_columns(layout: Layout, names: list[str] | None) -> list[Column] | None:
    """Two columns whose units only the preamble states: 'X Mode Nanometers' / 'Y Mode %T',
    '#AxisUnit[1]=1/cm', a Raman range in cm-¹. None when the preamble says nothing."""
    if layout.n_columns != 2:
        return None
    text = "\n".join(layout.preamble)
    x_word = y_word = ""
    for line in layout.preamble:
        mx, my = _PREAMBLE_X.search(line), _PREAMBLE_Y.search(line)
        if mx and not x_word:
            x_word = mx["unit"].strip()
        if my and not y_word:
            y_word = my["unit"].strip()
    if not x_word and re.search(r"cm-[1¹]|1/cm|cm\^-1|raman\s*shift", text, re.I):
        x_word = "cm-1"
    if not x_word and not y_word:
        return None
    headers = names or ["0", "1"]
    xu = _norm_unit(x_word)
    if xu in _WAVENUMBER_UNITS or "1/cm" in xu or "cm-1" in xu:
        raman = bool(re.search(r"raman|laser|grating|shift", text, re.I))
        x = Column(headers[0], x_word, "raman_shift_cm1" if raman else "wavenumber_cm1")
    elif xu in ("nm", "nanometers", "nanometer", "wavelength(nm)"):
        x = Column(headers[0], x_word, "wavelength_nm")
    else:
        return None
    yu = _norm_unit(y_word)
    if yu in ("%t", "t%", "transmittance", "%transmittance"):
        y = Column(headers[1], y_word, "transmittance_percent")
    elif yu in ("abs", "a", "absorbance", "od"):
        y = Column(headers[1], y_word, "absorbance")
    else:
        y = Column(headers[1], y_word, "intensity_counts", assumed=not y_word)
    x.note = f"preamble states the x unit {x_word!r}"
    if y_word:
        y.note = f"preamble states the y unit {y_word!r}"
    return [x, y]


def _options_key(options: dict | None) -> str:
    import json

    if not options:
        return ""
    return json.dumps({k: options[k] for k in ("columns", "units") if k in options}, sort_keys=True, default=str)


def _sanitise(name: str) -> str:
    base, unit = _split_name_unit(name)
    s = re.sub(r"[^0-9a-zA-Z]+", "_", f"{base}_{unit}" if unit else base).strip("_").lower()
    return s or "column"


def _sweep_segments(voltage: np.ndarray) -> np.ndarray:
    """Number the monotonic runs of a voltage sweep; repeated voltages stay in their run."""
    steps = np.sign(np.diff(voltage))
    segment = np.zeros(voltage.size, dtype=int)
    direction = 0
    current = 0
    for i, s in enumerate(steps, start=1):
        if s != 0:
            if direction != 0 and s != direction:
                current += 1
            direction = s
        segment[i] = current
    return segment


class _DelimitedBase(Parser):
    """Shared reader; subclasses only fix ``name``/``shape`` for the registry."""

    description = "Delimited text (comma, tab, semicolon, whitespace) with preamble and unit-aware header"

    def sniff(self, text: str) -> float:
        try:
            lines, table = _inspect(text)
        except ParseError:
            return 0.0
        if table is None:
            return 0.0
        if table.shape == self.shape:
            return table.confidence
        if table.shape is None and self.shape == "spectrum" and table.layout.n_columns == 2:
            # Plain two columns: maybe a spectrum (checked again in parse); a tiny table is still
            # answered (faintly) so its reason is "3 points: too few", not "unknown format".
            wanted = MIN_SPECTRUM_ROWS
            return 0.2 if _remaining_rows(lines, table.layout.data_start, at_most=wanted) >= wanted else 0.05
        if table.shape is None and table.reason == "no recognised columns" and self.shape in ("jlv", "lifetime"):
            # A table with a header nobody recognises: answer faintly, so that a column mapping
            # given with the upload can still reach parse(), and without one the reason is
            # "cannot tell which column…" rather than "unknown format".
            return 0.01
        if self.shape == "jlv" and table.shape == "jv":
            # Still answer (weakly) so an LED upload of a solar-cell J-V gets a reason, not
            # "unknown format"; parse() raises "no luminance or photodiode column".
            return 0.05
        return 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        options = options or {}
        lines, table = _inspect(text, _options_key(options))
        if table is None:
            raise ParseError("no numeric table found: expected at least 3 rows of numbers "
                             "separated by commas, tabs, semicolons or spaces", filename=filename)
        layout = table.layout
        values = _read_block(lines, layout)
        columns = table.columns
        header_line = (layout.header_lines[0] + 1) if layout.header_lines else layout.data_start + 1
        shape, _, reason = _decide_shape(columns, values) if table.shape else (None, 0, table.reason)
        if shape in (None, "spectrum", "absorbance", "decay") and values.shape[0] < MIN_SPECTRUM_ROWS:
            raise ParseError(f"{values.shape[0]} points: too few to analyse — a spectrum, decay or "
                             f"diffraction pattern needs at least {MIN_SPECTRUM_ROWS} rows "
                             "(is the export truncated?)", line=layout.data_start + 1)
        if shape is None and layout.n_columns == 2 and _looks_like_wavelengths(values[:, 0]):
            columns = [Column(columns[0].header, "nm", "wavelength_nm", assumed=not columns[0].unit),
                       Column(columns[1].header, columns[1].unit, None, assumed=not columns[1].unit)]
            shape = "spectrum"
        if shape is None:
            if self.shape in ("spectrum", "absorbance", "decay"):
                wanted = {"spectrum": "the wavelength (nm) and the intensity",
                          "absorbance": "the wavelength (nm) and the absorbance or %T",
                          "decay": "the time and the counts"}[self.shape]
                raise ParseError(f"{reason}: cannot tell which columns are {wanted}; name them in a "
                                 "header or pass a column map", line=header_line)
            raise ParseError(f"{reason}: cannot tell which column is voltage, current, luminance or "
                             "time; give units in the header or pass a column mapping", line=header_line)
        if shape != self.shape:
            if self.shape == "jlv" and shape == "jv":
                raise ParseError("no luminance or photodiode column: this looks like a solar-cell "
                                 "J-V file (voltage and current only)",
                                 line=(layout.header_lines[0] + 1) if layout.header_lines else None)
            raise ParseError(f"this is {SHAPE_NAMES[shape]}, not {SHAPE_NAMES[self.shape]}")
        return _to_parsed(self.name, shape, values, columns, layout, lines)


def _to_parsed(fmt: str, shape: str, values: np.ndarray, columns: list[Column], layout: Layout,
               lines: list[str]) -> ParsedData:
    data: dict[str, np.ndarray] = {}
    units: dict[str, str] = {}
    assumed: list[str] = []
    for i, col in enumerate(columns):
        if col.canonical and col.canonical not in data:
            key = col.canonical
        elif col.canonical:
            key = f"{col.canonical}_{_sanitise(col.header)}"
        elif shape == "spectrum" and i == 1:
            key = "intensity_counts" if not col.unit else _sanitise(col.header)
        else:
            key = _sanitise(col.header)
        while key in data:
            key += "_"
        data[key] = values[:, i] * col.factor
        units[key] = col.unit
        if col.assumed and col.canonical:
            assumed.append(f"{col.header!r} read as {col.canonical} (no unit given)")
    frame = pd.DataFrame(data)
    metadata: dict = {
        "delimiter": {"\t": "tab", ";": "semicolon", ",": "comma", None: "whitespace"}[layout.delimiter],
        "decimal_comma": layout.decimal_comma,
        "header": [c.header for c in columns],
        "units": units,
        "preamble": [ln.strip() for ln in layout.preamble if ln.strip()][:50],
        "data_first_line": layout.data_start + 1,
        "rows": int(values.shape[0]),
    }
    if assumed:
        metadata["assumed_units"] = assumed
    parsed = ParsedData(format=fmt, shape=shape, data=frame, metadata=metadata)
    axes = {}
    for col, key in zip(columns, data, strict=True):
        if not col.canonical:
            continue
        quantity, unit = QUANTITY.get(col.canonical, (col.canonical, col.unit))
        source = "option" if col.option else "assumed" if col.assumed else "read"
        where = "column map" if col.option else f"column {col.header!r}"
        evidence = col.note or (where + (f", unit {col.unit!r}" if col.unit and not col.assumed else
                                         ", no unit given" if col.assumed else ""))
        axes[key] = axis(quantity, unit, source=source, written=col.unit or "", evidence=evidence)
    parsed.set_axes(**axes)
    if shape in ("spectrum", "absorbance", "decay"):
        keys = list(data)
        x_key = next((k for k in keys if k in ("wavelength_nm", "time_ns") + X_NOT_NM), keys[0])
        y_key = next((k for k in keys if k != x_key), keys[-1])
        if x_key in axes:
            parsed.set_axes(x=axes[x_key])
        y_col = columns[keys.index(y_key)]
        if y_key in axes:
            parsed.set_axes(y=axes[y_key])
        elif shape == "spectrum":
            parsed.set_axes(y=axis("intensity", y_col.unit or "counts", source="read" if y_col.unit else "assumed",
                                   written=y_col.unit, evidence=f"column {y_col.header!r}" +
                                   ("" if y_col.unit else ", no unit given")))
    if shape == "absorbance":
        return _absorbance_frame(parsed, frame)
    if shape == "spectrum":
        x_not_nm = [k for k in data if k in X_NOT_NM]
        if x_not_nm:
            q = QUANTITY[x_not_nm[0]][0].replace("_", " ")
            metadata["kind_hint"] = kind_hint([], 0.8, f"x axis {q} in cm-1",
                                              reason=f"a {q} spectrum (cm⁻¹), e.g. Raman: no LEDger analysis reads it")
        else:
            headed = any(c.canonical == "intensity_counts" for c in columns) or not columns[0].assumed
            metadata["kind_hint"] = kind_hint(["pl", "el"], 0.35 if headed else 0.2,
                                              "wavelength and intensity columns" if headed else "two bare columns")
    if shape in ("jlv", "jv"):
        segments = _sweep_segments(frame["voltage_v"].to_numpy())
        metadata["sweeps"] = int(segments.max() + 1)
        metadata["voltage_monotonic"] = bool(segments.max() == 0)
        if shape == "jlv":
            frame["sweep"] = segments
        extra_j = [k for k in frame.columns if k.startswith(("current_density_ma_cm2_", "current_a_"))]
        if extra_j:
            metadata["sweep_columns"] = [k for k in frame.columns if k.startswith(("current_density_ma_cm2", "current_a"))]
    return parsed


def _absorbance_frame(parsed: ParsedData, frame: pd.DataFrame) -> ParsedData:
    """wavelength_nm, absorbance (from %T when that is the column), saturated."""
    from .uvvis import CARY_SATURATION_ABS, to_absorbance

    if "absorbance" in frame:
        values = frame["absorbance"].to_numpy(float)
        absorbance, saturated, _ = to_absorbance(values, "absorbance")
        saturated = values == CARY_SATURATION_ABS
        absorbance = np.where(saturated, np.nan, absorbance)
        y = parsed.axes.get("absorbance")
    else:
        absorbance, saturated, conversion = to_absorbance(frame["transmittance_percent"].to_numpy(float), "percent_t")
        y = dict(parsed.axes["transmittance_percent"], converted=conversion, written="%T")
    parsed.data = pd.DataFrame({"wavelength_nm": frame["wavelength_nm"].to_numpy(float), "absorbance": absorbance,
                                "saturated": saturated}).sort_values("wavelength_nm", ignore_index=True)
    parsed.set_axes(x=parsed.axes["wavelength_nm"], y=y)
    parsed.metadata["saturated_points"] = int(saturated.sum())
    parsed.metadata["kind_hint"] = kind_hint(["absorbance"], 0.7, f"column {y['evidence']}")
    return parsed


def shape_for_columns(targets: list[str]) -> str | None:
    """The shape an explicit column map describes (None: let the table decide)."""
    found = set(targets)
    shape, _, _ = _decide_shape([Column(t, "", t) for t in found])
    return shape


@register
class DelimitedJLV(_DelimitedBase):
    name = "delimited_jlv"
    shape = "jlv"
    description = "J-L-V sweep as delimited text: voltage, current (A/mA/µA or mA/cm²), luminance or photodiode"


@register
class DelimitedLifetime(_DelimitedBase):
    name = "delimited_lifetime"
    shape = "lifetime"
    description = "Luminance vs time (s/min/h) as delimited text, e.g. a lifetime rack log"


@register
class DelimitedJV(_DelimitedBase):
    name = "delimited_jv"
    shape = "jv"
    description = "Current-voltage table without a light column (solar-cell J-V, e.g. Keithley 2400 export)"


@register
class DelimitedAbsorbance(_DelimitedBase):
    name = "delimited_absorbance"
    shape = "absorbance"
    description = "Wavelength and absorbance (or %T) columns named in a header, a preamble or a column map"


@register
class DelimitedDecay(_DelimitedBase):
    name = "delimited_decay"
    shape = "decay"
    description = "Time and counts columns of a decay, named in a column map (other TCSPC exports have their own readers)"


@register
class DelimitedSpectrum(_DelimitedBase):
    name = "delimited_spectrum"
    shape = "spectrum"
    description = ("Two numeric columns, wavelength (nm) and a value (counts, A/W, sensitivity); "
                   "wavenumber/Raman-shift (cm⁻¹) spectra are read but no emission analysis takes them")
