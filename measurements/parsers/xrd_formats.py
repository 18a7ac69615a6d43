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
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from . import register
from .base import ParsedData, ParseError, Parser
from .numbers import float_rows, has_non_rows

# Kα1 wavelengths (Å), International Tables for Crystallography Vol. C, Table 4.2.2.1.
KALPHA1_A = {"cu": 1.540593, "co": 1.788996, "mo": 0.709319, "cr": 2.289760, "fe": 1.936042,
             "ag": 0.559421, "ni": 1.657930, "w": 0.209010}

# Kα2 (Å), same table; the Kα2/Kα1 intensity ratio of a tube is ~0.5 (files state their own).
KALPHA2_A = {"cu": 1.544426, "co": 1.792850, "mo": 0.713609, "cr": 2.293663, "fe": 1.939980,
             "ag": 0.563813, "ni": 1.661747}
# Kβ (Å), same table: a Ni/Fe filter leaves a weak Kβ line ~10 % below each strong reflection's 2θ.
KBETA_A = {"cu": 1.392250, "co": 1.620830, "mo": 0.632305, "cr": 2.084920, "fe": 1.757462,
           "ag": 0.497082, "ni": 1.500152}


def anode_for(kalpha1_a: float) -> str | None:
    """The anode whose Kα1 line this wavelength is (within 0.001 Å), else None (synchrotron…)."""
    for anode, value in KALPHA1_A.items():
        if abs(value - kalpha1_a) < 1e-3:
            return anode
    return None


def radiation_metadata(kalpha1_a: float | None, *, kalpha2_a: float | None = None, ratio: float | None = None,
                       stated: str | None = None) -> dict:
    """What the analysis needs to decide on Kα2: ``radiation`` ("Ka1+Ka2", "Ka1", "monochromatic"
    or absent when the file does not say), ``kalpha2_a`` and ``kalpha2_ratio``."""
    out: dict = {}
    anode = anode_for(kalpha1_a) if kalpha1_a else None
    if kalpha2_a is None and anode in KALPHA2_A:
        kalpha2_a = KALPHA2_A[anode]  # the tube's own line; used to pair doublets, not to strip blindly
    if kalpha2_a:
        out["kalpha2_a"] = float(kalpha2_a)
    if anode in KBETA_A:
        out["kbeta_a"] = KBETA_A[anode]
    if ratio is not None:
        out["kalpha2_ratio"] = float(ratio)
    if stated:
        out["radiation"] = stated
    elif kalpha1_a and anode is None and kalpha2_a is None:
        out["radiation"] = "monochromatic"  # a number that is no tube's line: a synchrotron or a monochromator
    return out


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


_COMMENT = ("#", "!", "'")
MIN_PATTERN_POINTS = 20
# Column titles of the angle axis. θ is half of 2θ: a θ column is never read as 2θ.
_TWO_THETA_TITLE = re.compile(r"2\s*-?\s*th(eta)?|2θ|two[\s_-]*theta|\btth\b|^angle", re.I)
_THETA_TITLE = re.compile(r"^(theta|θ)\b", re.I)
_OTHER_AXIS_TITLE = re.compile(r"^(omega|ω|chi|χ|phi|φ|q\b|q\s*[\(\[])", re.I)


def _tokens(line: str) -> list[str]:
    r"""The fields of a numeric row: split at runs of whitespace, commas and semicolons (what
    ``re.split(r"[\s,;]+")`` without empty fields gives; \s and str.split agree on whitespace)."""
    return line.replace(",", " ").replace(";", " ").split()


@dataclass(frozen=True, slots=True)
class _Rows:
    """The numeric lines of a scan and their 1-based line numbers (a ``range`` when they run
    unbroken to the end of the file, as nearly every scan does: no tuple per line)."""

    numbers: Sequence[int]
    lines: Sequence[str]

    def __len__(self) -> int:
        return len(self.lines)

    def head(self, n: int) -> _Rows:
        return _Rows(self.numbers[:n], self.lines[:n])


