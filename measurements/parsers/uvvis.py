"""UV-Vis-NIR absorbance and transmission exports → shape "absorbance".

Columns: ``wavelength_nm``, ``absorbance`` (decadic, A) and ``saturated`` (True where the
instrument wrote its overload marker or the transmittance was ≤ 0: no light reached the detector,
so the point is not a measurement; its absorbance is NaN). Transmittance is converted with
A = −log₁₀ T = 2 − log₁₀ %T so analyses see one quantity; ``metadata["axes"]["y"]`` records what
the file held and the conversion.

- Agilent Cary WinUV CSV: a row of sample names, a row of ``Wavelength (nm),Abs`` or
  ``Wavelength (nm),%T`` pairs, data, a blank line and the method report. Several samples: each
  pair is its own sample with its own y unit and its own length (ragged columns, empty cells:
  nothing slides between columns), in ``ParsedData.samples``. Cary writes exactly 10 for a
  saturated absorbance point. Other software writing the same layout (e.g. Chinese column titles
  ``波长 (nm),吸光度``) is read the same way.
- PerkinElmer UV WinLab ``.asc`` (Lambda 365/650/850/950/1050): ``PE UV`` first line, a
  positional header, ``#GR`` then the x unit (``nm``) and the y unit (``%T``, ``A``, ``%R``), then
  ``#DATA``.
- Shimadzu UVProbe text/CSV: an optional quoted title line, ``"Wavelength nm.","Abs."``, data
  (comma or tab separated). Also read: any two-column file headed ``wavelength…`` / ``abs…``.
- JASCO Spectra Manager text (JCAMP-like ``KEY<tab>value`` header, then ``XYDATA``); XUNITS
  NANOMETERS or 1/CM (an absolute wavenumber, converted λ = 10⁷/ν̃), YUNITS ABSORBANCE or %T.
- Avantes AvaSoft raw ASCII with sample, dark and reference counts: absorbance is computed as
  A = −log10((S − D)/(R − D)) (Beer–Lambert with dark-corrected transmittance).
- A headerless two-column table whose first column looks like wavelengths and whose second
  stays within absorbance values: read only when an absorbance is asked for (weak sniff), with
  both units marked assumed.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import register
from .base import ParsedData, ParseError, Parser, Sniff, axis, kind_hint

_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?$")

CARY_SATURATION_ABS = 10.0  # Cary WinUV writes this value for a saturated (overloaded) point

# y-column words → what they hold. Lower-cased, spaces removed.
_ABSORBANCE_WORDS = {"abs", "abs.", "absorbance", "a", "od", "opticaldensity", "吸光度", "吸收", "吸光", "吸収",
                     "absorbance(a)", "abs(a)", "absorbance(au)", "absorbance(a.u.)"}
_PERCENT_T_WORDS = {"%t", "t%", "%", "transmittance(%)", "trans(%)", "t(%)", "透过率", "透射率", "透過率",
                    "透过率(%)", "透射率(%)", "%transmittance"}
_FRACTION_T_WORDS = {"t", "trans", "trans.", "transmittance", "transmission"}
_REFLECTANCE_WORDS = {"%r", "r%", "reflectance", "reflectance(%)", "r"}
_WAVELENGTH_WORDS = ("wavelength", "wave", "lambda", "λ", "波长", "波長", "nm")


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


def y_quantity(label: str, values: np.ndarray | None = None) -> str | None:
    """'absorbance', 'percent_t', 'fraction_t', 'reflectance' or None from a column title.
    A bare 'Transmittance' is a percentage when its values exceed 1.5."""
    word = label.strip().lower().replace(" ", "")
    if word in _ABSORBANCE_WORDS or word.startswith(("abs", "吸光")):
        return "absorbance"
    if word in _PERCENT_T_WORDS or "%t" in word or word.startswith(("透过", "透射", "透過")):
        return "percent_t"
    if word in _FRACTION_T_WORDS or word.startswith("transmittance"):
        if values is not None and np.nanmax(values) > 1.5:
            return "percent_t"
        return "fraction_t"
    if word in _REFLECTANCE_WORDS or word.startswith("reflect"):
        return "reflectance"
    return None


def to_absorbance(values: np.ndarray, quantity: str) -> tuple[np.ndarray, np.ndarray, str]:
    """(absorbance, saturated mask, conversion) for values holding ``quantity``.

    A transmittance ≤ 0 is no light at the detector: not a measurement (saturated, NaN)."""
    values = np.asarray(values, dtype=float)
    if quantity == "absorbance":
        return values, np.zeros(values.shape, dtype=bool), ""
    if quantity in ("percent_t", "fraction_t"):
        scale = 100.0 if quantity == "percent_t" else 1.0
        dark = values <= 0
        with np.errstate(divide="ignore", invalid="ignore"):
            absorbance = np.where(dark, np.nan, -np.log10(values / scale))
        return absorbance, dark & np.isfinite(values), "A = 2 - log10(%T)" if scale == 100 else "A = -log10(T)"
    raise ParseError(f"y values are {quantity}: a reflectance spectrum is not an absorbance spectrum")


def _y_axis(quantity: str, written: str, evidence: str, source: str = "read") -> dict:
    names = {"absorbance": "absorbance", "percent_t": "transmittance", "fraction_t": "transmittance"}
    conversion = {"percent_t": "A = 2 - log10(%T)", "fraction_t": "A = -log10(T)"}.get(quantity, "")
    return axis(names[quantity], "A", source=source, evidence=evidence, written=written, converted=conversion)


def _frame(wavelength_nm: np.ndarray, absorbance: np.ndarray, saturated: np.ndarray | None = None) -> pd.DataFrame:
    if saturated is None:
        saturated = np.zeros(len(wavelength_nm), dtype=bool)
    frame = pd.DataFrame({"wavelength_nm": np.asarray(wavelength_nm, float),
                          "absorbance": np.asarray(absorbance, float), "saturated": np.asarray(saturated, bool)})
    frame = frame[np.isfinite(frame["wavelength_nm"]) & (np.isfinite(frame["absorbance"]) | frame["saturated"])]
    return frame.sort_values("wavelength_nm", ignore_index=True)


def _absorbance_data(fmt: str, frame: pd.DataFrame, metadata: dict, x_axis: dict, y_axis: dict,
                     evidence: list[str], confidence: float = 0.95) -> ParsedData:
    parsed = ParsedData(format=fmt, shape="absorbance", data=frame, metadata=metadata)
    parsed.set_axes(x=x_axis, y=y_axis)
    parsed.metadata["saturated_points"] = int(frame["saturated"].sum())
    parsed.metadata["kind_hint"] = kind_hint(["absorbance"], confidence, *evidence)
    return parsed


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


# ---------------------------------------------------------------------------------------------
# Cary-style multi-sample CSV


def _is_wavelength_title(cell: str) -> bool:
    low = cell.lower()
    return any(w in low for w in _WAVELENGTH_WORDS)


def _cary_pairs(header: list[str]) -> list[tuple[int, str]]:
    """(x column, y title) for every 'wavelength, y' pair of the column-title row."""
    pairs = []
    for x_col in range(0, len(header) - 1, 2):
        if _is_wavelength_title(header[x_col]) and header[x_col + 1] and y_quantity(header[x_col + 1]):
            pairs.append((x_col, header[x_col + 1]))
    return pairs


@register
class CaryCSVParser(Parser):
    name = "cary_csv"
    shape = "absorbance"
    description = ("Agilent Cary WinUV CSV: one or many samples ('Wavelength (nm),Abs' or ',%T' pairs, "
                   "ragged columns), and the same layout from other software")

    def sniff(self, text: str) -> float:
        lines = text.lstrip("\ufeff").splitlines()[:3]
        if len(lines) < 3:
            return 0.0
        header = _cells(lines[1], ",")
        pairs = _cary_pairs(header)
        if not pairs or sum(1 for c in header if c) != 2 * len(pairs):
            return 0.0
        words = sorted({y for _, y in pairs})
        evidence = f"column titles '{header[0]}' / {', '.join(repr(w) for w in words)}"
        if "wavelength (nm)" in lines[1].lower():
            return Sniff(0.9, "Cary WinUV column-pair header", evidence)
        return Sniff(0.8, "wavelength / absorbance column pairs", evidence)

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.lstrip("\ufeff").splitlines()
        if len(lines) < 3:
            raise ParseError("expected a sample-name row, a column-title row and data")
        names = _cells(lines[0], ",")
        header = _cells(lines[1], ",")
        pairs = _cary_pairs(header)
        if not pairs:
            raise ParseError("expected 'Wavelength (nm),Abs' (or %T) column pairs", line=2)
        # Cells stay in their columns: a sample that ends early leaves empty cells, never a shift.
        columns: dict[int, list[float]] = {c: [] for x_col, _ in pairs for c in (x_col, x_col + 1)}
        last_line = 2
        for index in range(2, len(lines)):
            cells = _cells(lines[index], ",")
            if not any(cells):
                break  # the blank line before the method report
            values = [_num(c) if c else np.nan for c in cells]
            if any(v is None for v in values):
                if index == 2:
                    raise ParseError(f"expected numbers, got {lines[index].strip()[:60]!r}", line=index + 1)
                break
            for col in columns:
                columns[col].append(values[col] if col < len(values) else np.nan)
            last_line = index
        if last_line == 2 and not columns[pairs[0][0]]:
            raise ParseError("no data rows after the column titles", line=3)
        samples, seen = [], set()
        for x_col, y_title in pairs:
            x = np.asarray(columns[x_col], float)
            y = np.asarray(columns[x_col + 1], float)
            rows = np.isfinite(x) & np.isfinite(y)
            if rows.sum() == 0:
                continue
            raw_name = names[x_col] if x_col < len(names) and names[x_col] else f"sample {len(samples) + 1}"
            name, k = raw_name, 2
            while name in seen:
                name, k = f"{raw_name} ({k})", k + 1
            seen.add(name)
            quantity = y_quantity(y_title, y[rows])
            absorbance, saturated, _ = to_absorbance(y[rows], quantity)
            if quantity == "absorbance":
                saturated = y[rows] == CARY_SATURATION_ABS
                absorbance = np.where(saturated, np.nan, absorbance)
            frame = _frame(x[rows], absorbance, saturated)
            metadata = {"sample": name, "column": x_col, "y_label": y_title, "rows": int(rows.sum())}
            sample = _absorbance_data(
                self.name, frame, metadata,
                axis("wavelength", "nm", source="read", evidence=f"column title {header[x_col]!r}"),
                _y_axis(quantity, y_title, f"column title {y_title!r}"),
                [f"column title {y_title!r}"])
            samples.append(sample)
        if not samples:
            raise ParseError("every column pair is empty")
        first = samples[0]
        titles = [s.metadata["sample"] for s in samples]
        metadata = {**first.metadata, "samples": titles}
        for s in samples:
            s.metadata["samples"] = titles
        parsed = ParsedData(format=self.name, shape=self.shape, data=first.data, metadata=metadata,
                            extra={s.metadata["sample"]: s.data for s in samples[1:]},
                            samples=samples if len(samples) > 1 else [])
        units = sorted({s.metadata["axes"]["y"]["written"] for s in samples})
        parsed.metadata["kind_hint"] = kind_hint(["absorbance"], 0.95, "wavelength / absorbance column pairs",
                                                 f"y units {', '.join(units)}")
        return parsed


# ---------------------------------------------------------------------------------------------
# PerkinElmer UV WinLab .asc


@register
class PerkinElmerAscParser(Parser):
    name = "perkinelmer_asc"
    shape = "absorbance"
    description = "PerkinElmer UV WinLab .asc (Lambda series; 'PE UV' header, #GR units, #DATA), %T or A"

    def sniff(self, text: str) -> float:
        head = text.lstrip("\ufeff")[:20000]
        if head.startswith("PE UV") and "#DATA" in head:
            return Sniff(0.97, "first line 'PE UV'", "#DATA block")
        return 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.lstrip("\ufeff").splitlines()
        try:
            data_at = next(i for i, ln in enumerate(lines) if ln.strip() == "#DATA")
        except StopIteration:
            raise ParseError("no '#DATA' line: expected a PerkinElmer UV WinLab .asc export") from None
        gr = next((i for i, ln in enumerate(lines[:data_at]) if ln.strip() == "#GR"), None)
        if gr is None or gr + 2 >= data_at:
            raise ParseError("no '#GR' block with the axis units before '#DATA'")
        x_unit, y_unit = lines[gr + 1].strip(), lines[gr + 2].strip()
        if x_unit.lower() not in ("nm", "nanometers"):
            raise ParseError(f"x unit {x_unit!r}: only wavelength (nm) scans are read", line=gr + 2)
        quantity = y_quantity(y_unit) or ("absorbance" if y_unit.upper() in ("A", "ABS") else None)
        if quantity is None:
            raise ParseError(f"y unit {y_unit!r}: expected %T, T or A", line=gr + 3)
        table, _ = _read_numeric_block(lines, data_at + 1, _guess_sep(lines[data_at + 1]), 2)
        absorbance, saturated, _ = to_absorbance(table[:, 1], quantity)
        metadata = {"instrument": lines[11].strip() if len(lines) > 11 else None,
                    "serial": lines[12].strip() if len(lines) > 12 else None,
                    "title": lines[2].strip() if len(lines) > 2 else None, "y_label": y_unit}
        return _absorbance_data(self.name, _frame(table[:, 0], absorbance, saturated), metadata,
                                axis("wavelength", "nm", source="read", evidence=f"#GR x unit {x_unit!r}"),
                                _y_axis(quantity, y_unit, f"#GR y unit {y_unit!r}"),
                                ["PerkinElmer UV WinLab header", f"y unit {y_unit}"], 0.97)


# ---------------------------------------------------------------------------------------------
# Shimadzu and generic headed two-column files


_WAVELENGTH_HEADER = re.compile(r"^\W*(wave(length)?|λ|lambda|波长|波長)", re.IGNORECASE)


@register
class ShimadzuTextParser(Parser):
    name = "shimadzu_uvvis"
    shape = "absorbance"
    description = ("Shimadzu UVProbe text/CSV ('\"Wavelength nm.\",\"Abs.\"') and generic "
                   "two-column wavelength/absorbance or %T files")

    def _header_line(self, lines: list[str]) -> int | None:
        for index, line in enumerate(lines[:5]):
            cells = [c for c in _cells(line, _guess_sep(line)) if c]
            if len(cells) == 2 and _WAVELENGTH_HEADER.match(cells[0]) and y_quantity(_strip_unit(cells[1])) not in (
                    None, "reflectance"):
                return index
        return None

    def sniff(self, text: str) -> float:
        lines = text.lstrip("\ufeff").splitlines()[:6]
        index = self._header_line(lines)
        if index is None:
            return 0.0
        evidence = f"column titles {lines[index].strip()[:60]!r}"
        return Sniff(0.9 if "wavelength nm." in lines[index].lower() else 0.6, evidence)

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.lstrip("\ufeff").splitlines()
        index = self._header_line(lines)
        if index is None:
            raise ParseError("expected a header row like 'Wavelength nm.,Abs.' in the first 5 lines")
        sep = _guess_sep(lines[index])
        columns = [c for c in _cells(lines[index], sep) if c]
        table, _ = _read_numeric_block(lines, index + 1, sep, 2)
        quantity = y_quantity(_strip_unit(columns[1]), table[:, 1])
        absorbance, saturated, _ = to_absorbance(table[:, 1], quantity)
        title = lines[0].strip().strip('"') if index > 0 else None
        x_unit_written = "nm" if "nm" in columns[0].lower() else ""
        x_axis = axis("wavelength", "nm", source="read" if x_unit_written else "assumed",
                      evidence=f"column title {columns[0]!r}" + ("" if x_unit_written else "; no unit: nm assumed"))
        return _absorbance_data(self.name, _frame(table[:, 0], absorbance, saturated),
                                {"title": title, "y_label": columns[1]}, x_axis,
                                _y_axis(quantity, columns[1], f"column title {columns[1]!r}"),
                                [f"column titles {columns[0]!r}, {columns[1]!r}"], 0.85)


def _strip_unit(title: str) -> str:
    """'Absorbance (a.u.)' → 'Absorbance'; keeps '%T' and 'Transmittance (%)' recognisable."""
    if re.search(r"\(\s*%\s*\)", title):
        return title
    return re.sub(r"\s*[\(\[][^\)\]]*[\)\]]\s*$", "", title) or title


# ---------------------------------------------------------------------------------------------
# JASCO


@register
class JascoParser(Parser):
    name = "jasco"
    shape = "absorbance"
    description = ("JASCO Spectra Manager text export (TITLE/XUNITS/YUNITS header, XYDATA block; "
                   "nm or 1/CM, ABSORBANCE or %T; UV-Vis and NIR)")

    def sniff(self, text: str) -> float:
        head = text[:8000].upper()
        if re.search(r"^XYDATA\s*$", head, re.MULTILINE) and ("YUNITS" in head or "JASCO" in head):
            y = re.search(r"^YUNITS\s+(.+)$", head, re.MULTILINE)
            return Sniff(0.95, "JASCO XYDATA header", f"YUNITS {y.group(1).strip()}" if y else "")
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
        x_units = header.get("XUNITS", "").upper()
        sep = _guess_sep(lines[start]) if start < len(lines) else None
        table, _ = _read_numeric_block(lines, start, sep, 2)
        x = table[:, 0]
        if x_units.startswith("NANOMETER") or x_units == "NM":
            x_axis = axis("wavelength", "nm", source="read", evidence=f"XUNITS {header['XUNITS']}")
        elif x_units in ("1/CM", "CM-1", "WAVENUMBER", "1/CM ") or x_units.startswith("WAVENUMBER"):
            # A spectrophotometer's wavenumber is absolute (not a Raman shift): λ = 10⁷ / ν̃.
            if np.any(x <= 0):
                raise ParseError("XUNITS 1/CM with non-positive wavenumbers", line=start + 1)
            x = 1e7 / x
            x_axis = axis("wavelength", "nm", source="read", evidence=f"XUNITS {header['XUNITS']}",
                          written="1/CM", converted="λ(nm) = 1e7 / wavenumber(cm-1)")
        elif not x_units:
            x_axis = axis("wavelength", "nm", source="assumed", evidence="no XUNITS line; nm assumed")
        else:
            raise ParseError(f"XUNITS {x_units!r}: expected NANOMETERS or 1/CM")
        y_units = header.get("YUNITS", "")
        quantity = {"ABSORBANCE": "absorbance", "ABS": "absorbance", "%T": "percent_t",
                    "TRANSMITTANCE": "percent_t", "T": "fraction_t"}.get(y_units.upper())
        if quantity is None and y_units:
            raise ParseError(f"YUNITS {y_units!r}: expected ABSORBANCE or %T (TRANSMITTANCE)")
        source = "read" if quantity else "assumed"
        quantity = quantity or "absorbance"
        absorbance, saturated, _ = to_absorbance(table[:, 1], quantity)
        metadata = {"title": header.get("TITLE"), "instrument": header.get("SPECTROMETER/DATA SYSTEM"),
                    "date": header.get("DATE"), "y_units": y_units}
        return _absorbance_data(self.name, _frame(x, absorbance, saturated), metadata, x_axis,
                                _y_axis(quantity, y_units or "?", f"YUNITS {y_units}" if y_units
                                        else "no YUNITS line; absorbance assumed", source=source),
                                ["JASCO header", f"YUNITS {y_units}" if y_units else ""])


# ---------------------------------------------------------------------------------------------
# Avantes


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
        parsed = _absorbance_data(self.name, _frame(wavelength_nm, absorbance), metadata,
                                  axis("wavelength", "nm", source="format", evidence="AvaSoft Wave column (nm)"),
                                  axis("absorbance", "A", source="read", evidence="computed from sample, dark "
                                       "and reference counts", written="counts", converted="A = -log10((S-D)/(R-D))"),
                                  ["Avantes sample/dark/reference columns"])
        parsed.extra.update(extra)
        return parsed


# ---------------------------------------------------------------------------------------------
# Headerless two columns, only when an absorbance is asked for


@register
class HeaderlessAbsorbanceParser(Parser):
    """Two bare numeric columns: wavelengths (nm) and values that stay within absorbance range.

    Such a file could as well be a PL spectrum, so the sniff is weak (0.1): it wins only when an
    absorbance is asked for (``--kind absorbance``, an upload with kind=absorbance), and both units
    are marked assumed (a warning on the analysis)."""

    name = "headerless_absorbance"
    shape = "absorbance"
    description = "two bare numeric columns, wavelength (nm) and absorbance (only when an absorbance is asked for)"

    def _table(self, text: str) -> np.ndarray | None:
        lines = [ln for ln in text.lstrip("\ufeff").splitlines() if ln.strip()]
        if not lines:
            return None
        sep = _guess_sep(lines[0])
        rows = []
        for ln in lines:
            values = [_num(c) for c in _cells(ln, sep) if c != ""]
            if len(values) != 2 or any(v is None for v in values):
                return None
            rows.append(values)
        return np.asarray(rows, float) if len(rows) >= 3 else None

    def sniff(self, text: str) -> float:
        table = self._table(text[:65536])
        if table is None or table.shape[0] < 20:
            return 0.0
        x, y = table[:, 0], table[:, 1]
        d = np.diff(x)
        wavelengths = 150 <= x.min() and x.max() <= 3500 and (np.all(d > 0) or np.all(d < 0))
        if wavelengths and -1.0 <= np.nanmin(y) and np.nanmax(y) <= 10.0:
            return Sniff(0.1, "two bare columns: wavelength-like x, y within 0–10")
        return 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        table = self._table(text)
        if table is None:
            raise ParseError("expected two bare numeric columns (wavelength nm, absorbance)")
        saturated = table[:, 1] == CARY_SATURATION_ABS
        absorbance = np.where(saturated, np.nan, table[:, 1])
        return _absorbance_data(
            self.name, _frame(table[:, 0], absorbance, saturated), {},
            axis("wavelength", "nm", source="assumed", evidence="no header; values look like nm"),
            axis("absorbance", "A", source="assumed", evidence="no header; values within 0–10 read as absorbance"),
            ["two bare columns"], 0.2)
