"""Result types shared by every analysis. Pure Python: no Django.

Honesty rules every analysis follows (issue 11)
    * An analysis that can give **no** metric at all raises :class:`AnalysisError` with the reason
      (the file is failed with it): a spectrum whose x axis is a Raman shift in cm⁻¹ gives no PL
      peak, so ``pl`` refuses it. One that can still give some metrics leaves the others out and
      says why in ``warnings`` (an optical density outside the recorded range names the parameter
      ``od_wavelength_nm``; the exciton, the gap and the rest are still computed).
    * A number stored with a caveat carries a flag on its :class:`Metric` and a warning on the
      result. Flags used: ``extrapolated``, ``fwhm_from_one_side``, ``instrument_reported`` (a
      value the instrument software computed, taken from the file's header, not recomputed),
      ``assumed_units`` (a unit the file did not state), ``unresolved``.
    * A unit the parser had to assume (``ParsedData.assumed_axes()``) is a warning on the
      result: :func:`unit_warnings`.

Several samples in one file (``ParsedData.samples``, e.g. a Cary CSV with eleven samples)
    The analysis returns one :class:`AnalysisResult` per sample in ``result.samples``, in file
    order. Each has ``sample`` = the sample's column title (unique within the file), ``source`` =
    the file name, and its own ``metrics``, ``warnings``, ``parameters`` and ``arrays``; a sample
    that gives no number has no metrics and its reason in ``error`` (the others still count).
    The top-level result of such a file has **no metrics of its own** (a file-level number would
    belong to no sample); its ``warnings`` say how many samples were found. The pipeline stores
    one Analysis per entry of ``samples``, named by ``sample``, or refuses the file with the list
    of titles when its target cannot take several. ``to_json()`` lists them under ``"samples"``.
    To analyse one sample on its own, pass that entry of ``ParsedData.samples`` as the only input
    (an entry has no ``samples`` of its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


class AnalysisError(ValueError):
    """The data cannot give an honest number (no emission above noise, luminance never falls…).
    The message is for a person and becomes the file's failure reason."""


@dataclass(frozen=True)
class Metric:
    name: str  # canonical name from DESIGN.md, e.g. "eqe_max"
    value: float
    unit: str  # "%", "mA/cm²", "cd/m²", "nm", "eV", "h", "Å", "" for dimensionless
    uncertainty: float | None = None
    flags: tuple[str, ...] = ()  # e.g. ("extrapolated",)
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. band list, fit amplitudes


@dataclass
class AnalysisResult:
    method: str  # e.g. "led.eqe"
    version: str  # bump when numbers may change; stored metrics record it
    metrics: dict[str, Metric] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)  # pixel area, windows, ...
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # curves for plots
    per_file: list[dict[str, Any]] = field(default_factory=list)  # [{"file": name, "metrics": {...}}]
    warnings: list[str] = field(default_factory=list)
    # One result per sample when one file holds several (see the module docstring).
    samples: list[AnalysisResult] = field(default_factory=list)
    sample: str | None = None  # this result's sample (column title), for an entry of ``samples``
    source: str | None = None  # the file it came from, for an entry of ``samples``
    error: str = ""  # an entry of ``samples`` that gave no number: why

    def add(self, name: str, value: float, unit: str, **kw: Any) -> Metric:
        if value is None or not np.isfinite(value):
            raise AnalysisError(f"{name} could not be computed (got {value!r})")
        metric = Metric(name=name, value=float(value), unit=unit, **kw)
        self.metrics[name] = metric
        return metric

    def metrics_json(self) -> dict[str, dict[str, Any]]:
        out = {}
        for name, m in self.metrics.items():
            row: dict[str, Any] = {"value": m.value, "unit": m.unit}
            if m.uncertainty is not None:
                row["uncertainty"] = m.uncertainty
            if m.flags:
                row["flags"] = list(m.flags)
            if m.extra:
                row["extra"] = m.extra
            out[name] = row
        return out

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metrics": self.metrics_json(), "per_file": self.per_file,
                               "method": self.method, "version": self.version, "parameters": self.parameters,
                               "warnings": self.warnings}
        if self.sample is not None:
            out.update({"sample": self.sample, "source": self.source, "error": self.error})
        if self.samples:
            out["samples"] = [s.to_json() for s in self.samples]
        return jsonable(out)


def unit_warnings(parsed: Any) -> list[str]:
    """One warning per axis whose unit the file did not state (``ParsedData.assumed_axes``)."""
    out = []
    for name, a in parsed.assumed_axes().items():
        why = f" ({a['evidence']})" if a.get("evidence") else ""
        out.append(f"{parsed.label}: the {name} axis unit is not stated in the file; assumed "
                   f"{a['quantity']} in {a['unit']}{why}. Check it, or give the columns with a column map")
    return out


def jsonable(value: Any) -> Any:
    """numpy scalars/arrays and tuples → plain JSON types; NaN → None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and value != value:
        return None
    return value
