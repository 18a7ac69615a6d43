"""What goes on a traveller sheet or a vial label, as plain data.

No Django here on purpose: the samples app fills these from its models (a selector),
and the renderer, its tests and the benchmark use them without a database.
Every text field is plain Unicode (₂, ⟨n⟩, µL, °C, Å print as they are); the renderer
escapes it, so callers never write markup.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

Number = int | float
Quantity = Number | str  # a number, or text the lab wrote as-is ("~1 nm", "10⁻⁷")
DateLike = dt.date | dt.datetime | str


@dataclass(frozen=True)
class ParamRow:
    """One recipe parameter of a step: planned value and window, and what was really done.

    `planned` may be None when the recipe only gives a window (e.g. 100–200 µL);
    `deviation` None means "decide from min/max"; the samples side may force it
    (e.g. a textual actual that someone judged out of spec).
    """

    name: str
    planned: Quantity | None
    unit: str = ""
    min: Number | None = None
    max: Number | None = None
    actual: Quantity | None = None
    deviation: bool | None = None
    note: str = ""

    @property
    def is_deviation(self) -> bool:
        if self.deviation is not None:
            return self.deviation
        if not isinstance(self.actual, int | float):
            return False
        return (self.min is not None and self.actual < self.min) or (self.max is not None and self.actual > self.max)


@dataclass(frozen=True)
class Step:
    """One operation of the run, in order; `done` ticks its boxes on a completed sheet."""

    order: int
    name: str
    parameters: list[ParamRow] = field(default_factory=list)
    instructions: str = ""
    done: bool = False


@dataclass(frozen=True)
class ChemicalRow:
    """A chemical lot to take from the shelf for this run."""

    name: str
    formula: str = ""
    lot_number: str = ""
    supplier: str = ""
    amount: str = ""  # what this run uses, as text ("146.80 mg", "1.5 mL")
    hazards: tuple[str, ...] = ()  # GHS statements or pictogram names, printed as given
    expires: str = ""  # the lot's expiry date as printed ("2026-01-31")
    expired: bool = False  # past that date on the day of the run: printed as a warning


@dataclass(frozen=True)
class WeighRow:
    """One line of the stoichiometry engine's "what to weigh" output."""

    reagent: str
    mmol: float
    mg: float
    molar_mass: float  # g/mol
    actual_mg: float | None = None
    tolerance_pct: float = 1.0  # balance reading further off than this is flagged

    @property
    def is_deviation(self) -> bool:
        if self.actual_mg is None or not self.mg:
            return False
        return abs(self.actual_mg - self.mg) / self.mg * 100 > self.tolerance_pct


@dataclass(frozen=True)
class WeighTable:
    """Masses for the run's volume, plus the composition they give (one line each)."""

    rows: list[WeighRow]
    volume_ml: float | None  # None for amounts that do not scale with a volume (a QD flask, a dose)
    solvent: str = ""
    composition: list[str] = field(default_factory=list)  # "[Pb²⁺] = 0.400 M", "⟨n⟩ = 3"


@dataclass(frozen=True)
class ParentRef:
    """A sample that goes into this run; printed with its own small QR code."""

    label: str
    kind: str = ""
    url: str = ""


@dataclass(frozen=True)
class MetricRow:
    """A derived metric (canonical name from DESIGN.md) shown on a completed sheet."""

    name: str
    value: Quantity
    unit: str = ""
    label: str = ""  # what a person reads ("EQE max"); printed instead of the name when given


class Plot(NamedTuple):
    """A small plot: a stored chart (measurements' curves with axis names and units), drawn as PDF
    vectors (traveller/chart.py), or a PNG already rendered; tuples work too."""

    title: str
    png: bytes = b""
    chart: dict | None = None


@dataclass(frozen=True)
class Condition:
    """A conditions blank in the header (glovebox O₂, H₂O, …); filled when known."""

    name: str
    unit: str = ""
    value: Quantity | None = None


def default_conditions() -> list[Condition]:
    return [Condition("Glovebox O₂", "ppm"), Condition("Glovebox H₂O", "ppm")]


@dataclass(frozen=True)
class TravellerSheet:
    """Everything printed on one run's (or one sample's) traveller."""

    label: str  # run or sample label, e.g. "FILM-0042"
    url: str  # absolute URL the QR code opens
    title: str = ""  # e.g. "QD-in-matrix film (spin-coating)"
    recipe_name: str = ""
    recipe_version: str | int = ""
    project: str = ""
    planned_date: DateLike | None = None
    status: Literal["planned", "completed"] = "planned"
    kind: str = ""  # sample kind or step type, shown under the label
    operator: str = ""  # filled on completed sheets, a blank otherwise
    run_date: DateLike | None = None
    conditions: list[Condition] = field(default_factory=default_conditions)
    steps: list[Step] = field(default_factory=list)
    chemicals: list[ChemicalRow] = field(default_factory=list)
    weigh_table: WeighTable | None = None
    parents: list[ParentRef] = field(default_factory=list)
    results: list[MetricRow] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)
    notes: str = ""
    done_by: str = ""  # sign-off names, printed on the lines when known
    checked_by: str = ""

    @property
    def completed(self) -> bool:
        return self.status == "completed"


@dataclass(frozen=True)
class LabelData:
    """One vial label: text, QR code of the sample URL, and three small facts."""

    label: str
    url: str
    kind: str = ""
    date: DateLike | None = None
    owner: str = ""