@lru_cache(maxsize=4)
def _split_text(text: str) -> tuple[tuple[str, ...], str | None, _Rows]:
    """(header lines, column-title line, numeric lines with their 1-based line numbers).
    Sniff and parse read the same text one after the other: cached (shared, not to be changed).

    Header: ``#``/``!``/``'`` comments and a ``/* … */`` block (APS 11-BM ``.xye``); a column
    title line (``theta,intensity``) is the first non-comment line holding a non-number."""
    header: list[str] = []
    title: str | None = None
    numbers: list[int] = []
    data: list[str] = []
    in_block = False
    raw = text.splitlines()
    for lineno, line in enumerate(raw, start=1):
        line = line.strip()
        if in_block or line.startswith("/*"):
            in_block = "*/" not in line
            header.append(line.strip("/*# ").strip())
            continue
        if not line:
            continue
        if line.startswith(_COMMENT):
            header.append(line.lstrip("#!' ").strip())
            continue
        if not data and title is None and re.search(r"[A-Za-zθ°]", line) and not _is_numeric_row(line):
            title = line
            continue
        numbers.append(lineno)
        data.append(line)
        if len(data) == 1 and not has_non_rows(raw[lineno:], ("/*", *_COMMENT)):
            # After the first data line, a scan is usually data to the end: when no later line is
            # blank, a comment or a block opener, every one of them is data (what the loop gives),
            # kept as written (the readers strip what they split).
            return tuple(header), title, _Rows(range(lineno, len(raw) + 1), (line, *raw[lineno:]))
    return tuple(header), title, _Rows(tuple(numbers), tuple(data))


def _is_numeric_row(line: str) -> bool:
    try:
        list(map(float, _tokens(line)))
        return True
    except ValueError:
        return False


def _numeric_block(data: _Rows) -> list[list[float]] | np.ndarray:
    """The numbers of the data lines, at most three columns and as many as the narrowest row has."""
    if data:
        # Every row as wide as the others (nearly every scan): converted in one call by a C reader
        # (numbers.float_rows: the same doubles float() gives), rather than a split and a float()
        # per line; anything it does not take as one rectangle of numbers (a field float() takes
        # and the C readers do not, like 1_000, a short row) goes to the loop below, which reads
        # or names it.
        values = _rectangle(data.lines)
        if values is not None and values.shape[1] >= 2:
            return values[:, :3]
    rows = []
    for lineno, line in zip(data.numbers, data.lines, strict=True):
        try:
            row = list(map(float, _tokens(line)))
        except ValueError:
            raise ParseError(f"expected 2θ and intensity numbers, got {line.strip()[:40]!r}", line=lineno) from None
        if len(row) < 2:
            raise ParseError(f"expected at least two columns (2θ, intensity), got {line.strip()[:40]!r}", line=lineno)
        rows.append(row[:3])
    width = min(len(r) for r in rows) if rows else 0
    return [r[:width] for r in rows]


def _numeric_rows(lines: list[str], start: int) -> list[list[float]] | np.ndarray:
    numbered = [(n, ln.strip()) for n, ln in enumerate(lines[start:], start=start + 1)
                if ln.strip() and not ln.lstrip().startswith(_COMMENT)]
    return _numeric_block(_Rows(tuple(n for n, _ in numbered), tuple(ln for _, ln in numbered)))


def _rectangle(lines: Sequence[str]) -> np.ndarray | None:
    """``lines`` as one row of numbers each (fields split as ``_tokens`` splits them), when every
    row has the same number of fields; None otherwise or when a field is not a number."""
    if not lines:
        return None
    block = "\n".join(lines)
    if "," in block or ";" in block:
        block = block.replace(",", " ").replace(";", " ")
    return float_rows(block, len(lines))


def _is_scan(data: _Rows) -> bool:
    """Do the first 200 rows look like a scan: numbers in 2–3 columns, x rising within 0–180?"""
    head = data.head(200)
    if not head:
        return False
    block = _rectangle(head.lines)  # the usual case: one width (else row by row)
    if block is None:
        try:
            rows = [list(map(float, _tokens(ln))) for ln in head.lines]
        except ValueError:
            return False
        if any(not 2 <= len(r) <= 3 for r in rows):
            return False
        block = np.array([r[:2] for r in rows])
    x = block[:, 0]
    return 2 <= block.shape[1] <= 3 and bool(np.all(np.diff(x) > 0)) and 0 <= x[0] and x[-1] <= 180


