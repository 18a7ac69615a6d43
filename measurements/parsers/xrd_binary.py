"""Binary and zipped diffraction formats: Bruker RAW v4 (``.raw``), Bruker ``.brml`` and Rigaku
``.rasx`` (zips of XML / text). Shape ``xrd``, columns ``two_theta_deg`` and ``intensity``.

Own readers, not fairmat-readers-xrd (0.0.10, checked first): on the real Bruker ``TiO2.raw`` its
RAW reader returns garbage (fixed offsets and an 8-byte stride: 2θ = 8.6e-43°, intensities up to
3e35; this file's records are 4 bytes), its ``.rasx`` reader drops the attenuator column (wrong
intensities wherever the attenuator was in), multi-range files raise NotImplementedError, and it
reads paths, not bytes, and pulls in pint. These formats are small: a segment walk for RAW4 and
two XML/text members for the zips.

Several scans in one file (several ranges, a reciprocal-space map) are all read: one
``ParsedData`` per scan in ``ParsedData.samples`` (titles "scan 1 …"), the first also as the
top-level data; ``metadata["scans_in_file"]`` counts them and ``metadata["scan_axes"]`` says
what else moved between scans, so the analysis can analyse per scan or refuse an RSM with the
count. Every size a header declares is checked against the bytes present (and a zip member's
size against ``MAX_MEMBER_BYTES``) before anything is allocated.
"""

from __future__ import annotations

import io
import re
import struct
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pandas as pd

from . import register
from .base import ParsedData, ParseError, Parser, Sniff
from .xrd_formats import COUPLED_AXES, KALPHA1_A, MAX_SCANS, assemble_scans, radiation_metadata, scan_frame
from .xrd_formats import MAX_SCAN_POINTS as MAX_POINTS

MAX_MEMBER_BYTES = 200 * 2**20  # one zip member, uncompressed: refuses zip bombs before reading


def _radiation(anode: str | None, kalpha1, kalpha2, ratio, *, stated: str | None = None) -> dict:
    out: dict = {}
    if kalpha1 and 0.05 < kalpha1 < 5:
        out["wavelength_a"] = float(kalpha1)
        out["wavelength_source"] = "file (Kα1)"
    elif anode and anode.lower() in KALPHA1_A:
        out["wavelength_a"] = KALPHA1_A[anode.lower()]
        out["wavelength_source"] = f"anode {anode!r} (Kα1)"
    if anode:
        out["anode"] = anode
    if "wavelength_a" in out:
        if stated is None and ratio is not None and kalpha2:
            # Bruker writes the tube's Kα2/Kα1 ratio; 0 means a monochromator removed Kα2.
            stated = "Ka1+Ka2" if ratio > 0 else "Ka1"
        out.update(radiation_metadata(out["wavelength_a"], kalpha2_a=kalpha2 or None,
                                      ratio=ratio if ratio else None, stated=stated))
    return out


# --- Bruker RAW ----------------------------------------------------------------------------------
# RAW4.00 layout (read from the datalab TiO2.raw byte by byte, cross-checked with the structure
# GSAS-II's importer describes): a 61-byte preamble, then a chain of (uint32 type, uint32 length)
# segments. Type 10: key/value text (key at +12, 24 bytes; value from +36); type 30: the tube
# (float64 Kα-mean, Kα1, Kα2, Kβ, Kα2/Kα1 ratio at +72, anode text at +116). Type 0 or 160 is no
# segment but a range: scan type text at +32 (24 bytes), float64 start at +72, step +80, uint32
# points +88, float32 ms/step +92, float64 λ +112, uint32 record size +136 and header size +140;
# the header's own segments (type 50: a drive, name at +12, position float64 at +56) follow at
# +160, then ``points`` records whose first float32 is the intensity. Walked to EOF: no count.
_RAW_VERSIONS = ((b"RAW4.00", 4), (b"RAW1.01", 3), (b"RAW2", 2), (b"RAW ", 1))
_RAW4_START = 61
_TWO_THETA_SCANS = ("locked coupled", "unlocked coupled", "detector scan", "coupled", "2theta", "twotheta")


