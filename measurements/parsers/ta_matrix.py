"""Transient-absorption matrices (Surface Xplorer-style CSV).

Layout: the first row holds wavelengths (nm), the first column delays (ps), the body ΔA (or ΔT/T).
The transposed layout (first column wavelengths, first row delays, as some Surface Xplorer
versions write it) is recognised from the axes' values. Trailing non-numeric lines (Surface
Xplorer appends a block of acquisition notes) end the matrix.

Shape ``ta_matrix``: DataFrame with index ``delay_ps`` and float wavelength columns (nm). The
delay unit comes from the corner cell (``Time (ns)``, ``delay [s]``, ``ps``) and is converted to
ps; a matrix in s or ns is never taken as ps. Without a unit in the file, delays all below 1 µs
are seconds; anything else is assumed ps and the analysis warns (``metadata["axes"]["x"]``).
``metadata["signal"]`` is "delta_a" or "delta_t_over_t" (from a text label in the corner cell or
the file name when present, else "delta_a"); the analysis can override it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import register
from .base import ParsedData, ParseError, Parser, axis, kind_hint


def _cells(line: str) -> list[str]:
    sep = "," if "," in line else ("\t" if "\t" in line else None)
    return [c.strip() for c in (line.split(sep) if sep else line.split())]


def _floats(cells: list[str]) -> list[float] | None:
    try:
        return [float(c) if c else np.nan for c in cells]
    except ValueError:
        return None


def _is_wavelength_axis(values: np.ndarray) -> bool:
    v = values[np.isfinite(values)]
    return v.size >= 3 and bool(np.all((v > 150) & (v < 5000))) and bool(
        np.all(np.diff(v) > 0) or np.all(np.diff(v) < 0))


def _has_time_zero(values: np.ndarray) -> bool:
    v = values[np.isfinite(values)]
    return v.size >= 3 and bool(np.min(v) <= 0.5)


@register
class SurfaceXplorerParser(Parser):
    name = "surface_xplorer_csv"
    shape = "ta_matrix"
    description = "transient-absorption delay × wavelength CSV (Surface Xplorer style; ΔA or ΔT/T; either orientation)"

    def _matrix(self, text: str) -> tuple[list[str], list[list[float]], int]:
        lines = [ln for ln in text.splitlines()]
        start = next((i for i, ln in enumerate(lines) if ln.strip()), None)
        if start is None:
            raise ParseError("the file is empty")
        first = _cells(lines[start])
        rows = []
        for ln in lines[start + 1:]:
            if not ln.strip():
                if rows:
                    break
                continue
            vals = _floats(_cells(ln))
            if vals is None or len(vals) != len(first):
                break
            rows.append(vals)
        return first, rows, start

    def sniff(self, text: str) -> float:
        try:
            first, rows, _ = self._matrix(text[:65536])
        except ParseError:
            return 0.0
        head = _floats(first[1:])
        if head is None or len(first) < 10 or len(rows) < 5:
            return 0.0
        top = np.asarray(head)
        col = np.asarray([r[0] for r in rows])
        if (_is_wavelength_axis(top) and _has_time_zero(col)) or (_is_wavelength_axis(col) and _has_time_zero(top)):
            return 0.85
        return 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        first, rows, start = self._matrix(text)
        head = _floats(first[1:])
        if head is None:
            raise ParseError("first row must hold the wavelengths (nm) after a corner cell", line=start + 1)
        if len(rows) < 3 or len(first) < 4:
            raise ParseError(f"a {len(rows)} × {len(first) - 1} matrix is too small for transient absorption",
                             line=start + 1)
        body = np.asarray([r[1:] for r in rows], dtype=float)
        top = np.asarray(head, dtype=float)
        col = np.asarray([r[0] for r in rows], dtype=float)
        transposed = _is_wavelength_axis(col) and not _is_wavelength_axis(top)
        if transposed:
            wavelengths, delays, body = col, top, body.T
        else:
            wavelengths, delays = top, col
        if not np.all(np.isfinite(wavelengths)) or not np.all(np.isfinite(delays)):
            raise ParseError("blank cells in the wavelength or delay axis", line=start + 1)
        if not _is_wavelength_axis(wavelengths):
            raise ParseError(f"wavelength axis {wavelengths[0]:g}…{wavelengths[-1]:g} is not in nm "
                             "(expected increasing or decreasing values between 150 and 5000)", line=start + 1)
        delays, delay_axis = _delays_in_ps(delays, first[0], filename)
        order_w = np.argsort(wavelengths)
        order_d = np.argsort(delays)
        if np.any(np.diff(delays[order_d]) == 0):
            raise ParseError("repeated delay values")
        frame = pd.DataFrame(body[np.ix_(order_d, order_w)], index=pd.Index(delays[order_d], name="delay_ps"),
                             columns=wavelengths[order_w].astype(float))
        corner = (first[0] + " " + (filename or "")).lower()
        signal = "delta_t_over_t" if re.search(r"dt/?t|δt/t|delta\s*t", corner) else "delta_a"
        metadata = {"signal": signal, "orientation": "wavelength_rows" if transposed else "wavelength_columns",
                    "delay_unit": "ps", "delay_unit_in_file": delay_axis["written"],
                    "n_delays": int(frame.shape[0]), "n_wavelengths": int(frame.shape[1])}
        parsed = ParsedData(format=self.name, shape=self.shape, data=frame, metadata=metadata)
        parsed.set_axes(x=delay_axis, y=axis("wavelength", "nm", source="read",
                                             evidence="axis values 150–5000 (nm)"))
        parsed.metadata["kind_hint"] = kind_hint(["ta"], 0.85, "delay × wavelength matrix")
        return parsed


_TIME_UNIT = re.compile(r"(?<![a-zµμ])(fs|ps|ns|us|µs|μs|ms|s)(?![a-z])", re.I)
_TO_PS = {"fs": 1e-3, "ps": 1.0, "ns": 1e3, "us": 1e6, "µs": 1e6, "μs": 1e6, "ms": 1e9, "s": 1e12}


def _delays_in_ps(delays: np.ndarray, corner: str, filename: str | None) -> tuple[np.ndarray, dict]:
    """Delays converted to ps from the unit in the corner cell ("Time (ns)", "delay/s").

    Without a stated unit: delays all below 1 µs in magnitude cannot be picoseconds of a TA
    scan (that would be sub-femtosecond steps), so they are seconds; otherwise Surface
    Xplorer's ps is assumed and the analysis warns."""
    text = re.sub(r"\bnm\b|wavelength|wave|lambda", " ", corner, flags=re.I)
    m = _TIME_UNIT.search(text)
    if m:
        unit = m.group(1).lower().replace("μ", "µ")
        return delays * _TO_PS[unit], axis("delay", "ps", source="read", written=unit,
                                           evidence=f"corner cell {corner.strip()!r}",
                                           converted="" if unit == "ps" else f"{unit} → ps")
    finite = delays[np.isfinite(delays)]
    if finite.size and np.max(np.abs(finite)) < 1e-6:
        return delays * 1e12, axis("delay", "ps", source="assumed", written="s",
                                   evidence=f"no unit in the corner cell; delays up to {np.max(np.abs(finite)):.3g} "
                                            "can only be seconds", converted="s → ps")
    return delays, axis("delay", "ps", source="assumed", written="",
                        evidence="no unit in the corner cell; Surface Xplorer's ps assumed")
