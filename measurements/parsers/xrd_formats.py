"""X-ray diffraction patterns: ``.xy``/``.xye`` text, Bruker DIFFRAC.EVA ``.xy``, PANalytical
``.xrdml`` and Rigaku ``.ras``.

All produce shape ``xrd``: columns ``two_theta_deg``, ``intensity`` (and ``esd`` for ``.xye``).
``metadata["wavelength_a"]`` (Å) is set only when the file states the wavelength (a number, or
an anode and line such as "Cu Ka1"); it is never assumed. ``metadata["wavelength_source"]`` says
where it came from.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd

from . import register
from .base import ParsedData, ParseError, Parser

# Kα1 wavelengths (Å), International Tables for Crystallography Vol. C, Table 4.2.2.1.
KALPHA1_A = {"cu": 1.540593, "co": 1.788996, "mo": 0.709319, "cr": 2.289760, "fe": 1.936042,
             "ag": 0.559421, "ni": 1.657930, "w": 0.209010}

_NUM = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
# "1.5406 A", "1.5406 Å", "lambda=1.5406", "wavelength: 1.24"
_WL_WITH_UNIT = re.compile(rf"({_NUM})\s*(?:Å|A\b|Angstr[oö]m|angstrom)", re.I)
_WL_KEYED = re.compile(rf"(?:\bwave\s*length|\blambda|λ|\bwl1?\b)\s*[:=]?\s*\"?\s*({_NUM})", re.I)
_ANODE_LINE = re.compile(r"\b(Cu|Co|Mo|Cr|Fe|Ag|Ni|W)\s*[-_ ]?\s*K\s*(?:a|α|alpha)\s*1?\b", re.I)


def wavelength_from_text(header: str) -> tuple[float, str] | None:
    """Wavelength (Å) stated in a free-text header, with where it came from; None if not stated."""
    for pattern in (_WL_KEYED, _WL_WITH_UNIT):
        m = pattern.search(header)
        if m:
            value = float(m.group(1))
            if 0.05 < value < 5.0:  # X-ray range; rejects "10 A" currents and the like
                return value, f"header: {m.group(0).strip()!r}"
    m = _ANODE_LINE.search(header)
    if m:
        return KALPHA1_A[m.group(1).lower()], f"header names {m.group(0).strip()!r} (Kα1)"
    return None


def _frame(rows: list[list[float]], *, filename_hint: str = "") -> pd.DataFrame:
    arr = np.asarray(rows, dtype=float)
    cols = {"two_theta_deg": arr[:, 0], "intensity": arr[:, 1]}
    if arr.shape[1] >= 3:
        cols["esd"] = arr[:, 2]
    df = pd.DataFrame(cols)
    if np.any(np.diff(df["two_theta_deg"].to_numpy()) <= 0):
        raise ParseError("2θ must increase monotonically")
    return df


def _numeric_rows(lines: list[str], start: int) -> list[list[float]]:
    rows = []
    for lineno, raw in enumerate(lines[start:], start=start + 1):
        line = raw.strip()
        if not line or line.startswith(("#", "!", "'")):
            continue
        try:
            row = [float(tok) for tok in re.split(r"[\s,;]+", line) if tok]
        except ValueError:
            raise ParseError(f"expected 2θ and intensity numbers, got {line[:40]!r}", line=lineno) from None
        if len(row) < 2:
            raise ParseError(f"expected at least two columns (2θ, intensity), got {line[:40]!r}", line=lineno)
        rows.append(row[:3])
    width = min(len(r) for r in rows) if rows else 0
    return [r[:width] for r in rows]


def _looks_like_pattern(lines: list[str]) -> bool:
    data = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith(("#", "'", "!"))][:200]
    if len(data) < 20:
        return False
    try:
        rows = [[float(t) for t in re.split(r"[\s,;]+", ln.strip()) if t] for ln in data]
    except ValueError:
        return False
    if any(not 2 <= len(r) <= 3 for r in rows):
        return False
    x = np.array([r[0] for r in rows])
    return bool(np.all(np.diff(x) > 0) and 0 <= x[0] and x[-1] <= 180)


@register
class XyParser(Parser):
    """Two- or three-column 2θ/intensity(/esd) text with an optional ``#`` header."""

    name = "xy"
    shape = "xrd"
    description = "two/three-column 2θ–intensity(–esd) .xy/.xye text with a '#' header (wavelength read from it)"

    def sniff(self, text: str) -> float:
        lines = text.splitlines()
        if not _looks_like_pattern(lines):
            return 0.0
        header = "\n".join(ln for ln in lines[:20] if ln.lstrip().startswith("#")).lower()
        if re.search(r"2\s*-?\s*th|2θ|two.?theta|diffract|xrd|k\s*(a|α|alpha)", header):
            return 0.9
        # A bare numeric two-column file could be anything; stay below specific parsers.
        return 0.3

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.splitlines()
        header = "\n".join(ln.lstrip("#! ").strip() for ln in lines[:50] if ln.lstrip().startswith(("#", "!")))
        rows = _numeric_rows(lines, 0)
        if len(rows) < 10:
            raise ParseError(f"only {len(rows)} data rows: too few for a diffraction pattern")
        metadata: dict = {"header": header} if header else {}
        found = wavelength_from_text(header)
        if found:
            metadata["wavelength_a"], metadata["wavelength_source"] = found
        return ParsedData(format=self.name, shape=self.shape, data=_frame(rows), metadata=metadata)


