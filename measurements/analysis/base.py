"""Result types shared by every analysis. Pure Python: no Django."""

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
        return jsonable({"metrics": self.metrics_json(), "per_file": self.per_file,
                         "method": self.method, "version": self.version, "parameters": self.parameters,
                         "warnings": self.warnings})


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
