"""A device table in the Perovskite Database Project's shape (Jacobsson et al., Nature Energy 7,
107 (2022), doi 10.1038/s41560-021-00941-3), plus an LED block the photovoltaic database lacks.

Conventions kept from the database's extraction protocol: layers in a stack separated by " | ",
sequential steps of one deposition by " >> ", ions of one site listed alphabetically and separated
by "; " with labels of three characters or more in brackets ("(PEA); Cs; MA"), coefficients in
the same order, "nan" for an unknown entry inside a list, TRUE/FALSE for booleans. Pure Python:
``build_row`` takes plain ``DeviceFacts``; the selectors in ``exchange.peled_selectors`` fill them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from .columns import COLUMNS, Column

__all__ = ["COLUMNS", "Column", "DeviceFacts", "LayerFacts", "StepFacts", "build_row", "ion_columns"]


@dataclass
class LayerFacts:
    material: str
    function: str  # anode, HTL, interlayer, EML, ETL, EIL, cathode
    thickness_nm: float | None
    method: str  # "spin-coat", "thermal evaporation", "substrate"


@dataclass
class StepFacts:
    """A step of the emissive layer's run with the value actually used (else the planned one)."""

    action: str  # recipes' RecipeStep.Action values: "spin", "drip", "anneal", …
    values: dict[str, tuple[Any, str]] = field(default_factory=dict)  # parameter key -> (value, unit)


@dataclass
class DeviceFacts:
    label: str
    entered_by: str = ""
    reference: str = ""
    layers: list[LayerFacts] = field(default_factory=list)
    pixel_area_cm2: float | None = None
    pixel_count: int = 0
    encapsulated: bool = False
    has_qds: bool = False
    composition: dict | None = None  # the engine's Composition.to_dict() of the matrix precursor
    composition_source: str = ""  # "PRE-0001 (nominal solution stoichiometry)"
    composition_weighed_formula: str = ""
    solvents: list[str] = field(default_factory=list)
    eml_steps: list[StepFacts] = field(default_factory=list)
    quenching_media: str = ""
    band_gap_ev: float | None = None
    band_gap_basis: str = ""
    pl_max_nm: float | None = None
    hero: dict[str, float] = field(default_factory=dict)  # metric name -> value, of the best-EQE pixel
    hero_pixel: str = ""
    pixels_measured: int = 0
    stability: dict[str, float] = field(default_factory=dict)  # t50, initial_luminance, lifetime_acceleration_n, t50_at_100_cd
    stability_pixel: str = ""


_DOI = re.compile(r"10\.\d{4,9}/[^\s,;]+")
PROCEDURE = {"spin-coat": "Spin-coating", "spin-coating": "Spin-coating", "thermal evaporation": "Evaporation",
             "evaporation": "Evaporation", "substrate": "Commercial", "sputtering": "Sputtering", "blade-coat": "Doctor blading"}