_BRUKER_KV = re.compile(r"([A-Za-z][\w ]*?)\s*:\s*\"([^\"]*)\"")


@register
class BrukerEvaXyParser(Parser):
    """DIFFRAC.EVA ``.xy`` export: one quoted header line ``'Id: "..." Anode: "Cu" ...`` then 2θ, counts."""

    name = "bruker_eva_xy"
    shape = "xrd"
    description = "Bruker DIFFRAC.EVA .xy exports with a quoted 'Id: \"…\" Anode: \"Cu\"' header line"

    def sniff(self, text: str) -> float:
        first = text.lstrip().split("\n", 1)[0]
        if first.startswith("'") and _BRUKER_KV.search(first) and ("Id:" in first or "Anode:" in first):
            return 0.95
        return 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.lstrip().splitlines()
        fields = {k.strip(): v for k, v in _BRUKER_KV.findall(lines[0])}
        rows = _numeric_rows(lines, 1)
        if len(rows) < 10:
            raise ParseError(f"only {len(rows)} data rows: too few for a diffraction pattern")
        metadata: dict = {"header_fields": fields}
        for key, value in fields.items():
            if re.fullmatch(r"wave\s*length\s*1?|wl1|lambda", key, re.I):
                try:
                    metadata["wavelength_a"] = float(value)
                    metadata["wavelength_source"] = f"header field {key!r}"
                except ValueError:
                    pass
        anode = fields.get("Anode", "").strip()
        if "wavelength_a" not in metadata and anode.lower() in KALPHA1_A:
            # EVA names the tube anode; its Kα1 line is the wavelength EVA itself uses for d-values.
            metadata["wavelength_a"] = KALPHA1_A[anode.lower()]
            metadata["wavelength_source"] = f"anode {anode!r} (Kα1)"
        return ParsedData(format=self.name, shape=self.shape, data=_frame(rows), metadata=metadata)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@register
