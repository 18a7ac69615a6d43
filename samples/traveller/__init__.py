"""Printable traveller sheets and vial labels (reportlab + segno), free of Django.

The samples app builds `TravellerSheet` / `LabelData` from its models and calls
`render_travellers` / `render_labels`; both return PDF bytes.
"""

from .data import (
    ChemicalRow,
    Condition,
    LabelData,
    MetricRow,
    ParamRow,
    ParentRef,
    Plot,
    Step,
    TravellerSheet,
    WeighRow,
    WeighTable,
)
from .pdf import LABEL_LAYOUTS, LabelLayout, render_labels, render_travellers

__all__ = [
    "LABEL_LAYOUTS",
    "ChemicalRow",
    "Condition",
    "LabelData",
    "LabelLayout",
    "MetricRow",
    "ParamRow",
    "ParentRef",
    "Plot",
    "Step",
    "TravellerSheet",
    "WeighRow",
    "WeighTable",
    "render_labels",
    "render_travellers",
]
