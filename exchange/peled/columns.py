"""The column dictionary of the PeLED table: name, unit and what LEDger puts there.

Names up to the LED block are the Perovskite Database Project's own; the ``LED_*`` block and the
two ``Perovskite_composition_ledger_*`` columns are LEDger's. docs/peled-columns.md is generated
from this list (``python manage.py export_peled --dictionary``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    unit: str
    description: str


_C = Column
COLUMNS: list[Column] = [
    _C("Ref_ID", "", "LEDger label of the device sample (DEV-0001)."),
    _C("Ref_name_of_person_entering_the_data", "", "Operator of the device's run, else its owner."),
    _C("Ref_data_entered_by_author", "", "TRUE: the lab that made the device exports it."),
    _C("Ref_DOI_number", "", "DOI found in the reference of the device's architecture recipe (empty when none)."),
    _C("Ref_free_text_comment", "", "That reference as written in the recipe."),
    _C("Cell_stack_sequence", "", "Every layer from the substrate side up, materials separated by ' | '."),
    _C("Cell_area_total", "cm²", "Area of one pixel (a pixel is one cell; LEDger has no larger cell area)."),
    _C("Cell_area_measured", "cm²", "Area of one pixel as used for current density (shadow-mask aperture)."),
    _C("Cell_number_of_cells_per_substrate", "", "Pixels on the substrate."),
    _C("Cell_architecture", "", "'pin' when the hole-transport side is on the substrate, else 'nip'."),
    _C("Substrate_stack_sequence", "", "Layers made by the substrate step (e.g. ITO); the glass is not recorded."),
    _C("HTL_stack_sequence", "", "Layers between the substrate electrode and the perovskite (pin) or above it (nip)."),
    _C("HTL_thickness_list", "nm", "Thickness per HTL layer, measured else nominal; 'nan' when unknown."),
    _C("HTL_deposition_procedure", "", "Per layer: Spin-coating, Evaporation, … separated by ' | '."),
    _C("Perovskite_composition_perovskite_ABC3_structure", "", "TRUE when the engine gives a perovskite formula."),
    _C("Perovskite_composition_a_ions", "", "A-site ions and spacer cations, alphabetical, '; '-separated, 3+ letters bracketed."),
    _C("Perovskite_composition_a_ions_coefficients", "", "Their coefficients per formula unit L2A(n−1)BnX(3n+1) (ABX3 without spacer)."),
    _C("Perovskite_composition_b_ions", "", "B-site ions."),
    _C("Perovskite_composition_b_ions_coefficients", "", "Their coefficients (⟨n⟩ for a quasi-2D phase)."),
    _C("Perovskite_composition_c_ions", "", "Halides (X site)."),
    _C("Perovskite_composition_c_ions_coefficients", "", "Their coefficients (3n+1 in all)."),
    _C("Perovskite_composition_long_form", "", "Ions with coefficients, coefficient 1 omitted: (PEA)2Cs1.6MA0.4Pb3Br4I6."),
    _C("Perovskite_composition_short_form", "", "Ions without coefficients."),
    _C("Perovskite_composition_assumption", "", "Where the composition comes from (the matrix precursor and its nominal stoichiometry), or why it is empty."),
    _C("Perovskite_composition_inorganic", "", "TRUE when no organic cation is on the A site."),
    _C("Perovskite_composition_leadfree", "", "TRUE when Pb is not on the B site."),
    _C("Perovskite_composition_ledger_formula", "", "LEDger: the engine's formula of the nominal solution, PEA2(Cs0.8MA0.2)2Pb3(I0.6Br0.4)10."),
    _C("Perovskite_composition_ledger_formula_weighed", "", "LEDger: the same from the amounts the run logged."),
    _C("Perovskite_dimension_0D", "", "TRUE when quantum dots (a QD batch) are in the device's lineage."),
    _C("Perovskite_dimension_2D", "", "TRUE for a pure 2D phase (⟨n⟩ = 1)."),
    _C("Perovskite_dimension_2D3D_mixture", "", "TRUE for a quasi-2D phase (spacer with ⟨n⟩ > 1)."),
    _C("Perovskite_dimension_3D", "", "TRUE for a 3D perovskite (no spacer)."),
    _C("Perovskite_thickness", "nm", "Emissive layer thickness, measured else nominal (empty when unknown)."),
    _C("Perovskite_band_gap", "eV", "Optical gap from a Tauc analysis of an absorbance file on the EML or its ancestors; empty otherwise."),
    _C("Perovskite_band_gap_estimation_basis", "", "'Absorption Tauc-plot' when the band gap is given."),
    _C("Perovskite_pl_max", "nm", "PL peak measured on the EML film or its ancestors (not on sibling films)."),
    _C("Perovskite_deposition_number_of_deposition_steps", "", "Depositions in the EML run (a two-speed spin programme is one)."),
    _C("Perovskite_deposition_procedure", "", "Those depositions separated by ' >> '."),
    _C("Perovskite_deposition_solvents", "", "Solvents of the matrix precursor, '; '-separated."),
    _C("Perovskite_deposition_quenching_induced_crystallisation", "", "TRUE when the EML run has a drip (antisolvent or QD ink)."),
    _C("Perovskite_deposition_quenching_media", "", "What was dripped (the drip's input sample)."),
    _C("Perovskite_deposition_quenching_media_volume", "µL", "Drip volume, actual else planned."),
    _C("Perovskite_deposition_thermal_annealing_temperature", "°C", "Anneal temperatures in order, ' >> '-separated."),
    _C("Perovskite_deposition_thermal_annealing_time", "min", "Anneal times in order, ' >> '-separated."),
    _C("ETL_stack_sequence", "", "Layers between the perovskite and the back contact (pin), or below it (nip)."),
    _C("ETL_thickness_list", "nm", "Thickness per ETL layer; 'nan' when unknown."),
    _C("ETL_deposition_procedure", "", "Per layer, ' | '-separated."),
    _C("Backcontact_stack_sequence", "", "The top electrode (layers with function cathode/anode above the EML)."),
    _C("Backcontact_thickness_list", "nm", "Their thicknesses."),
    _C("Backcontact_deposition_procedure", "", "Their deposition."),
    _C("Encapsulation", "", "TRUE when the device is marked encapsulated."),
    _C("LED_pixel_hero", "", "LEDger: the pixel with the highest current EQE max; every LED_* figure below up to LED_PE_max is that pixel's."),
    _C("LED_pixels_measured", "", "Pixels of the device with a J-L-V analysis."),
    _C("LED_EL_peak_wavelength", "nm", "EL peak after dark/baseline subtraction (el_peak_wavelength)."),
    _C("LED_EL_FWHM", "nm", "EL full width at half maximum (el_fwhm)."),
    _C("LED_CIE_x", "", "CIE 1931 2° chromaticity x of the EL spectrum."),
    _C("LED_CIE_y", "", "CIE 1931 2° chromaticity y."),
    _C("LED_EQE_max", "%", "Maximum external quantum efficiency over the sweep (Lambertian)."),
    _C("LED_J_at_EQE_max", "mA/cm²", "Current density where EQE max occurs."),
    _C("LED_EQE_at_100mA_cm2", "%", "EQE interpolated at 100 mA/cm² (roll-off); empty when the sweep stops below."),
    _C("LED_L_max", "cd/m²", "Maximum luminance."),
    _C("LED_V_on", "V", "Turn-on voltage: lowest V with L ≥ 1 cd/m² (interpolated)."),
    _C("LED_CE_max", "cd/A", "Maximum current efficiency."),
    _C("LED_PE_max", "lm/W", "Maximum power efficacy."),
    _C("LED_stability_pixel", "", "The pixel with the longest T50 (its own T50 and L0 below)."),
    _C("LED_stability_T50", "h", "Time to 50 % of the initial luminance at constant current."),
    _C("LED_stability_L0", "cd/m²", "Initial luminance of that lifetime run."),
    _C("LED_stability_acceleration_n", "", "Exponent n of L0ⁿ·T50 = C fitted over the device's lifetime runs."),
    _C("LED_stability_T50_at_100cd_m2", "h", "T50 extrapolated to L0 = 100 cd/m² with that fit."),
    _C("LED_stability_drive_mode", "", "'Constant current' (how LEDger's lifetime rack drives the pixels)."),
]

COLUMN_NAMES = [c.name for c in COLUMNS]


def dictionary_markdown() -> str:
    lines = ["| column | unit | what LEDger puts there |", "| --- | --- | --- |"]
    lines += [f"| `{c.name}` | {c.unit} | {c.description} |" for c in COLUMNS]
    return "\n".join(lines) + "\n"