class XrdmlParser(Parser):
    """PANalytical XRDML (XML): ``positions axis="2Theta"`` start/end or list, ``intensities``/``counts``."""

    name = "xrdml"
    shape = "xrd"
    description = "PANalytical .xrdml (XML; 2Theta positions, intensities/counts, usedWavelength kAlpha1)"

    def sniff(self, text: str) -> float:
        head = text[:4000]
        if "<xrdMeasurements" in head or "xrdml.com/XRDMeasurement" in head:
            return 0.98
        return 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        try:
            # ElementTree refuses str input with an encoding declaration, so hand it bytes.
            root = ET.fromstring(text.encode("utf-8"))
        except ET.ParseError as exc:
            raise ParseError(f"not well-formed XML: {exc}", line=exc.position[0]) from None
        metadata: dict = {}
        for el in root.iter():
            if _local(el.tag) == "usedWavelength":
                values = {_local(c.tag): c.text for c in el}
                metadata["wavelength_intended"] = el.get("intended")
                if values.get("kAlpha1"):
                    metadata["wavelength_a"] = float(values["kAlpha1"])
                    metadata["wavelength_source"] = "usedWavelength/kAlpha1"
                for key in ("kAlpha2", "kBeta", "ratioKAlpha2KAlpha1"):
                    if values.get(key):
                        metadata[key] = float(values[key])
                break
        scans = [el for el in root.iter() if _local(el.tag) == "dataPoints"]
        if not scans:
            raise ParseError("no <dataPoints> element: expected an XRDML scan")
        if len(scans) > 1:
            metadata["scans_in_file"] = len(scans)  # only the first is read
        points = scans[0]
        intensities = None
        two_theta = None
        counting_time = None
        for child in points:
            tag = _local(child.tag)
            if tag in ("intensities", "counts"):
                intensities = np.array(child.text.split(), dtype=float)
            elif tag == "commonCountingTime":
                counting_time = float(child.text)
            elif tag == "positions" and child.get("axis") == "2Theta":
                sub = {_local(c.tag): c.text for c in child}
                if "listPositions" in sub:
                    two_theta = np.array(sub["listPositions"].split(), dtype=float)
                elif "startPosition" in sub and "endPosition" in sub:
                    two_theta = (float(sub["startPosition"]), float(sub["endPosition"]))
                else:
                    raise ParseError("2Theta positions have neither listPositions nor start/endPosition")
        if intensities is None:
            raise ParseError("no <intensities> or <counts> in <dataPoints>")
        if two_theta is None:
            raise ParseError('no <positions axis="2Theta"> in <dataPoints>')
        if isinstance(two_theta, tuple):
            two_theta = np.linspace(two_theta[0], two_theta[1], intensities.size)
        if two_theta.size != intensities.size:
            raise ParseError(f"{two_theta.size} 2θ positions but {intensities.size} intensities")
        if counting_time:
            metadata["counting_time_s"] = counting_time
        return ParsedData(format=self.name, shape=self.shape,
                          data=_frame(np.column_stack([two_theta, intensities]).tolist()), metadata=metadata)


_RAS_KV = re.compile(r"^\*(\w+)\s+\"?([^\"]*)\"?\s*$")


@register
class RigakuRasParser(Parser):
    """Rigaku RAS: ``*RAS_HEADER_START`` … ``*KEY "value"`` … ``*RAS_INT_START`` 2θ intensity attenuation."""

    name = "rigaku_ras"
    shape = "xrd"
    description = "Rigaku .ras (*RAS_HEADER_START … *HW_XG_WAVE_LENGTH_ALPHA1 … *RAS_INT_START)"

    def sniff(self, text: str) -> float:
        return 0.98 if "*RAS_HEADER_START" in text[:2000] or "*RAS_DATA_START" in text[:200] else 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.splitlines()
        header: dict[str, str] = {}
        rows = []
        in_data = False
        for lineno, raw in enumerate(lines, start=1):
            line = raw.strip()
            if line.startswith("*RAS_INT_START"):
                in_data = True
                continue
            if line.startswith("*RAS_INT_END"):
                break  # a multi-scan file: only the first scan is read
            if in_data:
                if not line:
                    continue
                try:
                    row = [float(tok) for tok in line.split()]
                except ValueError:
                    raise ParseError(f"expected 2θ, intensity, attenuation numbers, got {line[:40]!r}", line=lineno) from None
                # Third column is the attenuator factor: true counts = recorded × factor.
                rows.append([row[0], row[1] * (row[2] if len(row) > 2 else 1.0)])
                continue
            m = _RAS_KV.match(line)
            if m:
                header[m.group(1)] = m.group(2).strip()
        if not in_data:
            raise ParseError("no *RAS_INT_START line: expected a Rigaku RAS scan")
        if len(rows) < 10:
            raise ParseError(f"only {len(rows)} data rows: too few for a diffraction pattern")
        metadata: dict = {"header_fields": header}
        wl = header.get("HW_XG_WAVE_LENGTH_ALPHA1")
        if wl:
            try:
                metadata["wavelength_a"] = float(wl)
                metadata["wavelength_source"] = "*HW_XG_WAVE_LENGTH_ALPHA1"
            except ValueError:
                pass
        if "wavelength_a" not in metadata and header.get("HW_XG_TARGET_NAME", "").lower() in KALPHA1_A:
            target = header["HW_XG_TARGET_NAME"]
            metadata["wavelength_a"] = KALPHA1_A[target.lower()]
            metadata["wavelength_source"] = f"*HW_XG_TARGET_NAME {target!r} (Kα1)"
        axis = header.get("MEAS_SCAN_AXIS_X")
        if axis:
            metadata["scan_axis"] = axis
        return ParsedData(format=self.name, shape=self.shape, data=_frame(rows), metadata=metadata)
