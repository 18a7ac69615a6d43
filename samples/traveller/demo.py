"""The demo run as traveller data: PROCESS.md §5 film on the §4 matrix precursor.

Used by the tests, the benchmark and docs/traveller-demo.png, so all three print the
same sheet the lab would print for the reference process (Liu, Dong et al., JACS 2021).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace

from .data import (
    ChemicalRow,
    Condition,
    MetricRow,
    ParamRow,
    ParentRef,
    Plot,
    Step,
    TravellerSheet,
    WeighRow,
    WeighTable,
)

BASE_URL = "https://ledger.example.org/s/"

LEAD = ("Repr. 1A H360Df", "H302+H332", "H373", "H410")
IRRITANT = ("H315", "H319", "H335")

STEPS = [
    Step(
        1,
        "Dispense matrix precursor",
        [ParamRow("Precursor aliquot", 200, "µL")],
        "onto the ITO/poly-TPD/LiF substrate, N₂ glovebox",
    ),
    Step(2, "Spin stage 1", [ParamRow("Speed", 1000, "rpm"), ParamRow("Time", 10, "s")]),
    Step(3, "Spin stage 2", [ParamRow("Speed", 5000, "rpm"), ParamRow("Time", 30, "s")]),
    Step(
        4,
        "QD ink drip (acts as antisolvent)",
        [
            ParamRow("QD ink volume", None, "µL", 100, 200, note="sets the QD/matrix ratio"),
            ParamRow("Drip time into stage 2", None, "s", 25, 27),
        ],
        "treated CsPbI₃ QD ink in toluene; control film: same antisolvent without QDs",
    ),
    Step(5, "Soft anneal", [ParamRow("Temperature", None, "°C", 45, 55), ParamRow("Time", 2, "min")]),
    Step(6, "Anneal", [ParamRow("Temperature", 110, "°C"), ParamRow("Time", None, "min", 5, 10)]),
]

WEIGH = WeighTable(
    rows=[
        WeighRow("PbBr₂", 0.40, 146.80, 367.01),
        WeighRow("PbI₂", 0.20, 92.20, 461.01),
        WeighRow("CsI", 0.32, 83.14, 259.81),
        WeighRow("MAI (CH₃NH₃I)", 0.08, 12.72, 158.97),
        WeighRow("PEAI (C₆H₅CH₂CH₂NH₃I)", 0.40, 99.64, 249.09),
    ],
    volume_ml=1.5,
    solvent="DMSO",
    composition=[
        "PEA₂(Cs₀.₈MA₀.₂)₂Pb₃(I₀.₆Br₀.₄)₁₀",
        "[Pb²⁺] = 0.400 M",
        "Br/(Br+I) = 0.400",
        "PEA/Pb = 0.667 → ⟨n⟩ = 3",
        "(Cs+MA)/Pb = 0.667; Cs:MA = 80:20",
        "stir 30 min in N₂; filter 0.45 µm PTFE",
    ],
)

CHEMICALS = [
    ChemicalRow("Lead(II) bromide", "PbBr₂, 99.999 %", "MKCQ4821", "Sigma-Aldrich", "146.80 mg", LEAD),
    ChemicalRow("Lead(II) iodide", "PbI₂, 99.99 %", "TCI-7QH2L", "TCI", "92.20 mg", LEAD),
    ChemicalRow("Caesium iodide", "CsI, 99.999 %", "BCCF1733", "Sigma-Aldrich", "83.14 mg", ("H361",)),
    ChemicalRow("Methylammonium iodide", "CH₃NH₃I", "GS-MAI-2291", "Greatcell", "12.72 mg", IRRITANT),
    ChemicalRow("Phenethylammonium iodide", "C₆H₅CH₂CH₂NH₃I", "GS-PEAI-0412", "Greatcell", "99.64 mg", IRRITANT),
    ChemicalRow("Dimethyl sulfoxide, anhydrous", "DMSO, ≥ 99.9 %", "SHBN7720", "Sigma-Aldrich", "1.5 mL", ("H227",)),
]

PARENTS = [
    ParentRef("INK-0007", "treated QD ink (3× IPAI/KI)", BASE_URL + "INK-0007"),
    ParentRef("PRE-0012", "matrix precursor, 40 % Br", BASE_URL + "PRE-0012"),
    ParentRef("SUB-0031", "ITO / poly-TPD / LiF substrate", BASE_URL + "SUB-0031"),
]


def demo_sheet(label: str = "FILM-0042") -> TravellerSheet:
    """The planned sheet, as printed before the run."""
    return TravellerSheet(
        label=label,
        url=BASE_URL + label,
        title="QD-in-matrix film (spin-coating)",
        recipe_name="QD-in-matrix film, red (Liu 2021)",
        recipe_version=3,
        project="Red QD-in-matrix PeLEDs",
        planned_date=dt.date(2025, 3, 14),
        kind="film",
        steps=STEPS,
        chemicals=CHEMICALS,
        weigh_table=WEIGH,
        parents=PARENTS,
    )


def _actuals(step: Step, values: list[float]) -> Step:
    params = [replace(p, actual=v) for p, v in zip(step.parameters, values, strict=True)]
    return replace(step, parameters=params, done=True)


def demo_plots() -> list[Plot]:
    """Small EQE–J, EL and L(t) plots like the measurements side will hand over."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    j = np.logspace(-1, 2.5, 60)
    lam = np.linspace(560, 740, 200)
    t = np.linspace(0, 40, 100)
    curves = [
        ("EQE–J", j, 18 * np.exp(-((np.log10(j) - 0.6) ** 2) / 1.6), "J (mA/cm²)", "EQE (%)", True),
        ("EL spectrum", lam, np.exp(-((lam - 648) ** 2) / (2 * 14**2)), "λ (nm)", "EL (a.u.)", False),
        ("L(t) at 914 cd/m²", t, np.exp(-((t / 30) ** 0.8) * 0.69), "t (h)", "L/L₀", False),
    ]
    plots = []
    for title, x, y, xl, yl, logx in curves:
        fig, ax = plt.subplots(figsize=(2.4, 1.7), dpi=150)
        ax.plot(x, y, color="#0b4f9c", lw=1.4)
        ax.set_xscale("log" if logx else "linear")
        ax.set_xlabel(xl, fontsize=7)
        ax.set_ylabel(yl, fontsize=7)
        ax.tick_params(labelsize=6)
        fig.tight_layout(pad=0.3)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        plots.append(Plot(title, buf.getvalue()))
    return plots


