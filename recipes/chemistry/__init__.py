"""Stoichiometry engine for perovskite precursors and QD syntheses. Pure Python: no Django.

    library = default_library().extend(chemical_rows)        # lab's own Chemicals win
    result = composition([{"reagent": "PbBr2", "mmol": 0.4}, …], solvent_ml=1.5, library=library)
    plan = solve({"halide_fractions": {"Br": 0.4, "I": 0.6}, "n": 3, "b_molarity": 0.4,
                  "a_site": {"Cs": 0.8, "MA": 0.2}, "spacer": "PEA", "volume_ml": 1.5},
                 ["PbBr2", "PbI2", "CsI", "MAI", "PEAI"], library)
    result.to_dict(), plan.to_dict()                          # what the API returns

Every failure is a ChemistryError whose message is meant for the chemist.
"""

from .amounts import (
    Component,
    amount_mmol,
    component,
    component_from_dict,
    components_from_dicts,
    mass_to_weigh_mg,
    molarity_m,
    normalize_unit,
    parse_quantity,
    scale_components,
    scale_to_volume,
    stock_amount_mmol,
    volume_to_dispense_ul,
)
from .composition import Composition, composition, perovskite_formula
from .errors import ChemistryError
from .ions import DEFAULT_IONS, Ion
from .qd import (
    CsOleate,
    HotInjectionRatios,
    LigandDose,
    coherence_length_nm,
    cs_delivered_mmol,
    cs_oleate,
    hot_injection_ratios,
    ligand_dose,
)
from .reagents import (
    Reagent,
    ReagentLibrary,
    default_library,
    infer_ions,
    molar_mass_g_mol,
)
from .solve import Solution, Targets, ion_targets_mmol, solve

__all__ = [
    "DEFAULT_IONS",
    "ChemistryError",
    "Component",
    "Composition",
    "CsOleate",
    "HotInjectionRatios",
    "Ion",
    "LigandDose",
    "Reagent",
    "ReagentLibrary",
    "Solution",
    "Targets",
    "amount_mmol",
    "coherence_length_nm",
    "component",
    "component_from_dict",
    "components_from_dicts",
    "composition",
    "cs_delivered_mmol",
    "cs_oleate",
    "default_library",
    "hot_injection_ratios",
    "infer_ions",
    "ion_targets_mmol",
    "ligand_dose",
    "mass_to_weigh_mg",
    "molar_mass_g_mol",
    "molarity_m",
    "normalize_unit",
    "parse_quantity",
    "perovskite_formula",
    "scale_components",
    "scale_to_volume",
    "solve",
    "stock_amount_mmol",
    "volume_to_dispense_ul",
]
