"""Ocean Optics spectrometer text exports: OceanView, SpectraSuite and OOIBase32.

All three are a ``Key: value`` header followed by tab-separated ``wavelength  counts`` rows:

* OceanView    – ``>>>>>Begin Spectral Data<<<<<``; ``Integration Time (sec)``;
  ``Scans to average``; ``Electric dark correction enabled: true``;
  ``Number of Pixels in Spectrum``.
* SpectraSuite – ``SpectraSuite Data File``; ``>>>>>Begin Processed Spectral Data<<<<<`` …
  ``>>>>>End Processed Spectral Data<<<<<``; ``Integration Time (usec): 100000 (QEP01234)``;
  ``Spectra Averaged``; ``Correct for Electrical Dark: Yes``; ``Dark Spectrum Present``.
* OOIBase32    – ``OOIBase32 Version …``; ``Time,Date`` or ``Date:``; ``Integration Time: 100``
  (ms) or ``Integration Time (msec)``; ``Spectrometer Serial Number``; data after a
  ``--------`` line (and up to a closing one when present).

Each dialect is its own registered parser (one sniff each, one shared reader). Output: shape
``spectrum`` with ``wavelength_nm`` and ``intensity_counts``; further data columns (OOIBase32
files with dark/reference/sample columns) are kept under their own names. Metadata uses the
same keys for every dialect: ``integration_time_s``, ``serial``, ``scans_averaged``,
``electric_dark_correction``, ``dark_spectrum_present``, ``nonlinearity_correction``,
``boxcar_width``, ``pixel_count`` (as declared) and ``pixels_read``. Dark *offsets* are not
subtracted here: the analysis estimates them from emission-free wavelengths.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import register
from .base import ParsedData, ParseError, Parser, axis, kind_hint
from .numbers import float_rows, has_non_rows

_KEY_VALUE = re.compile(r"^\s*([^:]{1,80}?)\s*:\s*(.*?)\s*$")
_TRAILING_SERIAL = re.compile(r"\s*\(([^)]*)\)\s*$")  # SpectraSuite: "100000 (QEP01234)"


def _boolish(value: str) -> bool | None:
    v = value.strip().lower()
    if v in {"true", "yes", "enabled", "on", "1"}:
        return True
    if v in {"false", "no", "disabled", "off", "0"}:
        return False
    return None


def _number(value: str) -> float | None:
    m = re.match(r"^\s*([+-]?\d+(?:[.,]\d*)?(?:[eE][+-]?\d+)?)", value)
    return float(m.group(1).replace(",", ".")) if m else None


# header key (lower case) → (metadata key, converter)
_INTEGRATION = {"integration time (sec)": 1.0, "integration time (usec)": 1e-6,
                "integration time (msec)": 1e-3, "integration time (ms)": 1e-3,
                "integration time": 1e-3}  # OOIBase32's bare "Integration Time:" is in ms
_COUNT_KEYS = {"scans to average": "scans_averaged", "spectra averaged": "scans_averaged",
               "number of pixels in spectrum": "pixel_count",
               "number of pixels in processed spectrum": "pixel_count",
               "number of pixels in file": "pixel_count",
               "boxcar width": "boxcar_width", "boxcar smoothing": "boxcar_width"}
_FLAG_KEYS = {"electric dark correction enabled": "electric_dark_correction",
              "correct for electrical dark": "electric_dark_correction",
              "nonlinearity correction enabled": "nonlinearity_correction",
              "correct for detector non-linearity": "nonlinearity_correction",
              "dark spectrum present": "dark_spectrum_present",
              "reference spectrum present": "reference_spectrum_present",
              "stray light correction enabled": "stray_light_correction"}
_SERIAL_KEYS = {"spectrometer": "serial", "spectrometers": "serial",
                "spectrometer serial number": "serial"}
_TEXT_KEYS = {"date": "date", "user": "user", "time,date": "date", "spectrometer type": "model",
              "xaxis mode": "x_axis_mode", "spectrometer channel": "channel"}


def _read_header(lines: list[str]) -> dict:
    meta: dict = {}
    for line in lines:
        m = _KEY_VALUE.match(line)
        if not m:
            continue
        key, value = m.group(1).strip().lower(), m.group(2)
        # "Time,Date: 10:02:44, 02-11-2021" in old OOIBase32 headers
        serial_in_parens = _TRAILING_SERIAL.search(value)
        if key in _INTEGRATION:
            number = _number(value)
            if number is not None:
                meta["integration_time_s"] = number * _INTEGRATION[key]
        elif key in _COUNT_KEYS:
            number = _number(value)
            if number is not None:
                meta[_COUNT_KEYS[key]] = int(number)
        elif key in _FLAG_KEYS:
            flag = _boolish(_TRAILING_SERIAL.sub("", value))
            if flag is not None:
                meta[_FLAG_KEYS[key]] = flag
        elif key in _SERIAL_KEYS:
            meta["serial"] = value.strip()
        elif key in _TEXT_KEYS:
            meta[_TEXT_KEYS[key]] = value.strip()
        if serial_in_parens and "serial" not in meta and key in _INTEGRATION:
            meta["serial"] = serial_in_parens.group(1)
    return meta


def _read_rows(lines: list[str], first_line_no: int, filename: str | None) -> np.ndarray:
    """Numeric rows after the begin marker; fast path first, then find the bad line."""
    rows = [ln for ln in lines if ln.strip()] if has_non_rows(lines) else lines  # blank lines (rare) dropped
    if not rows:
        raise ParseError("no spectral data after the begin marker", line=first_line_no)
    text = "\n".join(rows)
    if "\t" in rows[0] and "," in rows[0] and "." not in rows[0]:
        text = text.replace(",", ".")  # decimal commas from a German/French OceanView locale
    width = len(rows[0].split())
    values = float_rows(text, len(rows))  # every row as wide as the first, each field as float() reads it
    if values is not None and width >= 2:
        return values
    line_no = first_line_no
    for ln in lines:
        if ln.strip():
            parts = ln.replace(",", ".").split()
            try:
                [float(p) for p in parts]
            except ValueError:
                raise ParseError(f"expected {width} numeric columns (wavelength, counts), found text "
                                 f"{ln.strip()[:40]!r}", line=line_no, filename=filename) from None
            if len(parts) != width:
                raise ParseError(f"expected {width} numeric columns, found {len(parts)}",
                                 line=line_no, filename=filename)
        line_no += 1
    raise ParseError(f"expected at least 2 numeric columns, found {width}", line=first_line_no)


class _OceanOpticsBase(Parser):
    shape = "spectrum"
    begin_marker: str = ""
    end_marker: str | None = None
    signature: tuple[str, ...] = ()

    def sniff(self, text: str) -> float:
        head = text[:4000]
        if any(s in head for s in self.signature):
            return 0.95
        return 0.0

    def _data_bounds(self, lines: list[str]) -> tuple[int, int]:
        """(first data line index, end index exclusive)."""
        begin = next((i for i, ln in enumerate(lines) if self.begin_marker in ln), None)
        if begin is None:
            raise ParseError(f"missing the '{self.begin_marker}' line that starts the data")
        end = len(lines)
        if self.end_marker:
            end = next((i for i in range(begin + 1, len(lines)) if self.end_marker in lines[i]), len(lines))
        return begin + 1, end

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.splitlines()
        start, end = self._data_bounds(lines)
        meta = _read_header(lines[: start - 1])
        meta["dialect"] = self.name
        if self.end_marker:
            meta["end_marker_present"] = end < len(lines)
        values = _read_rows(lines[start:end], start + 1, filename)
        mode = str(meta.get("x_axis_mode", "")).lower()
        if "pixel" in mode:
            raise ParseError(f"XAxis mode {meta['x_axis_mode']!r}: the x axis is pixel numbers, not wavelengths; "
                             "export with XAxis mode Wavelengths")
        x_key = "raman_shift_cm1" if "raman" in mode else "wavelength_nm"
        data = {x_key: values[:, 0], "intensity_counts": values[:, 1]}
        for j in range(2, values.shape[1]):
            data[f"column_{j + 1}"] = values[:, j]
        frame = pd.DataFrame(data)
        meta["pixels_read"] = int(values.shape[0])
        if "pixel_count" in meta and meta["pixel_count"] != meta["pixels_read"]:
            meta["warning"] = (f"header declares {meta['pixel_count']} pixels, "
                               f"{meta['pixels_read']} rows read")
        parsed = ParsedData(format=self.name, shape="spectrum", data=frame, metadata=meta)
        if x_key == "raman_shift_cm1":
            x_axis = axis("raman_shift", "cm-1", source="read", evidence=f"XAxis mode: {meta['x_axis_mode']}")
            parsed.metadata["kind_hint"] = kind_hint([], 0.9, f"XAxis mode {meta['x_axis_mode']}",
                                                     reason="a Raman spectrum: no LEDger analysis reads it")
        elif mode:
            x_axis = axis("wavelength", "nm", source="read", evidence=f"XAxis mode: {meta['x_axis_mode']} (nm)")
        else:
            x_axis = axis("wavelength", "nm", source="format", evidence=f"{self.name} writes wavelengths in nm")
        parsed.set_axes(x=x_axis, y=axis("intensity", "counts", source="format", evidence=f"{self.name} counts"))
        return parsed


@register
class OceanView(_OceanOpticsBase):
    name = "oceanview"
    description = "Ocean Optics OceanView text export (>>>>>Begin Spectral Data<<<<<)"
    begin_marker = ">>>>>Begin Spectral Data<<<<<"
    end_marker = ">>>>>End Spectral Data<<<<<"
    signature = (">>>>>Begin Spectral Data<<<<<",)


@register
class SpectraSuite(_OceanOpticsBase):
    name = "spectrasuite"
    description = "Ocean Optics SpectraSuite export (Begin/End Processed Spectral Data markers)"
    begin_marker = ">>>>>Begin Processed Spectral Data<<<<<"
    end_marker = ">>>>>End Processed Spectral Data<<<<<"
    signature = (">>>>>Begin Processed Spectral Data<<<<<", "SpectraSuite Data File")


@register
class OOIBase32(_OceanOpticsBase):
    name = "ooibase32"
    description = "Ocean Optics OOIBase32 export (older; header then data between '--------' lines)"
    begin_marker = "--------"
    end_marker = "--------"
    signature = ("OOIBase32 Version",)

    def _data_bounds(self, lines: list[str]) -> tuple[int, int]:
        # The "++++" rule under the title is not the data separator; the first line made
        # only of dashes is.
        begin = next((i for i, ln in enumerate(lines) if ln.strip() and set(ln.strip()) == {"-"}), None)
        if begin is None:
            raise ParseError("missing the '--------' line that starts the data")
        end = next((i for i in range(begin + 1, len(lines))
                    if lines[i].strip() and set(lines[i].strip()) == {"-"}), len(lines))
        return begin + 1, end