def demo_completed_sheet(label: str = "FILM-0042", plots: bool = True) -> TravellerSheet:
    """The same run after it came back: actuals (one soft anneal ran hot), metrics, plots."""
    actual = [[200], [1000, 10], [5000, 30], [150, 26], [58, 2], [110, 8]]
    weighed = [146.82, 92.18, 83.15, 12.91, 99.60]
    sheet = demo_sheet(label)
    return replace(
        sheet,
        status="completed",
        operator="M. Liu",
        run_date=dt.date(2025, 3, 14),
        conditions=[Condition("Glovebox O₂", "ppm", 0.4), Condition("Glovebox H₂O", "ppm", 0.1)],
        steps=[_actuals(s, v) for s, v in zip(sheet.steps, actual, strict=True)],
        weigh_table=replace(WEIGH, rows=[replace(r, actual_mg=a) for r, a in zip(WEIGH.rows, weighed, strict=True)]),
        results=[
            MetricRow("eqe_max", 17.8, "%"),
            MetricRow("eqe_at_100_ma_cm2", 13.1, "%"),
            MetricRow("luminance_max", 4710, "cd/m²"),
            MetricRow("el_peak_wavelength", 648, "nm"),
            MetricRow("turn_on_voltage", 2.4, "V"),
            MetricRow("t50_at_100_cd", 2100, "h"),
        ],
        plots=demo_plots() if plots else [],
        notes="Hotplate read 58 °C during the soft anneal (setpoint 50 °C); kept the film, flagged for comparison.",
        done_by="M. Liu",
    )
