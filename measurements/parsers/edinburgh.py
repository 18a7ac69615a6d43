"""Edinburgh Instruments FLS (F900/Fluoracle) CSV exports of emission/excitation scans.

The export is a block of ``key,value,`` header rows ("Labels", "Type", "Start", "Stop", "Step",
"Xaxis", "Yaxis", ...), a blank line, then ``x,y,`` rows (a trailing comma on every row).
Several traces exported together share the header rows, one column per trace in "Labels";
their data rows are either ``x,y1,y2,...`` or ``x1,y1,x2,y2,...``. The first trace becomes
``data``; the others go to ``extra`` under their label.

Values may be negative: the software subtracts a background, so noise straddles zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import register
from .base import ParsedData, ParseError, Parser, axis, kind_hint

# Header keys whose presence together identifies an FLS export.
_SIGNATURE_KEYS = ("labels", "type", "xaxis", "yaxis")


def _split(line: str) -> list[str]:
    return [cell.strip() for cell in line.rstrip("\r\n").split(",")]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@register
class EdinburghFLSParser(Parser):
    name = "edinburgh_fls"
    shape = "spectrum"
    description = "Edinburgh Instruments FLS/Fluoracle CSV (emission, excitation or synchronous scans)"

    def sniff(self, text: str) -> float:
        lines = text.lstrip("\ufeff").splitlines()[:40]
        if not lines or not lines[0].startswith("Labels,"):
            return 0.0
        keys = {_split(line)[0].lower() for line in lines if line}
        found = sum(key in keys for key in _SIGNATURE_KEYS)
        return 0.95 if found == len(_SIGNATURE_KEYS) else 0.3 * found / len(_SIGNATURE_KEYS)

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.lstrip("\ufeff").splitlines()
        header: dict[str, list[str]] = {}
        rows: list[list[float]] = []
        first_data_line = None
        for number, line in enumerate(lines, start=1):
            cells = [c for c in _split(line)]
            while cells and cells[-1] == "":
                cells.pop()  # every FLS row ends with a comma
            if not cells:
                continue
            if _is_number(cells[0]):
                if not all(_is_number(c) for c in cells):
                    raise ParseError(f"expected numbers only in a data row, got {line.strip()!r}", line=number)
                if rows and len(cells) != len(rows[0]):
                    raise ParseError(f"expected {len(rows[0])} columns like the first data row, got {len(cells)}",
                                     line=number)
                first_data_line = first_data_line or number
                rows.append([float(c) for c in cells])
            elif rows:
                break  # a footer after the data ends the table
            else:
                header[cells[0].lower()] = cells[1:]

        if not rows:
            raise ParseError("no data rows after the FLS header (expected 'wavelength,counts,' lines)")
        xaxis = (header.get("xaxis") or ["?"])[0]
        if xaxis.lower() != "wavelength":
            raise ParseError(f"FLS export with X axis {xaxis!r}: only wavelength scans are read as spectra")
        labels = [c for c in header.get("labels", []) if c] or ["trace 1"]
        table = np.asarray(rows)
        n_cols = table.shape[1]
        if n_cols < 2:
            raise ParseError("expected at least two columns (wavelength, counts)", line=first_data_line)

        # Pair up x/y columns: shared x (n+1 columns) or one x per trace (2n columns).
        if n_cols == 2 * len(labels) and len(labels) > 1:
            pairs = [(2 * i, 2 * i + 1) for i in range(len(labels))]
        else:
            pairs = [(0, i) for i in range(1, n_cols)]
            labels = (labels + [f"trace {i}" for i in range(len(labels) + 1, n_cols)])[: n_cols - 1]

        frames = []
        for x_col, y_col in pairs:
            frame = pd.DataFrame({"wavelength_nm": table[:, x_col], "intensity_counts": table[:, y_col]})
            frames.append(frame.sort_values("wavelength_nm", ignore_index=True))

        def first(key: str):
            values = header.get(key)
            return values[0] if values else None

        metadata = {
            "label": labels[0],
            "labels": labels,
            "scan_type": first("type"),
            "y_axis": first("yaxis"),
            "detector": first("detector"),
            "excitation_nm": _to_float(first("fixed/offset")),
            "start_nm": _to_float(first("start")),
            "stop_nm": _to_float(first("stop")),
            "step_nm": _to_float(first("step")),
            "dwell_time_s": _to_float(first("dwell time")),
            "temperature_k": _to_float(first("temp")),
            "n_points": len(frames[0]),
        }
        extra = {label: frame for label, frame in zip(labels[1:], frames[1:], strict=True)}
        x_axis = axis("wavelength", "nm", source="read", evidence="Xaxis,Wavelength (FLS scans are in nm)")
        y_axis = axis("intensity", "counts", source="read" if metadata["y_axis"] else "format",
                      written=metadata["y_axis"] or "", evidence=f"Yaxis,{metadata['y_axis']}")
        hint = kind_hint(["pl"] if "emission" in str(metadata["scan_type"]).lower() else [],
                         0.8, f"Type {metadata['scan_type']}",
                         reason="" if "emission" in str(metadata["scan_type"]).lower()
                         else f"an FLS {metadata['scan_type']} (not an emission spectrum)")
        samples = []
        if len(frames) > 1:  # several traces: each is its own sample (analysed one by one)
            for label, frame in zip(labels, frames, strict=True):
                one = ParsedData(format=self.name, shape=self.shape, data=frame,
                                 metadata={**metadata, "label": label, "sample": label, "samples": labels})
                one.set_axes(x=x_axis, y=y_axis)
                one.metadata["kind_hint"] = hint
                samples.append(one)
            metadata = {**metadata, "sample": labels[0], "samples": labels}
        parsed = ParsedData(format=self.name, shape=self.shape, data=frames[0], metadata=metadata, extra=extra,
                            samples=samples)
        parsed.set_axes(x=x_axis, y=y_axis)
        parsed.metadata["kind_hint"] = hint
        return parsed


def _to_float(value: str | None) -> float | None:
    if value is None or not _is_number(value):
        return None
    return float(value)