def _u(fmt: str, buf: bytes, at: int, what: str):
    try:
        return struct.unpack_from(fmt, buf, at)
    except struct.error:
        raise ParseError(f"the file ends inside {what} (offset {at} of {len(buf)} bytes): truncated") from None


def _text(buf: bytes, at: int, length: int) -> str:
    return buf[at:at + length].split(b"\0")[0].decode("latin-1").strip()


def read_bruker_raw4(buf: bytes) -> tuple[list[tuple[pd.DataFrame, dict]], dict]:
    keys: dict[str, str] = {}
    tube: tuple = ()
    anode = None
    scans = []
    cursor = _RAW4_START
    while cursor + 4 <= len(buf):
        (kind,) = _u("<I", buf, cursor, "a segment type")
        if kind in (0, 160):
            scan_type = _text(buf, cursor + 32, 24)
            start, step = _u("<dd", buf, cursor + 72, "a range's start and step")
            (n,) = _u("<I", buf, cursor + 88, "a range's point count")
            (ms_per_step,) = _u("<f", buf, cursor + 92, "a range's step time")
            (wavelength,) = _u("<d", buf, cursor + 112, "a range's wavelength")
            record, header = _u("<II", buf, cursor + 136, "a range's record and header sizes")
            if not 1 <= n <= MAX_POINTS or record < 4 or record % 4 or not np.isfinite(step) or step == 0:
                raise ParseError(f"range {len(scans) + 1} declares {n} points of {record} bytes, step {step!r}: "
                                 "not a range this reader understands")
            drives: dict[str, float] = {}
            sub, end = cursor + 160, cursor + 160 + header
            if end > len(buf):
                raise ParseError(f"range {len(scans) + 1}'s header runs past the end of the file: truncated")
            while sub < end:
                sk, sl = _u("<II", buf, sub, "a range header segment")
                if sk == 50:
                    drives[_text(buf, sub + 12, 24)] = _u("<d", buf, sub + 56, "a drive position")[0]
                sub += max(sl, 8)
            if sub != end:
                raise ParseError(f"range {len(scans) + 1}'s header segments overrun its declared {header} bytes")
            data_end = end + n * record
            if data_end > len(buf):
                raise ParseError(f"range {len(scans) + 1} declares {n} points of {record} bytes but the file ends "
                                 f"{data_end - len(buf)} bytes short: truncated")
            stype = scan_type.lower()
            if not any(t in stype for t in _TWO_THETA_SCANS) and "2Theta" not in drives:
                raise ParseError(f"range {len(scans) + 1} is a {scan_type!r} scan, not a 2θ scan: only 2θ patterns "
                                 "are analysed")
            y = np.frombuffer(buf, dtype="<f4", count=n * (record // 4), offset=end).reshape(n, record // 4)[:, 0]
            x = start + step * np.arange(n)
            positions = {k: v for k, v in drives.items() if k.lower() not in COUPLED_AXES}
            if "Theta" in drives:
                positions["θ − 2θ/2"] = drives["Theta"] - start / 2  # constant over ranges; a map steps it
            meta = {"scan_type": scan_type, "positions": positions}
            if ms_per_step > 0:
                meta["counting_time_s"] = float(ms_per_step) / 1000.0
            if 0.05 < wavelength < 5:
                meta["range_wavelength_a"] = float(wavelength)
            scans.append((scan_frame(x, y.astype(float), where=f"range {len(scans) + 1}"), meta))
            cursor = data_end
            continue
        kind, length = _u("<II", buf, cursor, "a segment header")
        length = max(length, 8)
        if cursor + length > len(buf):
            raise ParseError(f"a segment at offset {cursor} declares {length} bytes past the end of the file")
        if kind == 10:
            keys[_text(buf, cursor + 12, 24).upper()] = _text(buf, cursor + 36, length - 36)
        elif kind == 30 and length >= 120:
            tube = _u("<5d", buf, cursor + 72, "the tube wavelengths")
            anode = _text(buf, cursor + 116, 4) or None
        cursor += length
    if not scans:
        raise ParseError("a Bruker RAW4 header but no measurement range: truncated, or a settings file")
    meta: dict = {"header_fields": {k: v for k, v in keys.items() if v}}
    if tube:
        _, ka1, ka2, _, ratio = tube
        meta.update(_radiation(anode, ka1, ka2, ratio))
    elif "range_wavelength_a" in scans[0][1]:
        meta.update(_radiation(anode, scans[0][1]["range_wavelength_a"], None, None))
    return scans, meta


@register
class BrukerRawParser(Parser):
    """Bruker DIFFRAC RAW v4 (``RAW4.00``), binary; older RAW versions are named and refused."""

    name = "bruker_raw"
    shape = "xrd"
    binary = True
    description = "Bruker DIFFRAC .raw, binary version 4 (RAW4.00); ranges, tube Kα1/Kα2 and ratio"

    def sniff_bytes(self, content: bytes) -> float:
        for magic, version in _RAW_VERSIONS:
            if content.startswith(magic):
                return Sniff(0.98 if version == 4 else 0.9, f"magic {magic.decode()!r}")
        return 0.0

    def parse_bytes(self, content: bytes, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        version = next((v for m, v in _RAW_VERSIONS if content.startswith(m)), None)
        if version != 4:
            raise ParseError(f"Bruker RAW version {version} is not read, only version 4 (RAW4.00): export the scan "
                             "from DIFFRAC as .brml, .raw v4 or .xy")
        scans, meta = read_bruker_raw4(content)
        return assemble_scans(self.name, scans, meta)


# --- zip containers --------------------------------------------------------------------------------

def _zip(content: bytes) -> zipfile.ZipFile | None:
    if not content.startswith(b"PK\x03\x04"):
        return None
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError):
        return None


def _member(zf: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ParseError(f"the archive has no {name!r}") from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise ParseError(f"{name!r} unpacks to {info.file_size} bytes, more than {MAX_MEMBER_BYTES}: refused")
    try:
        return zf.read(name)
    except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
        raise ParseError(f"{name!r} cannot be unpacked: {exc}") from None


def _xml(data: bytes, name: str) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise ParseError(f"{name!r} is not well-formed XML: {exc}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(el: ET.Element | None, *path: str) -> ET.Element | None:
    for name in path:
        if el is None:
            return None
        el = next((c for c in el if _local(c.tag) == name), None)
    return el


def _value(el: ET.Element | None) -> float | None:
    if el is None:
        return None
    try:
        return float(el.get("Value"))
    except (TypeError, ValueError):
        return None


# --- Bruker BRML -----------------------------------------------------------------------------------
@register
class BrukerBrmlParser(Parser):
    """Bruker ``.brml``: ``Experiment0/DataContainer.xml`` lists ``RawData*.xml``; each holds its
    scan axes, a ``DataViews`` map of the ``<Datum>`` columns and one ``<Datum>`` row per step."""

    name = "bruker_brml"
    shape = "xrd"
    binary = True
    description = "Bruker DIFFRAC .brml (zip of XML): every RawData scan, tube Kα1/Kα2 and ratio"

    def sniff_bytes(self, content: bytes) -> float:
        zf = _zip(content)
        if zf is None:
            return 0.0
        names = zf.namelist()
        if any(re.fullmatch(r"Experiment\d+/DataContainer\.xml", n) for n in names):
            return Sniff(0.97, "zip member Experiment0/DataContainer.xml")
        return 0.0

    def parse_bytes(self, content: bytes, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        zf = _zip(content)
        if zf is None:
            raise ParseError("not a zip archive: a .brml is one")
        container = next(n for n in zf.namelist() if re.fullmatch(r"Experiment\d+/DataContainer\.xml", n))
        root = _xml(_member(zf, container), container)
        refs = [el.text.strip() for el in root.iter() if _local(el.tag) == "string" and el.text
                and re.search(r"RawData\d*\.xml$", el.text.strip())]
        if not refs:
            raise ParseError(f"{container!r} lists no RawData*.xml scan")
        if len(refs) > MAX_SCANS:
            raise ParseError(f"{len(refs)} scans: more than the {MAX_SCANS} LEDger reads from one file")
        scans, meta = [], {}
        for k, ref in enumerate(refs, start=1):
            raw = _xml(_member(zf, ref), ref)
            frame, scan_meta = self._scan(raw, where=f"scan {k} ({ref})")
            scans.append((frame, scan_meta))
            if not meta:
                tube = next((el for el in raw.iter() if _local(el.tag) == "Tube"), None)
                if tube is not None:
                    anode = (_find(tube, "TubeMaterial").text or "").strip() if _find(tube, "TubeMaterial") is not None else None
                    meta = _radiation(anode, _value(_find(tube, "WaveLengthAlpha1")),
                                      _value(_find(tube, "WaveLengthAlpha2")), _value(_find(tube, "WaveLengthRatio")))
        info = next((el for el in root.iter() if _local(el.tag) == "MeasurementInfo"), None)
        if info is not None and info.get("SampleName"):
            meta["sample_name"] = info.get("SampleName")
        return assemble_scans(self.name, scans, meta)

    @staticmethod
    def _scan(raw: ET.Element, *, where: str) -> tuple[pd.DataFrame, dict]:
        route = next((el for el in raw.iter() if _local(el.tag) == "DataRoute"), None)
        if route is None:
            raise ParseError(f"{where}: no <DataRoute>")
        info = _find(route, "ScanInformation")
        scan_name = info.get("VisibleName") or info.get("ScanName") or "" if info is not None else ""
        columns: dict[str, int] = {}
        counters: list[int] = []
        for view in (el for el in route.iter() if _local(el.tag) == "RawDataView"):
            start = int(view.get("Start", "-1"))
            vtype = view.get("{http://www.w3.org/2001/XMLSchema-instance}type", "")
            if vtype == "FixedRawDataView":
                columns[view.get("LogicName", "")] = start
            elif vtype == "VaryingRawDataView":
                fields = [f.get("FieldName") for f in view.iter() if _local(f.tag) == "FieldDefinitions"]
                for i, name in enumerate(fields):
                    columns[name] = start + i
            elif vtype == "RecordedRawDataView":
                rec = _find(view, "Recording")
                if rec is not None and rec.get("Category", "Count") == "Count":
                    counters.append(start)
        if "TwoTheta" not in columns:
            raise ParseError(f"{where}: a {scan_name!r} scan without a 2θ column (scan axes: "
                             f"{', '.join(k for k in columns if k) or 'none'}): only 2θ patterns are analysed")
        if not counters:
            raise ParseError(f"{where}: no counter column in the data views")
        data = [d.text for d in route if _local(d.tag) == "Datum" and d.text]
        if len(data) > MAX_POINTS:
            raise ParseError(f"{where}: {len(data)} points, more than the {MAX_POINTS} one scan can have")
        try:
            table = np.array([[float(v) for v in row.split(",")] for row in data], dtype=float)
        except ValueError:
            raise ParseError(f"{where}: a <Datum> row holds a non-number") from None
        if table.ndim != 2 or table.shape[1] <= max(columns["TwoTheta"], counters[0]):
            raise ParseError(f"{where}: <Datum> rows are shorter than the data views declare")
        x, y = table[:, columns["TwoTheta"]], table[:, counters[0]]
        meta: dict = {"scan_type": scan_name}
        if "AbsorptionFactor" in columns:
            factor = table[:, columns["AbsorptionFactor"]]
            if np.all(factor > 0) and not np.all(factor == 1):
                y = y * factor  # counts recorded behind the absorber, scaled back
                meta["absorber_corrected"] = True
        positions = {}
        for drive in (el for el in raw.iter() if _local(el.tag) == "InfoData" and el.get("LogicName")):
            pos = _find(drive, "Position")
            if pos is not None and _value(pos) is not None and drive.get("LogicName").lower() not in COUPLED_AXES:
                positions[drive.get("LogicName")] = _value(pos)
        meta["positions"] = positions
        return scan_frame(x, y, where=where), meta


# --- Rigaku RASX ------------------------------------------------------------------------------------
_RASX_PROFILE = re.compile(r"(Data\d+)/Profile(\d+)\.txt")
_RASX_TWO_THETA_AXES = ("twothetatheta", "twotheta", "twothetaomega", "2theta/omega", "2theta", "twothetachiphi")


@register
class RigakuRasxParser(Parser):
    """Rigaku SmartLab ``.rasx``: ``Data*/Profile*.txt`` (2θ, counts, attenuator factor) with its
    ``MesurementConditions*.xml`` (sic: Rigaku's spelling) — scan axis, X-ray wave type, Kα1/Kα2."""

    name = "rigaku_rasx"
    shape = "xrd"
    binary = True
    description = "Rigaku SmartLab .rasx (zip): every Profile scan × attenuator, wave type Ka/Ka1, Kα1/Kα2"

    def sniff_bytes(self, content: bytes) -> float:
        zf = _zip(content)
        if zf is None:
            return 0.0
        if any(_RASX_PROFILE.fullmatch(n) for n in zf.namelist()):
            return Sniff(0.97, "zip member Data0/Profile0.txt")
        return 0.0

    def parse_bytes(self, content: bytes, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        zf = _zip(content)
        if zf is None:
            raise ParseError("not a zip archive: a .rasx is one")
        profiles = sorted((m.group(1), int(m.group(2)), m.group(0)) for n in zf.namelist()
                          if (m := _RASX_PROFILE.fullmatch(n)))
        if len(profiles) > MAX_SCANS:
            raise ParseError(f"{len(profiles)} scans: more than the {MAX_SCANS} LEDger reads from one file")
        scans, meta = [], {}
        for k, (folder, num, name) in enumerate(profiles, start=1):
            where = f"scan {k} ({name})"
            cond_name = f"{folder}/MesurementConditions{num}.xml"
            cond = _xml(_member(zf, cond_name), cond_name) if cond_name in zf.namelist() else None
            axis_name = ""
            positions: dict[str, float] = {}
            if cond is not None:
                axis_name = (_find(cond, "ScanInformation", "AxisName").text or "") if _find(
                    cond, "ScanInformation", "AxisName") is not None else ""
                for ax in (el for el in cond.iter() if _local(el.tag) == "Axis"):
                    try:
                        positions[ax.get("Name")] = float(ax.get("Position"))
                    except (TypeError, ValueError):
                        pass
                if not meta:
                    gen = next((el for el in cond.iter() if _local(el.tag) == "XrayGenerator"), None)
                    if gen is not None:
                        def text(tag, gen=gen):
                            el = _find(gen, tag)
                            return (el.text or "").strip() if el is not None else ""
                        wave = text("WaveType").lower()
                        meta = _radiation(text("TargetName") or None, _float(text("WavelengthKalpha1")),
                                          _float(text("WavelengthKalpha2")), None,
                                          stated={"ka": "Ka1+Ka2", "ka1": "Ka1"}.get(wave))
            if axis_name and axis_name.replace(" ", "").lower() not in _RASX_TWO_THETA_AXES:
                raise ParseError(f"{where}: the scan axis is {axis_name!r}, not 2θ: only 2θ patterns are analysed")
            text_data = _member(zf, name).decode("utf-8-sig", errors="replace")
            rows = []
            for lineno, line in enumerate(text_data.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    vals = [float(v) for v in line.split()]
                except ValueError:
                    raise ParseError(f"{where}: line {lineno}: expected 2θ, counts, attenuator numbers, "
                                     f"got {line[:40]!r}") from None
                if len(vals) < 2:
                    raise ParseError(f"{where}: line {lineno}: expected at least 2θ and counts")
                # Third column: the attenuator factor; true counts = recorded × factor (as in .ras).
                rows.append((vals[0], vals[1] * (vals[2] if len(vals) > 2 else 1.0)))
                if len(rows) > MAX_POINTS:
                    raise ParseError(f"{where}: more than the {MAX_POINTS} points one scan can have")
            arr = np.array(rows, dtype=float).reshape(-1, 2)
            positions = {k: v for k, v in positions.items() if k.lower() not in COUPLED_AXES}
            scans.append((scan_frame(arr[:, 0], arr[:, 1], where=where), {"scan_axis": axis_name, "positions": positions}))
        return assemble_scans(self.name, scans, meta)


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