def _title_axis(title: str | None) -> tuple[str | None, str | None]:
    """(first column's title, its axis: "two_theta", "theta", "other" or None)."""
    if not title:
        return None, None
    first = re.split(r"[,;\t]|\s{2,}", title.strip())[0].strip().strip('"')
    if _TWO_THETA_TITLE.search(first):
        return first, "two_theta"
    if _THETA_TITLE.search(first):
        return first, "theta"
    if _OTHER_AXIS_TITLE.search(first):
        return first, "other"
    return first, None


@register
class XyParser(Parser):
    """Two- or three-column 2θ/intensity(/esd) text with an optional header: ``#`` comments, an
    APS 11-BM ``/* … */`` block, or a column-title line (``2theta,intensity``; ``theta`` is θ)."""

    name = "xy"
    shape = "xrd"
    description = ("two/three-column 2θ–intensity(–esd) .xy/.xye/.csv text: '#' or '/* */' header (wavelength "
                   "read from it), or a '2theta'/'theta' column title (θ converted only when confirmed)")

    def sniff(self, text: str) -> float:
        header, title, data = _split_text(text)
        if not _is_scan(data):
            return 0.0
        if len(data) < MIN_PATTERN_POINTS:
            # A handful of bare numbers: answer (weakly, above a generic two-column guess) so the
            # reason is "N points: too few", not "no parser recognises this content".
            return 0.25 if not header and title is None else 0.0
        joined = "\n".join(header[:30]).lower()
        _, axis = _title_axis(title)
        if axis in ("two_theta", "theta"):
            return 0.9
        if re.search(r"2\s*-?\s*th|2θ|two.?theta|diffract|xrd|k\s*(a|α|alpha)|wavelength", joined):
            return 0.9
        # A bare numeric two-column file could be anything; stay below specific parsers.
        return 0.3 if title is None else 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        header_lines, title, data = _split_text(text)
        if len(data) < MIN_PATTERN_POINTS:
            raise ParseError(f"{len(data)} point{'s' if len(data) != 1 else ''}: too few to analyse as a pattern "
                             f"or spectrum (at least {MIN_PATTERN_POINTS} are needed)")
        rows = _numeric_block(data)
        metadata: dict = {}
        header = "\n".join(h for h in header_lines if h)
        if header:
            metadata["header"] = header[:4000]
        first, axis = _title_axis(title)
        mapping = {str(k): v for k, v in ((options or {}).get("columns") or {}).items()}
        mapped = mapping.get(first) if first else None
        mapped = mapped or mapping.get("0")
        if mapped in ("two_theta_deg", "theta_deg"):
            axis = "two_theta" if mapped == "two_theta_deg" else "theta_confirmed"
        if axis == "theta":
            raise ParseError(
                f"the angle column is headed {first!r}, which is θ, not 2θ — LEDger will not read it as 2θ. "
                f"If it is 2θ (θ–2θ scans are often exported as 'theta'), map it: --column-map "
                f"'{{\"{first}\": \"two_theta_deg\"}}'; if it really is θ, "
                f"'{{\"{first}\": \"theta_deg\"}}' converts it (2θ = 2·θ)")
        if axis == "other":
            raise ParseError(f"the first column is headed {first!r}: not a 2θ axis (a rocking curve, a pole-figure "
                             "angle or q); only 2θ scans are analysed")
        if axis == "theta_confirmed":
            rows = [[2 * r[0], *r[1:]] for r in rows]
            metadata["axis_converted"] = f"column {first!r} is θ (as mapped): 2θ = 2·θ"
        elif first and mapped == "two_theta_deg":
            metadata["axis_mapped"] = f"column {first!r} read as 2θ (as mapped)"
        stated = None
        if header:
            found = wavelength_from_text(header)
            if found is None:
                m = re.search(rf"calibrated\s+wavelength\s*=\s*({_NUM})", header, re.I)  # APS 11-BM
                if m:
                    found = float(m.group(1)), f"header: {m.group(0).strip()!r}"
            if found:
                metadata["wavelength_a"], metadata["wavelength_source"] = found
                if re.search(r"k\s*(a|α|alpha)\s*-?\s*1\b", header, re.I):
                    stated = "Ka1"
                metadata.update(radiation_metadata(found[0], stated=stated))
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
        if "wavelength_a" in metadata:
            # EVA names the anode, not whether Kα2 was filtered: resolved doublets get paired.
            metadata.update(radiation_metadata(metadata["wavelength_a"]))
        return ParsedData(format=self.name, shape=self.shape, data=_frame(rows), metadata=metadata)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


