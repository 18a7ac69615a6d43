"""TCSPC decay histograms: PicoQuant TimeHarp/PicoHarp text exports and two-column time/counts.

Both produce shape ``decay``: columns ``time_ns`` and ``counts``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import register
from .base import ParsedData, ParseError, Parser

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
        for lineno, raw in enumerate(lines[counts_start:], start=counts_start + 1):
            line = raw.strip()
            if not line:
                continue
            try:
                rows.append(_numbers(line))
            except ValueError:
                raise ParseError(f"expected counts (numbers), got {line[:40]!r}", line=lineno) from None
        if not rows:
            raise ParseError("the '#counts' block is empty")
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
        return ParsedData(format=self.name, shape=self.shape, data=data, metadata=metadata, extra=extra)


_TIME_HEADER = re.compile(r"^\s*(time|t|delay)\s*[\[(]\s*(ns|ps|us|µs|s)\s*[\])]\s*$", re.I)
_COUNTS_HEADER = re.compile(r"^\s*(counts?|intensity\s*[\[(]\s*counts?\s*[\])]|photons)\s*$", re.I)
_TIME_SCALE_NS = {"ns": 1.0, "ps": 1e-3, "us": 1e3, "µs": 1e3, "s": 1e9}


def _split(line: str) -> list[str]:
    for sep in ("\t", ",", ";"):
        if sep in line:
            return [tok.strip() for tok in line.split(sep)]
    return line.split()


@register
class TcspcTwoColumnParser(Parser):
    """Two-column TCSPC decays with a ``Time[ns]  Counts`` header (tab, comma or space separated)."""

    name = "tcspc_two_column"
    shape = "decay"
    description = "two-column TCSPC decays with a 'Time[ns] / Counts' header (tab/comma/space separated)"

    def _header(self, text: str) -> tuple[int, str] | None:
        for i, raw in enumerate(text.splitlines()[:30]):
            line = raw.strip().lstrip("#").strip()
            if not line:
                continue
            cells = _split(line)
            if len(cells) == 2:
                t = _TIME_HEADER.match(cells[0])
                if t and _COUNTS_HEADER.match(cells[1]):
                    return i, t.group(2).lower()
        return None

    def sniff(self, text: str) -> float:
        # 0.9: above the generic delimited reader, which would call this a plain two-column table.
        return 0.9 if self._header(text) else 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        found = self._header(text)
        if not found:
            raise ParseError("expected a header line 'Time[ns]<tab>Counts'")
        header_index, unit = found
        times, counts = [], []
        for lineno, raw in enumerate(text.splitlines()[header_index + 1:], start=header_index + 2):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            cells = _split(line)
            if len(cells) < 2:
                raise ParseError(f"expected two columns (time, counts), got {line[:40]!r}", line=lineno)
            try:
                times.append(float(cells[0]))
                counts.append(float(cells[1]))
            except ValueError:
                raise ParseError(f"expected numbers, got {line[:40]!r}", line=lineno) from None
        if len(times) < 10:
            raise ParseError(f"only {len(times)} data rows: too few for a decay")
        time_ns = np.asarray(times) * _TIME_SCALE_NS[unit]
        steps = np.diff(time_ns)
        if np.any(steps <= 0):
            bad = int(np.argmax(steps <= 0)) + header_index + 3
            raise ParseError("time must increase monotonically", line=bad)
        counts_arr = np.asarray(counts)
        if np.any(counts_arr < 0):
            raise ParseError("negative counts in a TCSPC histogram")
        data = pd.DataFrame({"time_ns": time_ns, "counts": counts_arr})
        metadata = {"ns_per_bin": float(np.median(steps)), "channels": len(time_ns), "time_unit_in_file": unit}
        return ParsedData(format=self.name, shape=self.shape, data=data, metadata=metadata)
