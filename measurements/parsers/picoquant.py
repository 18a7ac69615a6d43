"""TCSPC decay histograms: PicoQuant TimeHarp/PicoHarp text exports, time/counts tables
(``Time[ns]  Counts``, ``bins [ps]  counts [#]`` with an index column) and Becker & Hickl SPCM
``.asc``.

All produce shape ``decay``: columns ``time_ns`` and ``counts``. The time unit is read from the
header (``#ns/bin``, ``[ps]``, ``Time[ns]``) and converted to ns; it is never assumed.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd

from . import register
from .base import ParsedData, ParseError, Parser, Sniff, axis, kind_hint

_PQ_TITLE = re.compile(r"^#\s*(TimeHarp|PicoHarp|HydraHarp|MultiHarp)\s*([\w.]*)\s+Histogram Data\s*(.*)$", re.I)


def _numbers(line: str) -> list[float]:
    # PicoQuant writes values followed by a tab (and CRLF); several curves are tab-separated.
    return [float(tok) for tok in line.split()]


@register
class PicoQuantHistogramParser(Parser):
    """``#TimeHarp 260  Histogram Data`` / ``#PicoHarp 300 ...`` exports: a ``#key`` line followed
    by its value line(s), the last block ``#counts`` holding one count per line (one column per curve)."""

    name = "picoquant_histogram"
    shape = "decay"
    description = "PicoQuant TimeHarp/PicoHarp/HydraHarp histogram text exports (.dat: #ns/bin, #counts)"

    def sniff(self, text: str) -> float:
        first = text.lstrip().split("\n", 1)[0].strip()
        if _PQ_TITLE.match(first):
            return 0.98
        if "#ns/bin" in text[:2000] and "#counts" in text[:4000]:
            return 0.9
        return 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        options = options or {}
        lines = text.splitlines()
        metadata: dict = {}
        first = lines[0].strip() if lines else ""
        title = _PQ_TITLE.match(first)
        if title:
            metadata["instrument"] = f"{title.group(1)} {title.group(2)}".strip()
            if title.group(3).strip():
                metadata["acquired"] = title.group(3).strip()
        headers: dict[str, list[float]] = {}
        key = None
        counts_start = None
        for lineno, raw in enumerate(lines[1:] if title else lines, start=2 if title else 1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                key = line[1:].strip().lower()
                if key == "counts":
                    counts_start = lineno  # 1-based number of the "#counts" line
                    break
                continue
            if key is not None:
                try:
                    headers[key] = _numbers(line)
                except ValueError:
                    headers[key] = []  # text values (e.g. curve names) are kept out of the numbers
        if counts_start is None:
            raise ParseError("no '#counts' line: expected a PicoQuant histogram export")
        if "ns/bin" not in headers or not headers["ns/bin"]:
            raise ParseError("no '#ns/bin' value before '#counts': cannot build the time axis")
        rows = []
        fast = _fast_table(lines[counts_start:], None)
        if fast is not None:
            rows = fast
        for lineno, raw in enumerate(lines[counts_start:] if fast is None else [], start=counts_start + 1):
            line = raw.strip()
            if not line:
                continue
            try:
                rows.append(_numbers(line))
            except ValueError:
                raise ParseError(f"expected counts (numbers), got {line[:40]!r}", line=lineno) from None
        if len(rows) == 0:
            raise ParseError("the '#counts' block is empty")
        if fast is not None:
            n_curves, counts = fast.shape[1], fast
        else:
            n_curves = min(len(r) for r in rows)
            counts = np.array([r[:n_curves] for r in rows], dtype=float)
        curve = int(options.get("curve", 0))
        if not 0 <= curve < n_curves:
            raise ParseError(f"curve {curve} requested but the file holds {n_curves} curve(s)")
        ns_per_bin_all = headers["ns/bin"]
        ns_per_bin = ns_per_bin_all[curve] if curve < len(ns_per_bin_all) else ns_per_bin_all[0]
        if not ns_per_bin > 0:
            raise ParseError(f"'#ns/bin' must be positive, got {ns_per_bin}")
        channels_declared = headers.get("channels per curve")
        n = counts.shape[0]
        if channels_declared and int(channels_declared[0]) != n:
            raise ParseError(f"header says {int(channels_declared[0])} channels per curve but "
                             f"{n} count lines follow (truncated file?)")
        if np.any(counts < 0):
            raise ParseError("negative counts in a TCSPC histogram")
        time_ns = np.arange(n) * ns_per_bin
        data = pd.DataFrame({"time_ns": time_ns, "counts": counts[:, curve]})
        metadata.update({"ns_per_bin": float(ns_per_bin), "channels": int(n), "curves": int(n_curves),
                         "curve": curve})
        extra = {}
        if n_curves > 1:
            extra["curves"] = pd.DataFrame(counts, columns=[f"curve_{i}" for i in range(n_curves)])
        parsed = ParsedData(format=self.name, shape=self.shape, data=data, metadata=metadata, extra=extra)
        parsed.set_axes(x=axis("time", "ns", source="read", evidence=f"#ns/bin {ns_per_bin:g}"),
                        y=axis("counts", "counts", source="format", evidence="#counts"))
        parsed.metadata["kind_hint"] = kind_hint(["trpl"], 0.95, "PicoQuant histogram header")
        return parsed


_TIME_HEADER = re.compile(r"^\s*(time|t|delay|bins?|channel\s*time)\s*[\[(]\s*(fs|ps|ns|us|µs|μs|ms|s)\s*[\])]\s*$", re.I)
_COUNTS_HEADER = re.compile(r"^\s*(counts?|photons|no_of_photons|number\s*of\s*photons|intensity)"
                            r"\s*([\[(]\s*(#|counts?|cts|a\.?u\.?)?\s*[\])])?\s*$", re.I)
_TIME_SCALE_NS = {"fs": 1e-6, "ps": 1e-3, "ns": 1.0, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9}


def _fast_table(lines: list[str], sep: str | None, width: int | None = None) -> np.ndarray | None:
    """All numeric rows of one width through pandas' C reader, or None when anything is irregular
    (a comment, a short or long row, a word): the caller then reads line by line, which names the
    line that is wrong. ``sep`` None means runs of whitespace."""
    body = "\n".join(lines)
    if "#" in body:
        return None
    try:
        frame = pd.read_csv(io.StringIO(body), sep=r"\s+" if sep is None else sep, header=None,
                            dtype=float, engine="c", skip_blank_lines=True, skipinitialspace=True)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    values = frame.to_numpy()
    if values.size == 0 or np.isnan(values).any() or (width is not None and values.shape[1] != width):
        return None
    return values


def _split(line: str) -> list[str]:
    for sep in ("\t", ",", ";"):
        if sep in line:
            return [tok.strip() for tok in line.split(sep)]
    return line.split()


def _decay_data(fmt: str, time: np.ndarray, counts: np.ndarray, unit: str, evidence: str,
                metadata: dict, first_line: int) -> ParsedData:
    """Shared checks and the axis record of a time/counts decay."""
    if len(time) < 10:
        raise ParseError(f"{len(time)} points: too few for a decay (at least 10 channels needed)", line=first_line)
    time_ns = np.asarray(time, float) * _TIME_SCALE_NS[unit]
    steps = np.diff(time_ns)
    if np.any(steps <= 0):
        bad = int(np.argmax(steps <= 0)) + first_line + 1
        raise ParseError("time must increase monotonically", line=bad)
    counts_arr = np.asarray(counts, float)
    if np.any(counts_arr < 0):
        raise ParseError("negative counts in a TCSPC histogram")
    data = pd.DataFrame({"time_ns": time_ns, "counts": counts_arr})
    metadata = {**metadata, "ns_per_bin": float(np.median(steps)), "channels": len(time_ns), "time_unit_in_file": unit}
    parsed = ParsedData(format=fmt, shape="decay", data=data, metadata=metadata)
    parsed.set_axes(x=axis("time", "ns", source="read", written=unit, evidence=evidence,
                           converted="" if unit == "ns" else f"{unit} → ns"),
                    y=axis("counts", "counts", source="read", evidence="counts column"))
    parsed.metadata["kind_hint"] = kind_hint(["trpl"], 0.9, evidence)
    return parsed


@register
class TcspcTwoColumnParser(Parser):
    """TCSPC decays as a table headed ``Time[ns]  Counts`` or ``bins [ps]  counts [#]`` (tab, comma
    or space separated), optionally with a leading channel-index column that has no header."""

    name = "tcspc_two_column"
    shape = "decay"
    description = ("TCSPC decays headed 'Time[ns] / Counts' or 'bins [ps] / counts [#]' "
                   "(tab/comma/space separated; a leading index column is skipped)")

    def _header(self, text: str) -> tuple[int, str, str] | None:
        for i, raw in enumerate(text.splitlines()[:30]):
            line = raw.strip().lstrip("#").strip()
            if not line:
                continue
            cells = [c for c in _split(line) if c]
            if len(cells) == 2:
                t = _TIME_HEADER.match(cells[0])
                if t and _COUNTS_HEADER.match(cells[1]):
                    return i, t.group(2).lower().replace("μ", "µ"), f"header {cells[0]!r} / {cells[1]!r}"
        return None

    def sniff(self, text: str) -> float:
        # 0.9: above the generic delimited reader, which would call this a plain two-column table.
        found = self._header(text)
        return Sniff(0.9, found[2]) if found else 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        found = self._header(text)
        if not found:
            raise ParseError("expected a header line 'Time[ns]<tab>Counts' or 'bins [ps]<tab>counts [#]'")
        header_index, unit, evidence = found
        times, counts = [], []
        width = None
        body = text.splitlines()[header_index + 1:]
        first = next((ln.strip() for ln in body if ln.strip()), "")
        sep = next((c for c in ("\t", ",", ";") if c in first), None)
        fast = _fast_table([ln.strip() for ln in body], sep) if first else None
        if fast is not None and fast.shape[1] in (2, 3):
            return _decay_data(self.name, fast[:, -2], fast[:, -1], unit, evidence,
                               {"index_column": fast.shape[1] == 3}, header_index + 2)
        for lineno, raw in enumerate(body, start=header_index + 2):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            cells = [c for c in _split(line) if c]
            width = width or len(cells)
            if len(cells) < 2 or len(cells) != width or width > 3:
                raise ParseError(f"expected {width if width and width <= 3 else 2} columns (time, counts), "
                                 f"got {line[:40]!r}", line=lineno)
            try:
                values = [float(c) for c in cells]
            except ValueError:
                raise ParseError(f"expected numbers, got {line[:40]!r}", line=lineno) from None
            # Three columns under a two-name header: the first is the channel index.
            times.append(values[-2])
            counts.append(values[-1])
        metadata = {"index_column": width == 3}
        return _decay_data(self.name, np.asarray(times), np.asarray(counts), unit, evidence, metadata,
                           header_index + 2)


_BH_BLOCK = re.compile(r"^\*BLOCK\s+(\d+)\s*\(\s*(?:time|t)\s*\[\s*(fs|ps|ns|us|µs|s)\s*\]\s+(\S+)\s*\)", re.I)


@register
class BeckerHicklAscParser(Parser):
    """Becker & Hickl SPCM ``.asc`` exports: ``Key : value`` header lines, then one or more
    ``*BLOCK n ( Time[ns]  No_of_photons )`` blocks of ``time , counts`` rows, each closed by
    ``*END``. Several blocks become ``samples`` (one decay each)."""

    name = "becker_hickl_asc"
    shape = "decay"
    description = "Becker & Hickl SPCM .asc (*BLOCK n ( Time[ns] No_of_photons ) … *END), one decay per block"

    def sniff(self, text: str) -> float:
        for line in text.splitlines()[:60]:
            if _BH_BLOCK.match(line.strip()):
                return Sniff(0.95, f"B&H block header {line.strip()[:50]!r}")
        return 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.splitlines()
        header: dict[str, str] = {}
        blocks: list[ParsedData] = []
        i = 0
        while i < len(lines):
            line = lines[i].strip()
            m = _BH_BLOCK.match(line)
            if not m:
                key, sep, value = line.partition(":")
                if sep and not blocks and key.strip():
                    header[key.strip().lower()] = value.strip()
                i += 1
                continue
            number, unit, what = m.group(1), m.group(2).lower(), m.group(3)
            times, counts, start = [], [], i + 2
            i += 1
            while i < len(lines) and not lines[i].strip().upper().startswith("*END"):
                row = lines[i].strip()
                if row:
                    cells = [c for c in re.split(r"[,\s]+", row) if c]
                    try:
                        times.append(float(cells[0]))
                        counts.append(float(cells[1]))
                    except (ValueError, IndexError):
                        raise ParseError(f"expected 'time , counts', got {row[:40]!r}", line=i + 1) from None
                i += 1
            if i >= len(lines):
                raise ParseError(f"block {number} has no '*END' line (truncated file?)", line=start - 1)
            i += 1
            meta = {"block": int(number), "title": header.get("title"), "date": header.get("date"),
                    "sample": f"block {number}", "y_label": what}
            blocks.append(_decay_data(self.name, np.asarray(times), np.asarray(counts), unit,
                                      f"block header 'Time[{unit}]  {what}'", meta, start))
        if not blocks:
            raise ParseError("no '*BLOCK n ( Time[ns] No_of_photons )' line: expected a Becker & Hickl .asc export")
        first = blocks[0]
        if len(blocks) > 1:
            titles = [b.metadata["sample"] for b in blocks]
            for b in blocks:
                b.metadata["samples"] = titles
            first = ParsedData(format=self.name, shape=self.shape, data=first.data,
                               metadata={**first.metadata, "samples": titles}, samples=blocks)
        return first