MAX_SCAN_POINTS = 200_000  # per scan; the analysis has the same bound
MAX_SCANS = 500


def scan_frame(x: np.ndarray, y: np.ndarray, *, where: str) -> pd.DataFrame:
    """One scan's frame, after checking what its header declared against what is there."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size != y.size:
        raise ParseError(f"{where}: {x.size} angles but {y.size} intensities")
    if x.size > MAX_SCAN_POINTS:
        raise ParseError(f"{where}: {x.size} points, more than the {MAX_SCAN_POINTS} one scan can have")
    if x.size > 1 and np.all(np.diff(x) < 0):
        x, y = x[::-1], y[::-1]  # scanned downwards
    if x.size > 1 and not np.all(np.diff(x) > 0):
        raise ParseError(f"{where}: 2θ does not increase monotonically")
    return pd.DataFrame({"two_theta_deg": x, "intensity": y})


def assemble_scans(name: str, scans: list[tuple[pd.DataFrame, dict]], metadata: dict) -> ParsedData:
    """One ParsedData for a file of one or several scans (the multi-sample contract of base.py):
    several become ``samples`` titled "scan k (2θ a–b°)", the first is also the top-level data,
    ``scans_in_file`` counts them and ``scan_axes`` names the goniometer axes (other than the
    scanned 2θ/θ) whose position differs between scans — a reciprocal-space map or a tilt series."""
    if not scans:
        raise ParseError("no scan data in the file")
    if len(scans) > MAX_SCANS:
        raise ParseError(f"{len(scans)} scans: more than the {MAX_SCANS} LEDger reads from one file")
    titles = []
    for k, (frame, meta) in enumerate(scans, start=1):
        x = frame["two_theta_deg"].to_numpy()
        title = f"scan {k} (2θ {x[0]:.2f}–{x[-1]:.2f}°)" if x.size else f"scan {k}"
        meta["sample"] = title
        titles.append(title)
    samples = []
    if len(scans) > 1:
        metadata["scans_in_file"] = len(scans)
        metadata["samples"] = titles
        moved = []
        for key in sorted(set().union(*(m.get("positions", {}) for _, m in scans))):
            values = {round(float(m.get("positions", {}).get(key, np.nan)), 4) for _, m in scans}
            if len(values) > 1:
                moved.append(key)
        metadata["scan_axes"] = moved
        for frame, meta in scans:
            samples.append(ParsedData(format=name, shape="xrd", data=frame,
                                      metadata={**metadata, **meta, "samples": titles}))
    first_frame, first_meta = scans[0]
    return ParsedData(format=name, shape="xrd", data=first_frame, metadata={**metadata, **first_meta},
                      samples=samples)


# Axes a θ–2θ scan moves with 2θ: their start differs between ranges of one scan, so they say
# nothing about a map.
COUPLED_AXES = {"theta", "omega", "2theta", "twotheta", "gonio", "thetas", "thetad"}


@register
class XrdmlParser(Parser):
    """PANalytical XRDML (XML): every ``<scan>``'s ``positions axis="2Theta"`` (start/end or list)
    and ``intensities``/``counts`` (× ``beamAttenuationFactors``); ``usedWavelength`` for λ."""

    name = "xrdml"
    shape = "xrd"
    description = ("PANalytical .xrdml (XML; every scan's 2Theta positions and intensities/counts, usedWavelength "
                   "Kα1/Kα2/ratio and whether the beam is Kα1 only)")

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
                # intended="K-Alpha 1": a monochromator took Kα2 out; "K-Alpha": both lines reach the detector.
                intended = (el.get("intended") or "").replace(" ", "").lower()
                stated = {"k-alpha1": "Ka1", "k-alpha": "Ka1+Ka2"}.get(intended)
                if "wavelength_a" in metadata:
                    metadata.update(radiation_metadata(metadata["wavelength_a"], kalpha2_a=metadata.get("kAlpha2"),
                                                       ratio=metadata.get("ratioKAlpha2KAlpha1"), stated=stated))
                    if metadata.get("kBeta"):
                        metadata["kbeta_a"] = metadata["kBeta"]
                break
        blocks = [el for el in root.iter() if _local(el.tag) == "dataPoints"]
        if not blocks:
            raise ParseError("no <dataPoints> element: expected an XRDML scan")
        if len(blocks) > MAX_SCANS:
            raise ParseError(f"{len(blocks)} scans: more than the {MAX_SCANS} LEDger reads from one file")
        scans = [self._scan(points, where=f"scan {k}") for k, points in enumerate(blocks, start=1)]
        return assemble_scans(self.name, scans, metadata)

    @staticmethod
    def _scan(points, *, where: str) -> tuple[pd.DataFrame, dict]:
        intensities = two_theta = attenuation = coupled_start = None
        meta: dict = {"positions": {}}
        for child in points:
            tag = _local(child.tag)
            if tag in ("intensities", "counts"):
                intensities = np.array(child.text.split(), dtype=float)
            elif tag == "beamAttenuationFactors":
                attenuation = np.array(child.text.split(), dtype=float)
            elif tag == "commonCountingTime":
                meta["counting_time_s"] = float(child.text)
            elif tag == "positions":
                sub = {_local(c.tag): c.text for c in child}
                name = child.get("axis") or ""
                if name == "2Theta":
                    if "listPositions" in sub:
                        two_theta = np.array(sub["listPositions"].split(), dtype=float)
                    elif "startPosition" in sub and "endPosition" in sub:
                        two_theta = (float(sub["startPosition"]), float(sub["endPosition"]))
                    else:
                        raise ParseError(f"{where}: 2Theta positions have neither listPositions nor "
                                         "start/endPosition")
                elif name.lower() in ("omega", "theta"):
                    value = sub.get("commonPosition") or sub.get("startPosition")
                    if value is not None:
                        coupled_start = float(value)  # its offset from 2θ/2 is what a map steps
                else:
                    value = sub.get("commonPosition") or sub.get("startPosition")
                    if value is not None:
                        meta["positions"][name] = float(value)
        if intensities is None:
            raise ParseError(f"{where}: no <intensities> or <counts> in <dataPoints>")
        if two_theta is None:
            raise ParseError(f'{where}: no <positions axis="2Theta"> in <dataPoints> (a rocking curve or a '
                             "non-2θ scan: only 2θ patterns are analysed)")
        if intensities.size > MAX_SCAN_POINTS:
            raise ParseError(f"{where}: {intensities.size} points, more than the {MAX_SCAN_POINTS} one scan can have")
        if isinstance(two_theta, tuple):
            two_theta = np.linspace(two_theta[0], two_theta[1], intensities.size)
        if coupled_start is not None and two_theta.size:
            meta["positions"]["ω − 2θ/2"] = coupled_start - float(two_theta[0]) / 2
        if attenuation is not None and attenuation.size == intensities.size:
            intensities = intensities * attenuation  # counts behind the attenuator, scaled back
        return scan_frame(two_theta, intensities, where=where), meta


def _float_or_none(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


_RAS_KV = re.compile(r"^\*(\w+)\s+\"?([^\"]*)\"?\s*$")


@register
class RigakuRasParser(Parser):
    """Rigaku RAS: per scan ``*RAS_HEADER_START`` … ``*KEY "value"`` … ``*RAS_INT_START`` 2θ
    intensity attenuator … ``*RAS_INT_END``; a file may hold several scans (all are read)."""

    name = "rigaku_ras"
    shape = "xrd"
    description = "Rigaku .ras (*RAS_HEADER_START … *HW_XG_WAVE_LENGTH_ALPHA1 … *RAS_INT_START), every scan"

    def sniff(self, text: str) -> float:
        return 0.98 if "*RAS_HEADER_START" in text[:2000] or "*RAS_DATA_START" in text[:200] else 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        blocks: list[tuple[dict, list]] = []
        header: dict[str, str] = {}
        rows: list | None = None
        for lineno, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if line.startswith("*RAS_HEADER_START"):
                header = {}
                continue
            if line.startswith("*RAS_INT_START"):
                rows = []
                continue
            if line.startswith("*RAS_INT_END"):
                if rows is not None:
                    blocks.append((header, rows))
                rows = None
                if len(blocks) > MAX_SCANS:
                    raise ParseError(f"more than the {MAX_SCANS} scans LEDger reads from one file")
                continue
            if rows is not None:
                if not line:
                    continue
                try:
                    row = [float(tok) for tok in line.split()]
                except ValueError:
                    raise ParseError(f"expected 2θ, intensity, attenuation numbers, got {line[:40]!r}",
                                     line=lineno) from None
                # Third column is the attenuator factor: true counts = recorded × factor.
                rows.append([row[0], row[1] * (row[2] if len(row) > 2 else 1.0)])
                if len(rows) > MAX_SCAN_POINTS:
                    raise ParseError(f"more than the {MAX_SCAN_POINTS} points one scan can have", line=lineno)
                continue
            m = _RAS_KV.match(line)
            if m:
                header[m.group(1)] = m.group(2).strip()
        if rows:  # a last scan without *RAS_INT_END
            blocks.append((header, rows))
        if not blocks:
            raise ParseError("no *RAS_INT_START line: expected a Rigaku RAS scan")
        first = blocks[0][0]
        metadata: dict = {"header_fields": first}
        wl = first.get("HW_XG_WAVE_LENGTH_ALPHA1")
        if wl and _float_or_none(wl):
            metadata["wavelength_a"] = float(wl)
            metadata["wavelength_source"] = "*HW_XG_WAVE_LENGTH_ALPHA1"
        if "wavelength_a" not in metadata and first.get("HW_XG_TARGET_NAME", "").lower() in KALPHA1_A:
            target = first["HW_XG_TARGET_NAME"]
            metadata["wavelength_a"] = KALPHA1_A[target.lower()]
            metadata["wavelength_source"] = f"*HW_XG_TARGET_NAME {target!r} (Kα1)"
        if "wavelength_a" in metadata:
            wave_type = first.get("MEAS_COND_XG_WAVE_TYPE", "").strip().lower()  # "Ka" (Kα1+2) or "Ka1"
            metadata.update(radiation_metadata(
                metadata["wavelength_a"], kalpha2_a=_float_or_none(first.get("HW_XG_WAVE_LENGTH_ALPHA2")),
                stated={"ka": "Ka1+Ka2", "ka1": "Ka1"}.get(wave_type)))
        scans = []
        for k, (head, block_rows) in enumerate(blocks, start=1):
            where = f"scan {k}"
            if len(block_rows) < 10:
                raise ParseError(f"{where}: only {len(block_rows)} data rows: too few for a diffraction pattern")
            arr = np.array(block_rows, dtype=float)
            meta: dict = {"positions": {}}
            axis = head.get("MEAS_SCAN_AXIS_X")
            if axis:
                meta["scan_axis"] = axis
            for key, value in head.items():
                m = re.fullmatch(r"MEAS_COND_AXIS_POSITION-(\d+)", key)
                if m and _float_or_none(value) is not None:
                    name = head.get(f"MEAS_COND_AXIS_NAME-{m.group(1)}", key)
                    if name.lower() not in COUPLED_AXES:
                        meta["positions"][name] = float(value)
            scans.append((scan_frame(arr[:, 0], arr[:, 1], where=where), meta))
        return assemble_scans(self.name, scans, metadata)


# The binary and zipped formats (Bruker .raw/.brml, Rigaku .rasx) live in their own module and
# register when this one loads (it is the module the registry imports for XRD).
from . import xrd_binary  # noqa: E402, F401
