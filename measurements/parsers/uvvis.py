"""UV-Vis absorbance exports → shape "absorbance" (``wavelength_nm``, ``absorbance``).

- Agilent Cary WinUV CSV: a row of sample names, a row of ``Wavelength (nm),Abs`` pairs, data,
  then a blank line and the method report.
- Shimadzu UVProbe text/CSV: an optional quoted title line, ``"Wavelength nm.","Abs."``, data
  (comma or tab separated). Also read: any two-column file headed ``wavelength…`` / ``abs…``.
- JASCO Spectra Manager text (JCAMP-like ``KEY<tab>value`` header, then ``XYDATA``).
- Avantes AvaSoft raw ASCII with sample, dark and reference counts: absorbance is computed as
  A = −log10((S − D)/(R − D)) (Beer–Lambert with dark-corrected transmittance).

Transmittance exports (%T or T) are converted with A = −log10(T) so analyses see one quantity.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import register
from .base import ParsedData, ParseError, Parser

_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?$")


def _cells(line: str, sep: str | None) -> list[str]:
    parts = line.split(sep) if sep else line.split()
    return [p.strip().strip('"').strip() for p in parts]


def _num(cell: str, decimal_comma: bool = False) -> float | None:
    cell = cell.strip()
    if decimal_comma:
        cell = cell.replace(",", ".")
    if not _NUMBER.match(cell):
        return None
    try:
        return float(cell)
    except ValueError:
        return None


def _guess_sep(line: str) -> str | None:
    for sep in ("\t", ";", ","):
        if sep in line:
            return sep
    return None


def _to_absorbance(values: np.ndarray, y_label: str) -> tuple[np.ndarray, str]:
    """Convert %T / T to absorbance; leave absorbance alone. Returns values and what was done."""
    label = y_label.lower().replace(" ", "")
    if "%t" in label or "transmittance(%)" in label or label in ("t%", "%"):
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.log10(values / 100.0), "from %T"
    if label in ("t", "trans", "transmittance", "trans."):
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.log10(values), "from T"
    return values, "as exported"


def _frame(wavelength_nm: np.ndarray, absorbance: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"wavelength_nm": wavelength_nm, "absorbance": absorbance})
    frame = frame[np.isfinite(frame["wavelength_nm"]) & np.isfinite(frame["absorbance"])]
    return frame.sort_values("wavelength_nm", ignore_index=True)


def _read_numeric_block(lines: list[str], start: int, sep: str | None, n_min: int,
                        decimal_comma: bool = False) -> tuple[np.ndarray, int]:
    """Numeric rows from ``start`` until the first blank/non-numeric line (a footer)."""
    rows = []
    end = start
    for index in range(start, len(lines)):
        line = lines[index]
        if not line.strip():
            if rows:
                break
            continue
        cells = [c for c in _cells(line, sep) if c != ""]
        values = [_num(c, decimal_comma) for c in cells]
        if len(values) < n_min or any(v is None for v in values[:n_min]):
            if rows:
                break
            raise ParseError(f"expected at least {n_min} numbers, got {line.strip()!r}", line=index + 1)
        rows.append(values)
        end = index
    if not rows:
        raise ParseError("no data rows found", line=start + 1)
    width = min(len(r) for r in rows)
    return np.array([r[:width] for r in rows], dtype=float), end


@register
class CaryCSVParser(Parser):
    name = "cary_csv"
    shape = "absorbance"
    description = "Agilent Cary WinUV CSV (sample-name row, 'Wavelength (nm),Abs' pairs, method footer)"

    def sniff(self, text: str) -> float:
        lines = text.lstrip("\ufeff").splitlines()[:3]
        if len(lines) < 2:
            return 0.0
        second = lines[1].lower()
        if "wavelength (nm)" in second and ("abs" in second or "%t" in second):
            return 0.9
        return 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.lstrip("\ufeff").splitlines()
        names = _cells(lines[0], ",")
        columns = _cells(lines[1], ",")
        table, _ = _read_numeric_block(lines, 2, ",", 2)
        # Column pairs (x, y) per sample; the sample name sits above the x column.
        traces = []
        for x_col in range(0, min(len(columns), table.shape[1]) - 1, 2):
            name = names[x_col] if x_col < len(names) and names[x_col] else f"sample {x_col // 2 + 1}"
            absorbance, how = _to_absorbance(table[:, x_col + 1], columns[x_col + 1])
            traces.append((name, _frame(table[:, x_col], absorbance), how))
        if not traces:
            raise ParseError("expected 'Wavelength (nm),Abs' column pairs", line=2)
        name, data, how = traces[0]
        metadata = {"sample": name, "samples": [t[0] for t in traces], "y_source": how}
        return ParsedData(format=self.name, shape=self.shape, data=data, metadata=metadata,
                          extra={t[0]: t[1] for t in traces[1:]})


_WAVELENGTH_HEADER = re.compile(r"^\W*wave(length)?\b", re.IGNORECASE)
_Y_HEADER = re.compile(r"^\W*(abs|absorbance|a\b|od|optical density|%t|t%|transmittance|trans)",
                       re.IGNORECASE)


@register
class ShimadzuTextParser(Parser):
    name = "shimadzu_uvvis"
    shape = "absorbance"
    description = ("Shimadzu UVProbe text/CSV ('\"Wavelength nm.\",\"Abs.\"') and generic "
                   "two-column wavelength/absorbance files")

    def _header_line(self, lines: list[str]) -> int | None:
        for index, line in enumerate(lines[:5]):
            cells = [c for c in _cells(line, _guess_sep(line)) if c]
            if len(cells) >= 2 and _WAVELENGTH_HEADER.match(cells[0]) and _Y_HEADER.match(cells[1]):
                return index
        return None

    def sniff(self, text: str) -> float:
        lines = text.lstrip("\ufeff").splitlines()[:6]
        index = self._header_line(lines)
        if index is None:
            return 0.0
        return 0.9 if "wavelength nm." in lines[index].lower() else 0.6

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.lstrip("\ufeff").splitlines()
        index = self._header_line(lines)
        if index is None:
            raise ParseError("expected a header row like 'Wavelength nm.,Abs.' in the first 5 lines")
        sep = _guess_sep(lines[index])
        columns = [c for c in _cells(lines[index], sep) if c]
        table, _ = _read_numeric_block(lines, index + 1, sep, 2)
        absorbance, how = _to_absorbance(table[:, 1], columns[1])
        title = lines[0].strip().strip('"') if index > 0 else None
        return ParsedData(format=self.name, shape=self.shape, data=_frame(table[:, 0], absorbance),
                          metadata={"title": title, "y_label": columns[1], "y_source": how})


@register
class JascoParser(Parser):
    name = "jasco"
    shape = "absorbance"
    description = "JASCO Spectra Manager text export (TITLE/XUNITS/YUNITS header, XYDATA block)"

    def sniff(self, text: str) -> float:
        head = text[:8000].upper()
        if re.search(r"^XYDATA\s*$", head, re.MULTILINE) and ("YUNITS" in head or "JASCO" in head):
            return 0.95
        return 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.lstrip("\ufeff").splitlines()
        header: dict[str, str] = {}
        start = None
        for index, line in enumerate(lines):
            if line.strip().upper() == "XYDATA":
                start = index + 1
                break
            key, _, value = line.partition("\t") if "\t" in line else line.partition(",")
            header[key.strip().upper()] = value.strip()
        if start is None:
            raise ParseError("no XYDATA line: expected the JASCO header to end with 'XYDATA'")
        x_units = header.get("XUNITS", "NANOMETERS").upper()
        if not x_units.startswith("NANOMETER") and x_units != "NM":
            raise ParseError(f"XUNITS {x_units!r}: only nanometre wavelength axes are read")
        y_units = header.get("YUNITS", "ABSORBANCE")
        sep = _guess_sep(lines[start]) if start < len(lines) else None
        table, _ = _read_numeric_block(lines, start, sep, 2)
        if y_units.upper() not in ("ABSORBANCE", "ABS", "TRANSMITTANCE", "%T", "T"):
            raise ParseError(f"YUNITS {y_units!r}: expected ABSORBANCE or TRANSMITTANCE")
        y_label = {"ABSORBANCE": "abs", "TRANSMITTANCE": "%t", "%T": "%t"}.get(y_units.upper(), y_units)
        absorbance, how = _to_absorbance(table[:, 1], y_label)
        metadata = {"title": header.get("TITLE"), "instrument": header.get("SPECTROMETER/DATA SYSTEM"),
                    "date": header.get("DATE"), "y_units": y_units, "y_source": how}
        return ParsedData(format=self.name, shape=self.shape, data=_frame(table[:, 0], absorbance),
                          metadata=metadata)


@register
class AvantesRawParser(Parser):
    name = "avantes_raw"
    shape = "absorbance"
    description = "Avantes AvaSoft raw ASCII with sample, dark and reference counts (absorbance computed)"

    def _header(self, lines: list[str]) -> tuple[int, str | None, list[str]] | None:
        for index, line in enumerate(lines[:40]):
            sep = _guess_sep(line)
            cells = [c.lower() for c in _cells(line, sep)]
            if cells and cells[0].startswith("wave") and {"sample", "dark", "reference"} <= {
                    c.split()[0] if c else c for c in cells}:
                return index, sep, cells
        return None

    def sniff(self, text: str) -> float:
        lines = text.lstrip("\ufeff").splitlines()[:40]
        if self._header(lines) is None:
            return 0.0
        return 0.95 if "avasoft" in text[:4000].lower() or "avantes" in text[:4000].lower() else 0.8

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.lstrip("\ufeff").splitlines()
        found = self._header(lines)
        if found is None:
            raise ParseError("expected a column header with Wave, Sample, Dark and Reference")
        index, sep, cells = found
        names = [c.split()[0] if c else c for c in cells]
        columns = {name: names.index(name) for name in ("wave", "sample", "dark", "reference")
                   if name in names}
        columns["wave"] = 0
        # Skip a units row ("[nm];[counts];...") and blank lines between header and data.
        start = index + 1
        while start < len(lines) and (not lines[start].strip() or "[" in lines[start]):
            start += 1
        # European AvaSoft installs write "1,234" with ';' separators.
        decimal_comma = sep == ";" and start < len(lines) and "," in lines[start] and "." not in lines[start]
        table, _ = _read_numeric_block(lines, start, sep, 4, decimal_comma=decimal_comma)
        wavelength_nm = table[:, columns["wave"]]
        sample = table[:, columns["sample"]]
        dark = table[:, columns["dark"]]
        reference = table[:, columns["reference"]]
        signal = sample - dark
        light = reference - dark
        valid = (signal > 0) & (light > 0)
        if valid.sum() < 2:
            raise ParseError("sample or reference is not above dark at any wavelength: cannot compute absorbance")
        with np.errstate(divide="ignore", invalid="ignore"):
            absorbance = np.where(valid, -np.log10(signal / light), np.nan)
        metadata = {"y_source": "-log10((S-D)/(R-D))", "points_dropped": int((~valid).sum())}
        for line in lines[:index]:
            key, _, value = line.partition(":")
            if value.strip():
                metadata[key.strip()] = value.strip()
        extra = {"raw_counts": pd.DataFrame({"wavelength_nm": wavelength_nm, "sample_counts": sample,
                                             "dark_counts": dark, "reference_counts": reference})}
        return ParsedData(format=self.name, shape=self.shape, data=_frame(wavelength_nm, absorbance),
                          metadata=metadata, extra=extra)
