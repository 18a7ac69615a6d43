"""Emission and Raman spectra with their own headers → shape "spectrum".

- HORIBA LabSpec 5/6 text export (LabRAM HR, XploRA…): ``#Key=<tab>value`` lines, then two
  columns. The axes are read from ``#AxisUnit[1]`` (x: ``1/cm`` Raman shift, ``nm``) and
  ``#AxisUnit[0]`` (y: ``Cnt``). A Raman-shift spectrum becomes ``raman_shift_cm1`` (never
  ``wavelength_nm``) with a kind hint that no LEDger analysis reads it; a spectrum in nm (a
  LabRAM PL scan) is an emission spectrum like any other.
- QYB LuQY Pro absolute-PL export (``.abspl``/``.pli``): a date line, ``Key<tab>value`` lines
  (``LuQY (%)``, ``iVoc (V)``, ``Bandgap (eV)``, ``Laser intensity (suns)`` …), a dashed rule,
  then ``Wavelength (nm)``, ``Luminescence flux density (photons/(s cm² nm))``, ``Raw spectrum
  (counts)`` and optionally ``Dark spectrum (counts)``. The calibrated flux is the spectrum
  (``photon_flux``); raw and dark counts are kept. The header's results go to
  ``metadata["reported"]`` (what the instrument software computed; the PL analysis stores them
  flagged ``instrument_reported``): ``plqy`` (%) from LuQY, ``qfls`` (eV) from iVoc (the implied
  open-circuit voltage is the quasi-Fermi-level splitting over e), ``pl_bandgap`` (eV).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import register
from .base import ParsedData, ParseError, Parser, Sniff, axis, kind_hint

_LABSPEC_KEY = re.compile(r"^#([^=]+)=\s*(.*)$")


def _numeric_rows(lines: list[str], start: int, width: int, *, what: str) -> np.ndarray:
    rows = []
    for index in range(start, len(lines)):
        line = lines[index].strip()
        if not line:
            continue
        cells = line.replace(",", " ").split() if "\t" not in line else line.split("\t")
        try:
            values = [float(c) for c in cells if c.strip()]
        except ValueError:
            raise ParseError(f"expected {what}, got {line[:50]!r}", line=index + 1) from None
        if len(values) < width:
            raise ParseError(f"expected {width} numeric columns ({what}), found {len(values)}", line=index + 1)
        rows.append(values[:width])
    if len(rows) < 10:
        raise ParseError(f"{len(rows)} points: too few for a spectrum (at least 10 needed)", line=start + 1)
    return np.asarray(rows, dtype=float)


@register
class LabSpecParser(Parser):
    name = "labspec"
    shape = "spectrum"
    description = "HORIBA LabSpec text export (LabRAM; #AxisUnit header): Raman shift (cm⁻¹) or wavelength (nm)"

    def sniff(self, text: str) -> float:
        head = text[:8000]
        if "#AxisUnit[1]=" in head or ("#Acq. time" in head and "#Accumulations" in head):
            unit = re.search(r"#AxisUnit\[1\]=\s*(\S+)", head)
            return Sniff(0.95, "LabSpec #key= header", f"x unit {unit.group(1)!r}" if unit else "")
        return 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.lstrip("\ufeff").splitlines()
        header: dict[str, str] = {}
        start = None
        for index, line in enumerate(lines):
            m = _LABSPEC_KEY.match(line.strip())
            if m:
                header[m.group(1).strip()] = m.group(2).strip()
                continue
            if line.strip():
                start = index
                break
        if start is None:
            raise ParseError("no data rows after the LabSpec header")
        x_unit = header.get("AxisUnit[1]", "")
        y_unit = header.get("AxisUnit[0]", "")
        table = _numeric_rows(lines, start, 2, what="x and intensity")
        order = np.argsort(table[:, 0], kind="stable")
        x, y = table[order, 0], table[order, 1]
        metadata = {"instrument": header.get("Instrument"), "laser": header.get("Laser"),
                    "grating": header.get("Grating"), "title": header.get("Title"),
                    "acquisition_time_s": _float(header.get("Acq. time (s)")),
                    "accumulations": _float(header.get("Accumulations")), "date": header.get("Date")}
        xu = x_unit.lower().replace(" ", "")
        y_axis = axis("intensity", "counts", source="read" if y_unit else "assumed", written=y_unit or "",
                      evidence=f"#AxisUnit[0]={y_unit}" if y_unit else "no #AxisUnit[0]; counts assumed")
        if xu in ("1/cm", "cm-1", "cm^-1"):
            frame = pd.DataFrame({"raman_shift_cm1": x, "intensity_counts": y})
            parsed = ParsedData(format=self.name, shape=self.shape, data=frame, metadata=metadata)
            parsed.set_axes(x=axis("raman_shift", "cm-1", source="read", written=x_unit,
                                   evidence=f"#AxisUnit[1]={x_unit}"), y=y_axis)
            parsed.metadata["kind_hint"] = kind_hint(
                [], 0.95, f"#AxisUnit[1]={x_unit}", f"laser {metadata['laser']}" if metadata["laser"] else "",
                reason="a Raman spectrum (x axis Raman shift in cm⁻¹): no LEDger analysis reads it")
            return parsed
        if xu in ("nm", ""):
            frame = pd.DataFrame({"wavelength_nm": x, "intensity_counts": y})
            parsed = ParsedData(format=self.name, shape=self.shape, data=frame, metadata=metadata)
            parsed.set_axes(x=axis("wavelength", "nm", source="read" if xu else "assumed", written=x_unit,
                                   evidence=f"#AxisUnit[1]={x_unit}" if xu else "no #AxisUnit[1]; nm assumed"),
                            y=y_axis)
            parsed.metadata["kind_hint"] = kind_hint(["pl"], 0.6, "LabSpec spectrum in nm (a PL scan)")
            return parsed
        raise ParseError(f"#AxisUnit[1]={x_unit!r}: only Raman shift (1/cm) and wavelength (nm) axes are read; "
                         "export the spectrum in nm for a PL analysis")


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "--") else None
    except ValueError:
        return None


# LuQY Pro header keys → reported metric (name, unit) or metadata key.
_LUQY_REPORTED = {"luqy (%)": ("plqy", "%"), "ivoc (v)": ("qfls", "eV"), "bandgap (ev)": ("pl_bandgap", "eV")}
_LUQY_META = {"ivoc (v) het": "ivoc_het_v", "ivoc confidence": "ivoc_confidence",
              "laser intensity (suns)": "laser_intensity_suns", "bias voltage (v)": "bias_voltage_v",
              "smu current density (ma/cm2)": "smu_current_density_ma_cm2", "integration time (ms)": "integration_time_ms",
              "delay time (s)": "delay_time_s", "jsc (ma/cm2)": "jsc_ma_cm2",
              "eqe @ laser wavelength": "eqe_at_laser_wavelength", "laser spot size (cm²)": "laser_spot_size_cm2",
              "subcell area (cm²)": "subcell_area_cm2", "subcell": "subcell"}


@register
class LuQYProParser(Parser):
    name = "luqy_pro"
    shape = "spectrum"
    description = ("QYB LuQY Pro absolute-PL export (.abspl/.pli): LuQY, iVoc (QFLS), bandgap header, "
                   "calibrated photon-flux spectrum")

    def _rule(self, lines: list[str]) -> int | None:
        for index, line in enumerate(lines[:60]):
            if line.strip().startswith("-----") and index + 1 < len(lines) and \
                    lines[index + 1].lower().startswith("wavelength"):
                return index
        return None

    def sniff(self, text: str) -> float:
        head = text[:6000]
        lines = head.splitlines()
        if "LuQY" in head and self._rule(lines) is not None and "flux" in head.lower():
            return Sniff(0.97, "header 'LuQY (%)'", "column 'Luminescence flux density'")
        return 0.0

    def parse(self, text: str, *, filename: str | None = None, options: dict | None = None) -> ParsedData:
        lines = text.lstrip("\ufeff").splitlines()
        rule = self._rule(lines)
        if rule is None:
            raise ParseError("no '-----' rule followed by the 'Wavelength (nm)' column titles")
        reported: dict[str, dict] = {}
        metadata: dict = {"measured": lines[0].strip() if lines and "\t" not in lines[0] else None}
        for number, line in enumerate(lines[:rule], start=1):
            key, sep, value = line.partition("\t")
            if not sep:
                continue
            k = key.strip().lower()
            if k in _LUQY_REPORTED:
                name, unit = _LUQY_REPORTED[k]
                number_value = _float(value.strip())
                if number_value is None:
                    raise ParseError(f"{key.strip()!r}: expected a number, got {value.strip()!r}", line=number)
                reported[name] = {"value": number_value, "unit": unit, "evidence": f"header {key.strip()!r}"}
            elif k in _LUQY_META:
                v = value.strip()
                metadata[_LUQY_META[k]] = _float(v) if _float(v) is not None else v
        titles = [t.strip() for t in lines[rule + 1].split("\t")]
        if len(titles) < 2 or "flux" not in titles[1].lower():
            raise ParseError(f"expected 'Wavelength (nm)' and 'Luminescence flux density' columns, got {titles[:3]}",
                             line=rule + 2)
        table = _numeric_rows(lines, rule + 2, len(titles), what="wavelength, flux and counts")
        data = {"wavelength_nm": table[:, 0], "photon_flux": table[:, 1]}
        for j, title in enumerate(titles[2:], start=2):
            low = title.lower()
            data["raw_counts" if low.startswith("raw") else "dark_counts" if low.startswith("dark") else f"column_{j}"] = table[:, j]
        frame = pd.DataFrame(data).sort_values("wavelength_nm", ignore_index=True)
        metadata["reported"] = reported
        parsed = ParsedData(format=self.name, shape=self.shape, data=frame, metadata=metadata)
        parsed.set_axes(x=axis("wavelength", "nm", source="read", evidence=f"column {titles[0]!r}"),
                        y=axis("photon_flux", "photons/(s cm² nm)", source="read", evidence=f"column {titles[1]!r}"))
        parsed.metadata["kind_hint"] = kind_hint(["pl"], 0.95, "LuQY Pro absolute PL header")
        return parsed