def _number(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "nan"
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _bool(value: bool) -> str:
    return "TRUE" if value else "FALSE"


def _ion(symbol: str) -> str:
    return f"({symbol})" if len(symbol) >= 3 else symbol


def ion_columns(comp: dict) -> dict[str, str]:
    """A/B/C ions and coefficients in the database's convention, per formula unit of the engine's
    formula: L2 A(n−1) Bn X(3n+1) with a spacer (⟨n⟩ from the engine), ABX3 without one."""
    n = comp.get("n")
    spacer = comp.get("spacer_fractions") or {}
    if spacer and n:
        counts = {"spacer": 2.0, "a": n - 1, "b": float(n), "x": 3 * n + 1}
    else:
        counts = {"spacer": 0.0, "a": 1.0, "b": 1.0, "x": 3.0}
    a_site = {_ion(s): f * counts["a"] for s, f in (comp.get("a_site_fractions") or {}).items()}
    a_site.update({_ion(s): f * counts["spacer"] for s, f in spacer.items()})
    b_site = {_ion(s): f * counts["b"] for s, f in (comp.get("b_site_fractions") or {}).items()}
    x_site = {_ion(s): f * counts["x"] for s, f in (comp.get("halide_fractions") or {}).items()}
    out = {}
    for key, site in (("a", a_site), ("b", b_site), ("c", x_site)):
        ions = sorted(site)  # "(PEA)" sorts before "Cs": the database lists bracketed ions first too
        out[f"Perovskite_composition_{key}_ions"] = "; ".join(ions)
        out[f"Perovskite_composition_{key}_ions_coefficients"] = "; ".join(_number(site[i], 3) for i in ions)
    long_form = "".join(f"{i}{'' if abs(site[i] - 1) < 5e-4 else _number(site[i], 3)}"
                        for site in (a_site, b_site, x_site) for i in sorted(site))
    out["Perovskite_composition_long_form"] = long_form
    out["Perovskite_composition_short_form"] = "".join(i for site in (a_site, b_site, x_site) for i in sorted(site))
    organic = {"MA", "FA", "GA", "EA", "BA", "(PEA)", "(IPA)"}
    out["Perovskite_composition_inorganic"] = _bool(not any(i in organic or i.startswith("(") for i in a_site))
    out["Perovskite_composition_leadfree"] = _bool("Pb" not in b_site)
    return out


def _layer_sections(layers: list[LayerFacts]) -> dict[str, str]:
    """Substrate, HTL (or ETL), perovskite, ETL (or HTL), back contact, from the layers' functions
    and positions: what lies between the substrate electrode and the EML is one transport side."""
    eml = [i for i, la in enumerate(layers) if la.function == "EML"]
    if not eml:
        return {}
    e = eml[0]
    substrate = [la for la in layers[:e] if la.method == "substrate"]
    below = [la for la in layers[:e] if la.method != "substrate"]
    back = [la for la in layers[e + 1:] if la.function in ("cathode", "anode")]
    above = [la for la in layers[e + 1:] if la not in back]
    below_side = "HTL" if any(la.function == "HTL" for la in below) else "ETL" if any(la.function == "ETL" for la in below) else ""
    above_side = {"HTL": "ETL", "ETL": "HTL"}.get(below_side) or (
        "ETL" if any(la.function in ("ETL", "EIL") for la in above) else "HTL")
    below_side = below_side or {"ETL": "HTL", "HTL": "ETL"}[above_side]

    def section(name: str, items: list[LayerFacts]) -> dict[str, str]:
        return {f"{name}_stack_sequence": " | ".join(la.material for la in items),
                f"{name}_thickness_list": " | ".join(_number(la.thickness_nm, 2) for la in items),
                f"{name}_deposition_procedure": " | ".join(PROCEDURE.get(la.method.lower(), la.method or "Unknown") for la in items)}

    out = {"Substrate_stack_sequence": " | ".join(la.material for la in substrate)}
    out.update(section(below_side, below))
    out.update(section(above_side, above))
    out.update(section("Backcontact", back))
    out["Perovskite_thickness"] = _number(layers[e].thickness_nm, 2) if layers[e].thickness_nm is not None else ""
    out["Cell_architecture"] = "pin" if below_side == "HTL" else "nip"
    return out


def _deposition(facts: DeviceFacts) -> dict[str, str]:
    steps, temps, times, quench_volume = [], [], [], None
    for step in facts.eml_steps:
        if step.action == "spin":
            if not steps or steps[-1] != "Spin-coating":  # a two-speed programme is one spin-coating
                steps.append("Spin-coating")
        elif step.action == "evaporate":
            steps.append("Evaporation")
        elif step.action == "drip":
            value, unit = step.values.get("volume", (None, ""))
            if value is not None:
                quench_volume = value * {"µL": 1.0, "mL": 1000.0}.get(unit, math.nan)
        elif step.action == "anneal":
            t, t_unit = step.values.get("temperature", (None, ""))
            d, d_unit = step.values.get("time", (None, ""))
            temps.append(_number(t, 1) if t_unit == "°C" else "nan")
            minutes = {"min": 1.0, "s": 1 / 60, "h": 60.0}.get(d_unit)
            times.append(_number(d * minutes, 2) if d is not None and minutes else "nan")
    return {
        "Perovskite_deposition_number_of_deposition_steps": str(len(steps)) if steps else "",
        "Perovskite_deposition_procedure": " >> ".join(steps),
        "Perovskite_deposition_solvents": "; ".join(facts.solvents),
        "Perovskite_deposition_quenching_induced_crystallisation": _bool(quench_volume is not None),
        "Perovskite_deposition_quenching_media": facts.quenching_media if quench_volume is not None else "",
        "Perovskite_deposition_quenching_media_volume": _number(quench_volume, 1) if quench_volume is not None else "",
        "Perovskite_deposition_thermal_annealing_temperature": " >> ".join(temps),
        "Perovskite_deposition_thermal_annealing_time": " >> ".join(times),
    }


def _metric(values: dict[str, float], name: str, digits: int = 4) -> str:
    value = values.get(name)
    return "" if value is None else _number(value, digits)


def build_row(facts: DeviceFacts) -> dict[str, str]:
    """One device as one row; every column of ``COLUMNS`` is present ('' when LEDger does not know it)."""
    row = {c.name: "" for c in COLUMNS}
    doi = _DOI.search(facts.reference or "")
    stack = " | ".join(la.material for la in facts.layers)
    row.update({
        "Ref_ID": facts.label,
        "Ref_name_of_person_entering_the_data": facts.entered_by,
        "Ref_data_entered_by_author": "TRUE",
        "Ref_DOI_number": doi.group(0).rstrip(".") if doi else "",
        "Ref_free_text_comment": facts.reference,
        "Cell_stack_sequence": stack,
        "Cell_area_total": _number(facts.pixel_area_cm2) if facts.pixel_area_cm2 else "",
        "Cell_area_measured": _number(facts.pixel_area_cm2) if facts.pixel_area_cm2 else "",
        "Cell_number_of_cells_per_substrate": str(facts.pixel_count) if facts.pixel_count else "",
        "Encapsulation": _bool(facts.encapsulated),
    })
    row.update(_layer_sections(facts.layers))
    comp = facts.composition
    spacer = bool(comp and comp.get("spacer_fractions"))
    n = comp.get("n") if comp else None
    row.update({
        "Perovskite_dimension_0D": _bool(facts.has_qds),
        "Perovskite_dimension_2D": _bool(spacer and n is not None and abs(n - 1) < 0.05),
        "Perovskite_dimension_2D3D_mixture": _bool(spacer and n is not None and n > 1.05),
        "Perovskite_dimension_3D": _bool(comp is not None and not spacer),
    })
    if comp and comp.get("b_site_fractions"):
        row.update(ion_columns(comp))
        row["Perovskite_composition_perovskite_ABC3_structure"] = "TRUE"
        row["Perovskite_composition_assumption"] = f"Solution stoichiometry: {facts.composition_source}"
        row["Perovskite_composition_ledger_formula"] = comp.get("formula") or ""
        row["Perovskite_composition_ledger_formula_weighed"] = facts.composition_weighed_formula
    else:
        row["Perovskite_composition_assumption"] = (
            "Unknown: no precursor solution with a B-site metal in the device's lineage, so the stoichiometry engine gives no formula")
    if facts.band_gap_ev is not None:
        row["Perovskite_band_gap"] = _number(facts.band_gap_ev, 3)
        row["Perovskite_band_gap_estimation_basis"] = facts.band_gap_basis
    if facts.pl_max_nm is not None:
        row["Perovskite_pl_max"] = _number(facts.pl_max_nm, 1)
    row.update(_deposition(facts))
    hero, stab = facts.hero, facts.stability
    row.update({
        "LED_pixel_hero": facts.hero_pixel,
        "LED_pixels_measured": str(facts.pixels_measured) if facts.pixels_measured else "",
        "LED_EL_peak_wavelength": _metric(hero, "el_peak_wavelength", 1),
        "LED_EL_FWHM": _metric(hero, "el_fwhm", 1),
        "LED_CIE_x": _metric(hero, "cie_x", 4),
        "LED_CIE_y": _metric(hero, "cie_y", 4),
        "LED_EQE_max": _metric(hero, "eqe_max", 3),
        "LED_J_at_EQE_max": _metric(hero, "j_at_eqe_max", 4),
        "LED_EQE_at_100mA_cm2": _metric(hero, "eqe_at_100_ma_cm2", 3),
        "LED_L_max": _metric(hero, "luminance_max", 1),
        "LED_V_on": _metric(hero, "turn_on_voltage", 3),
        "LED_CE_max": _metric(hero, "current_efficiency_max", 3),
        "LED_PE_max": _metric(hero, "power_efficacy_max", 3),
        "LED_stability_pixel": facts.stability_pixel,
        "LED_stability_T50": _metric(stab, "t50", 3),
        "LED_stability_L0": _metric(stab, "initial_luminance", 1),
        "LED_stability_acceleration_n": _metric(stab, "lifetime_acceleration_n", 3),
        "LED_stability_T50_at_100cd_m2": _metric(stab, "t50_at_100_cd", 0),
        "LED_stability_drive_mode": "Constant current" if stab.get("t50") is not None else "",
    })
    return {c.name: row.get(c.name, "") for c in COLUMNS}
