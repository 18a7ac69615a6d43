"""Binary exports read through the table reader: Excel ``.xlsx`` workbooks (openpyxl) and LabVIEW
``.tdms`` logs (npTDMS).

Both are turned into the same rows a delimited text export would hold (a header row of channel
or column names with their units, then numbers) and read by ``delimited``'s unit-aware table
reader, so a J-L-V sweep, a lifetime log, a spectrum or an absorbance table means the same
thing whether it came as CSV, xlsx or TDMS, and a column map rescues either.

- ``.xlsx``: the sheet holding a numeric table (a header row above it, a preamble of notes
  allowed). Several sheets with tables are refused with their names unless ``options["sheet"]``
  names one: reading the first in silence could pick the wrong pixel.
- ``.tdms``: the group holding a light channel (luminance / photodiode) or else the first group
  with numeric channels; units from each channel's ``unit_string`` property (the LabVIEW
  convention). A waveform channel without a time channel gets its time axis from ``wf_start_offset``
  and ``wf_increment`` (seconds, by the TDMS waveform convention).

Each file type is registered once per table shape (like the delimited reader), and each sniff
answers only for the shape its table has.
"""

from __future__ import annotations

import io
import zipfile
from functools import lru_cache

import numpy as np

from . import register
from .base import ParsedData, ParseError, Parser, Sniff
from .delimited import _inspect

_ZIP = b"PK\x03\x04"
_TDMS = b"TDSm"


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value).replace("\t", " ").replace("\n", " ").strip()


@lru_cache(maxsize=8)
def _xlsx_tables(content: bytes) -> tuple[tuple[str, str], ...]:
    """(sheet name, tab-separated text) of every sheet that holds a numeric table."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise ParseError(f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    tables = []
    try:
        for sheet in workbook.worksheets:
            lines = []
            for row in sheet.iter_rows(values_only=True):
                cells = [_cell_text(v) for v in row]
                while cells and cells[-1] == "":
                    cells.pop()
                lines.append("\t".join(cells))
            text = "\n".join(lines)
            _, table = _inspect(text)
            if table is not None:
                tables.append((sheet.title, text))
    finally:
        workbook.close()
    return tuple(tables)


def _is_xlsx(content: bytes) -> bool:
    if not content.startswith(_ZIP):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _xlsx_text(content: bytes, options: dict) -> tuple[str, str, list[str]]:
    tables = _xlsx_tables(content)
    if not tables:
        raise ParseError("no sheet of the workbook holds a table of numbers under a header row")
    names = [name for name, _ in tables]
    wanted = options.get("sheet")
    if wanted is not None:
        for name, text in tables:
            if name == str(wanted):
                return name, text, names
        raise ParseError(f"sheet {wanted!r} holds no table; sheets with tables: {', '.join(names)}")
    if len(tables) > 1:
        raise ParseError(f"{len(tables)} sheets hold tables ({', '.join(names)}): give the sheet to read "
                         "(parser option 'sheet') — reading the first in silence could pick the wrong one")
    return tables[0][0], tables[0][1], names


@lru_cache(maxsize=8)
def _tdms_text(content: bytes) -> tuple[str, str, tuple[str, ...]]:
    """(group name, tab-separated text, all group names) of the group to read."""
    from nptdms import TdmsFile

    try:
        tdms = TdmsFile.read(io.BytesIO(content))
    except Exception as exc:  # npTDMS raises several types for a broken file
        raise ParseError(f"not a readable TDMS file ({type(exc).__name__}: {exc})") from None
    groups = [g for g in tdms.groups() if any(len(c) for c in g.channels())]
    if not groups:
        raise ParseError("the TDMS file holds no channel with data")

    def light(group) -> bool:
        return any(w in c.name.lower() for c in group.channels() for w in ("lum", "photo", "brightness", "pd"))

    group = next((g for g in groups if light(g)), groups[0])
    channels = [c for c in group.channels() if len(c) and np.issubdtype(np.asarray(c[:1]).dtype, np.number)]
    if not channels:
        raise ParseError(f"group {group.name!r} holds no numeric channel")
    n = max(len(c) for c in channels)
    columns, headers = [], []
    has_time = any("time" in c.name.lower() for c in channels)
    if not has_time and "wf_increment" in channels[0].properties:
        start = float(channels[0].properties.get("wf_start_offset", 0.0))
        step = float(channels[0].properties["wf_increment"])
        columns.append(start + step * np.arange(n))
        headers.append("Time (s)")  # TDMS waveform timing is in seconds
    for c in channels:
        values = np.full(n, np.nan)
        data = np.asarray(c[:], dtype=float)
        values[:data.size] = data
        unit = str(c.properties.get("unit_string", "") or "").strip()
        headers.append(f"{c.name} ({unit})" if unit else c.name)
        columns.append(values)
    table = np.column_stack(columns)
    lines = ["\t".join(headers)] + ["\t".join(repr(float(v)) for v in row) for row in table if np.all(np.isfinite(row))]
    return group.name, "\n".join(lines), tuple(g.name for g in groups)


class _TableBinary(Parser):
    """A binary container read as a table; subclasses fix the container and the shape."""

    binary = True
    container = ""

    def _text(self, content: bytes, options: dict) -> tuple[str, dict]:
        raise NotImplementedError

    def _claims(self, content: bytes) -> bool:
        raise NotImplementedError

    def sniff_bytes(self, content: bytes) -> float:
        if not self._claims(content):
            return 0.0
        try:
            text, where = self._text(content, {})
        except ParseError:
            # Ours, but broken or ambiguous: answer (faintly, once) so the reason reaches the user.
            return 0.05 if self.shape == "jlv" else 0.0
        _, table = _inspect(text)
        if table is None or table.shape != self.shape:
            return 0.0
        return Sniff(min(0.9, table.confidence + 0.05), f"{self.container} {where['where']}")

    def parse_bytes(self, content: bytes, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        options = options or {}
        text, where = self._text(content, options)
        from . import parsers

        table_parser = parsers()[f"delimited_{self.shape}"]
        parsed = table_parser.parse(text, filename=filename, options=options)
        parsed.format = self.name
        parsed.metadata.update(where)
        return parsed


def _register_for_shapes(base: type[_TableBinary], prefix: str, what: str) -> None:
    for shape in ("jlv", "lifetime", "jv", "spectrum", "absorbance"):
        cls = type(f"{base.__name__}_{shape}", (base,), {
            "name": f"{prefix}_{shape}", "shape": shape,
            "description": f"{what} holding a {shape.replace('jlv', 'J-L-V').replace('jv', 'J-V')} table"})
        register(cls)


class XlsxTable(_TableBinary):
    container = ".xlsx"

    def _claims(self, content: bytes) -> bool:
        return _is_xlsx(content)

    def _text(self, content: bytes, options: dict) -> tuple[str, dict]:
        sheet, text, names = _xlsx_text(content, options)
        return text, {"sheet": sheet, "sheets_with_tables": names, "where": f"sheet {sheet!r}"}


class TdmsTable(_TableBinary):
    container = ".tdms"

    def _claims(self, content: bytes) -> bool:
        return content.startswith(_TDMS)

    def _text(self, content: bytes, options: dict) -> tuple[str, dict]:
        group, text, groups = _tdms_text(content)
        return text, {"group": group, "groups": list(groups), "where": f"group {group!r}"}


_register_for_shapes(XlsxTable, "xlsx", "Excel .xlsx workbook (openpyxl)")
_register_for_shapes(TdmsTable, "tdms", "LabVIEW .tdms log (npTDMS)")
