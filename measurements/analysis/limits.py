"""Bounds on what one file may make an analysis do, checked before any fit. Pure Python.

A 4 kB file can ask for a 10¹⁰-point grid (a tiny step over a wide range) and a value of 1e300
can make ``np.polyfit`` spin until the worker's time limit. Neither is a measurement: both are
refused here with a message, before the analysis allocates or fits anything.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..parsers import ParsedData, ParseError

# A long J-L-V or lifetime log has ~10⁵ rows; a TA matrix ~10³ × 10³. Ten times that is the cap.
MAX_POINTS = 2_000_000
# Largest magnitude any measured quantity here takes (counts, A, cd/m², nm, s, °2θ) is far below.
MAX_ABS_VALUE = 1e30
# A grid an analysis derives from the data's own step and range (resampling, interpolation).
MAX_GRID_POINTS = 1_000_000


def check_parsed(data: ParsedData) -> None:
    """Refuse data no analysis should run on: too many points, ±inf or absurd magnitudes."""
    name = data.source
    frames: list[tuple[str, pd.DataFrame]] = [("", data.data), *((f" ({k})", v) for k, v in data.extra.items()
                                                               if isinstance(v, pd.DataFrame))]
    total = 0
    for where, frame in frames:
        total += int(frame.size)
        if total > MAX_POINTS:
            raise ParseError(f"{total:,} values: over the {MAX_POINTS:,} an analysis takes from one file", filename=name)
        # Nearly every frame is numbers only: then it is its own numeric part (select_dtypes, a
        # third of this check, only when it holds text or flags too).
        numeric = frame if all(dt.kind in "fiu" for dt in frame.dtypes) else frame.select_dtypes(include="number")
        values = numeric.to_numpy(dtype=float, na_value=np.nan)
        if data.shape == "ta_matrix" and frame.index.dtype.kind in "fi":
            values = np.column_stack([values, frame.index.to_numpy(float)]) if values.size else values
        if not values.size:
            continue
        if "wavelength_nm" in frame.columns:
            wavelength = frame["wavelength_nm"].to_numpy(dtype=float, na_value=np.nan)
            wrong = ~(wavelength > 0)  # NaN, zero or negative: no wavelength (and 1/λ is infinite)
            if wrong.any():
                row = int(np.argmax(wrong))
                raise ParseError(f"wavelength_nm{where} row {row + 1} is {wavelength[row]:g}: a wavelength must be a "
                                 "positive number of nm", filename=name)
        with np.errstate(invalid="ignore"):
            bad = np.isinf(values) | (np.abs(values) > MAX_ABS_VALUE)
        if bad.any():
            row, col = (int(i) for i in np.argwhere(bad)[0])
            column = numeric.columns[col] if col < len(numeric.columns) else "delay"
            raise ParseError(f"{column}{where} row {row + 1} is {values[row, col]:g}: not a measured value "
                             f"(|x| must be finite and ≤ {MAX_ABS_VALUE:g})", filename=name)


def grid_points(start: float, stop: float, step: float, *, what: str = "grid") -> int:
    """Points of a uniform grid from ``start`` to ``stop`` by ``step``, refused past MAX_GRID_POINTS
    (for analyses that resample onto the data's own step)."""
    from .base import AnalysisError

    if not (np.isfinite(start) and np.isfinite(stop) and np.isfinite(step)) or step <= 0:
        raise AnalysisError(f"{what}: step {step!r} over {start!r}…{stop!r} is not a usable grid")
    n = int(np.floor(abs(stop - start) / step)) + 1
    if n > MAX_GRID_POINTS:
        raise AnalysisError(f"{what}: a step of {step:g} over {start:g}…{stop:g} makes {n:,} points "
                            f"(limit {MAX_GRID_POINTS:,}); the file's x axis is not evenly recorded")
    return n
