"""The demo data set: PROCESS.md (Liu, Dong et al., JACS 2021, doi 10.1021/jacs.1c02148) as
chemicals, versioned recipes, runs with actual values, one full lineage and two device stacks.

Every number is the paper's. Where the paper gives none (a spin speed for PMMA, an evaporation
rate) the parameter is left out rather than invented. Lot numbers are marked DEMO.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from devices.services import LayerSpec, device_create
from recipes.models import Chemical, ChemicalLot, RecipeStep, StepType
from recipes.services import ParamSpec, StepSpec, chemical_get_or_create, recipe_create
from samples.models import Project, SampleKind
from samples.services import run_complete, run_plan, run_record_actuals

A = RecipeStep.Action
COMPONENT, SOLVENT, MATERIAL, OUTCOME = "component", "solvent", "material", "outcome"

DEMO_PROJECT = "qd-in-matrix"
DEMO_USER = "demo"
DEMO_PASSWORD = "ledger-demo"  # printed by make run; change it on a shared server

# name, abbreviation, formula, ions, extra fields, (supplier, lot)
CHEMICALS = [
    ("Caesium carbonate", "Cs2CO3", "Cs2CO3", {"Cs": 2}, {"hazards": "H315 H319 H335"}),
    ("Oleic acid", "OAc", "C18H34O2", {}, {"density_g_ml": 0.895, "purity_wt_percent": 90, "is_solvent": True, "hazards": "H315 H319"}),
    ("1-Octadecene", "ODE", "C18H36", {}, {"density_g_ml": 0.789, "purity_wt_percent": 90, "is_solvent": True, "hazards": "H304"}),
    ("Oleylamine", "OAm", "C18H37N", {}, {"density_g_ml": 0.813, "purity_wt_percent": 70, "is_solvent": True, "hazards": "H302 H304 H314 H373 H410"}),
    ("Manganese(II) acetate tetrahydrate", "Mn(Ac)2·4H2O", "Mn(C2H3O2)2(H2O)4", {"Mn": 1}, {"hazards": "H318 H412"}),
    ("Lead(II) iodide", "PbI2", "PbI2", {"Pb": 1, "I": 2}, {"purity_wt_percent": 99.99, "hazards": "H302 H332 H360Df H373 H410"}),
    ("Zinc iodide", "ZnI2", "ZnI2", {"Zn": 1, "I": 2}, {"hazards": "H314 H410"}),
    ("Hydroiodic acid 57 wt %", "HI", "HI", {"I": 1}, {"density_g_ml": 1.70, "purity_wt_percent": 57, "hazards": "H290 H314"}),
    ("Methyl acetate", "MeOAc", "C3H6O2", {}, {"density_g_ml": 0.932, "is_solvent": True, "hazards": "H225 H319 H336"}),
    ("Toluene", "Tol", "C7H8", {}, {"density_g_ml": 0.867, "is_solvent": True, "hazards": "H225 H304 H315 H336 H361d H373"}),
    ("Isopropylammonium iodide", "IPAI", "C3H10NI", {"IPA": 1, "I": 1}, {"hazards": "H315 H319"}),
    ("Potassium iodide", "KI", "KI", {"K": 1, "I": 1}, {"hazards": "H372"}),
    ("N,N-Dimethylformamide", "DMF", "C3H7NO", {}, {"density_g_ml": 0.944, "is_solvent": True, "hazards": "H226 H312 H319 H332 H360D"}),
    ("Lead(II) bromide", "PbBr2", "PbBr2", {"Pb": 1, "Br": 2}, {"purity_wt_percent": 99.999, "hazards": "H302 H332 H360Df H373 H410"}),
    ("Caesium iodide", "CsI", "CsI", {"Cs": 1, "I": 1}, {"purity_wt_percent": 99.999}),
    ("Methylammonium iodide", "MAI", "CH3NH3I", {"MA": 1, "I": 1}, {"hazards": "H302 H315 H319"}),
    ("Phenethylammonium iodide", "PEAI", "C6H5CH2CH2NH3I", {"PEA": 1, "I": 1}, {"hazards": "H315 H319 H335"}),
    ("Dimethyl sulfoxide", "DMSO", "C2H6OS", {}, {"density_g_ml": 1.10, "is_solvent": True}),
    ("Chlorobenzene", "CB", "C6H5Cl", {}, {"density_g_ml": 1.11, "is_solvent": True, "hazards": "H226 H332 H411"}),
    ("2-Propanol", "", "C3H8O", {}, {"density_g_ml": 0.786, "is_solvent": True, "hazards": "H225 H319 H336"}),
    ("Acetone", "", "C3H6O", {}, {"density_g_ml": 0.784, "is_solvent": True, "hazards": "H225 H319 H336"}),
    ("Poly-TPD", "poly-TPD", "", {}, {}),
    ("PEDOT:PSS Clevios AL 4083", "PEDOT:PSS", "", {}, {}),
    ("Nafion perfluorinated ionomer", "PFI", "", {}, {}),
    ("Poly(methyl methacrylate)", "PMMA", "", {}, {}),
    ("TPBi", "TPBi", "C45H30N6", {}, {}),
    ("Lithium fluoride", "LiF", "LiF", {}, {"hazards": "H301 H315 H319"}),
    ("Aluminium", "Al", "Al", {}, {}),
]


def _chemicals() -> dict[str, Chemical]:
    out = {}
    for name, abbr, formula, ions, extra in CHEMICALS:
        chem = chemical_get_or_create(name=name, abbreviation=abbr, formula=formula, ions=ions, **extra)
        ChemicalLot.objects.get_or_create(
            chemical=chem, supplier="Demo supplier", lot_number=f"DEMO-{(abbr or name)[:12]}-01",
            defaults={"received_on": dt.date(2021, 1, 11), "expires_on": dt.date(2023, 1, 11),
                      "location": "Glovebox 1" if not extra.get("is_solvent") else "Solvent cabinet",
                      "amount_left": 5.0, "amount_unit": "g"},
        )
        out[abbr or name] = chem
    return out


def P(key, name, nominal=None, unit="", lo=None, hi=None, role="setting", chem=None, text="", stock=None):  # noqa: N802
    return ParamSpec(key=key, name=name, nominal=nominal, unit=unit, min_value=lo, max_value=hi, role=role,
                     chemical=chem, stock_mg_ml=stock, text_value=text,
                     value_type="text" if text and nominal is None and lo is None else "number")


def _recipes(c: dict[str, Chemical], user):
    r = {}
    ref = "Liu, Dong et al., J. Am. Chem. Soc. 2021, doi 10.1021/jacs.1c02148"
    r["cs_oleate"] = recipe_create(
        name="Cs-oleate precursor", step_type=StepType.CS_OLEATE, output_kind=SampleKind.CS_OLEATE, reference=ref, user=user,
        steps=[
            StepSpec("Load flask", A.ADD, params=[
                P("cs2co3", "Cs₂CO₃", 300, "mg", role=COMPONENT, chem=c["Cs2CO3"]),
                P("oac", "Oleic acid", 1.2, "mL", role=SOLVENT, chem=c["OAc"]),
                P("ode", "1-Octadecene", 3.2, "mL", role=SOLVENT, chem=c["ODE"]),
            ]),
            StepSpec("Dry", A.HEAT, "Room temperature under N₂", params=[P("time", "Drying time", 10, "min")]),
            StepSpec("Dissolve", A.HEAT, "Under N₂ until clear; keep above 100 °C until use", params=[
                P("temperature", "Dissolution temperature", 150, "°C"),
                P("hold", "Hold temperature until use", lo=100, unit="°C"),
            ]),
        ])
    r["qd"] = recipe_create(
        name="Mn-strained CsPbI₃ QDs (hot injection)", step_type=StepType.QD_SYNTHESIS, output_kind=SampleKind.QD_BATCH,
        reference=ref, user=user, description="Glovebox; 150 mL three-neck flask.",
        steps=[
            StepSpec("Load salts and solvents", A.ADD, params=[
                P("mnac", "Mn(Ac)₂·4H₂O", 300, "mg", role=COMPONENT, chem=c["Mn(Ac)2·4H2O"]),
                P("pbi2", "PbI₂", 200, "mg", role=COMPONENT, chem=c["PbI2"]),
                P("zni2", "ZnI₂", 360, "mg", role=COMPONENT, chem=c["ZnI2"]),
                P("oac", "Oleic acid", 4, "mL", role=SOLVENT, chem=c["OAc"]),
                P("oam", "Oleylamine", 4, "mL", role=SOLVENT, chem=c["OAm"]),
                P("ode", "1-Octadecene", 8, "mL", role=SOLVENT, chem=c["ODE"]),
            ]),
            StepSpec("Stir", A.MIX, params=[P("time", "Stir time", 1, "min")]),
            StepSpec("Add hydroiodic acid", A.ADD, params=[
                P("hi", "HI (57 wt %)", 300, "µL", role=COMPONENT, chem=c["HI"]),
                P("time", "Stir time", 3, "min"),
            ]),
            StepSpec("Vacuum drying", A.HEAT, params=[P("temperature", "Temperature", 110, "°C"), P("time", "Time", 15, "min")]),
            StepSpec("Heat to injection temperature", A.HEAT, "Under N₂", params=[P("temperature", "Injection temperature", 170, "°C")]),
            StepSpec("Inject Cs-oleate", A.INJECT, "Cs-oleate kept above 100 °C", params=[
                P("volume", "Cs-oleate volume", 0.85, "mL", 0.8, 0.9),
            ]),
            StepSpec("React and quench", A.QUENCH, "Ice-water bath", params=[P("time", "Reaction time", 1, "min")]),
            StepSpec("Purify", A.WASH, "Precipitate with methyl acetate, centrifuge, redisperse in toluene, centrifuge, keep supernatant", params=[
                P("meoac", "Methyl acetate", 30, "mL", role=SOLVENT, chem=c["MeOAc"]),
                P("speed", "Centrifuge speed", 7800, "rpm"),
                P("toluene", "Toluene for redispersion", 5, "mL", role=SOLVENT, chem=c["Tol"]),
                P("size", "Expected QD size", 4, "nm", role=OUTCOME),
                P("gap", "Expected optical gap", 1.9, "eV", role=OUTCOME),
            ]),
        ])
    iteration_then = "Vortex; centrifuge; reprecipitate with methyl acetate; redisperse in toluene"
    r["ligand"] = recipe_create(
        name="QD surface treatment IPAI/IPAI/KI", step_type=StepType.LIGAND_TREATMENT, output_kind=SampleKind.QD_INK,
        reference=ref, user=user, description="Input: ~5 mL QD solution at OD ≈ 40 (500 nm), precipitated with methyl acetate, redispersed in ~5 mL toluene.",
        steps=[
            StepSpec("Prepare QD solution", A.WASH, params=[
                P("volume", "QD solution", 5, "mL", role=SOLVENT, chem=c["Tol"]),
                P("od", "Optical density at 500 nm", 40, "OD"),
            ]),
            StepSpec("Iteration 1: IPAI", A.TREAT, iteration_then, params=[
                P("dose", "IPAI 250 mg/mL in DMF", 0.1, "mL", role=COMPONENT, chem=c["IPAI"], stock=250),
                P("speed", "Centrifuge speed", 7800, "rpm"), P("spin_time", "Centrifuge time", 30, "s"),
                P("meoac", "Methyl acetate", 20, "mL", role=SOLVENT, chem=c["MeOAc"]),
                P("toluene", "Toluene", 5, "mL", role=SOLVENT, chem=c["Tol"]),
            ]),
            StepSpec("Iteration 2: IPAI", A.TREAT, iteration_then, params=[
                P("dose", "IPAI 250 mg/mL in DMF", 50, "µL", role=COMPONENT, chem=c["IPAI"], stock=250),
                P("speed", "Centrifuge speed", 7800, "rpm"), P("spin_time", "Centrifuge time", 30, "s"),
                P("meoac", "Methyl acetate", 20, "mL", role=SOLVENT, chem=c["MeOAc"]),
                P("toluene", "Toluene", 5, "mL", role=SOLVENT, chem=c["Tol"]),
            ]),
            StepSpec("Iteration 3: KI", A.TREAT, iteration_then, params=[
                P("dose", "KI 200 mg/mL in DMF", 50, "µL", role=COMPONENT, chem=c["KI"], stock=200),
                P("speed", "Centrifuge speed", 7800, "rpm"), P("spin_time", "Centrifuge time", 30, "s"),
                P("meoac", "Methyl acetate", 20, "mL", role=SOLVENT, chem=c["MeOAc"]),
                P("toluene", "Toluene", 5, "mL", role=SOLVENT, chem=c["Tol"]),
            ]),
            StepSpec("Final ink", A.WASH, "Dissolve in 1:9 DMF/toluene, centrifuge, use immediately", params=[
                P("solvent", "Solvent", text="DMF/toluene 1:9"),
                P("speed", "Centrifuge speed", 15000, "rpm"),
            ]),
        ])
    r["matrix"] = recipe_create(
        name="Quasi-2D matrix precursor (40 % Br, n = 3)", step_type=StepType.PRECURSOR_SOLUTION,
        output_kind=SampleKind.PRECURSOR, reference=ref, user=user,
        description="PEA₂(Cs₀.₈MA₀.₂)₂Pb₃(I₀.₆Br₀.₄)₁₀, 0.4 M Pb, for 5–8 nm matrix films.",
        steps=[
            StepSpec("Weigh salts", A.ADD, params=[
                P("pbbr2", "PbBr₂", 146.80, "mg", role=COMPONENT, chem=c["PbBr2"]),
                P("pbi2", "PbI₂", 92.20, "mg", role=COMPONENT, chem=c["PbI2"]),
                P("csi", "CsI", 83.14, "mg", role=COMPONENT, chem=c["CsI"]),
                P("mai", "MAI", 12.72, "mg", role=COMPONENT, chem=c["MAI"]),
                P("peai", "PEAI", 99.64, "mg", role=COMPONENT, chem=c["PEAI"]),
            ]),
            StepSpec("Dissolve", A.MIX, "Stir in the N₂ glovebox", params=[
                P("dmso", "DMSO", 1.5, "mL", role=SOLVENT, chem=c["DMSO"]),
                P("time", "Stir time", 30, "min"),
            ]),
            StepSpec("Filter", A.FILTER, params=[P("filter", "Filter", text="0.45 µm PTFE")]),
        ])
    spin_common = [
        StepSpec("Dispense precursor", A.ADD, params=[P("aliquot", "Precursor aliquot", 200, "µL")]),
        StepSpec("Spin step 1", A.SPIN, params=[P("speed", "Speed", 1000, "rpm"), P("time", "Time", 10, "s")]),
        StepSpec("Spin step 2", A.SPIN, params=[P("speed", "Speed", 5000, "rpm"), P("time", "Time", 30, "s")]),
    ]
    anneal = [
        StepSpec("Anneal 1", A.ANNEAL, params=[P("temperature", "Temperature", 50, "°C", 45, 55), P("time", "Time", 2, "min")]),
        StepSpec("Anneal 2", A.ANNEAL, params=[P("temperature", "Temperature", 110, "°C"), P("time", "Time", 7.5, "min", 5, 10)]),
    ]
    r["film"] = recipe_create(
        name="QD-in-matrix film (QD-ink drip)", step_type=StepType.SPIN_COATING, output_kind=SampleKind.FILM,
        reference=ref, user=user, description="Glovebox. The QD ink acts as the antisolvent; its volume sets the QD/matrix ratio.",
        steps=spin_common + [
            StepSpec("QD ink drip", A.DRIP, "During spin step 2", params=[
                P("volume", "QD ink volume", 150, "µL", 100, 200),
                P("time", "Drip time (into step 2)", 26, "s", 25, 27),
            ]),
        ] + anneal + [
            StepSpec("Expected outcome", A.OTHER, params=[
                P("qd_fraction", "QD volume fraction", 17.5, "%", 15, 20, role=OUTCOME),
                P("half_distance", "Inter-QD half distance", 1.85, "nm", 1.7, 2.0, role=OUTCOME),
            ]),
        ])
    r["control_film"] = recipe_create(
        name="Matrix-only control film (antisolvent drip)", step_type=StepType.SPIN_COATING, output_kind=SampleKind.FILM,
        reference=ref, user=user, description="Same as the QD-in-matrix film with the antisolvent and no QDs.",
        steps=spin_common + [
            StepSpec("Antisolvent drip", A.DRIP, "DMF/toluene 1:9 without QDs, during spin step 2", params=[
                P("volume", "Antisolvent volume", 150, "µL", 100, 200),
                P("time", "Drip time (into step 2)", 26, "s", 25, 27),
            ]),
        ] + anneal)
    r["clean"] = recipe_create(
        name="ITO substrate cleaning", step_type=StepType.SUBSTRATE_CLEANING, output_kind=SampleKind.SUBSTRATE, reference=ref, user=user,
        steps=[
            StepSpec("Ultrasonic cleaning", A.CLEAN, params=[P("sequence", "Baths", text="DI water → acetone → 2-propanol")]),
            StepSpec("Dry", A.CLEAN, params=[P("method", "Drying", text="N₂ stream")]),
            StepSpec("ITO", A.OTHER, params=[P("thickness", "ITO thickness", 35, "nm", role=OUTCOME)]),
        ])
    r["polytpd"] = recipe_create(
        name="Poly-TPD hole transport layer", step_type=StepType.SPIN_COATING, output_kind=SampleKind.FILM, reference=ref, user=user,
        steps=[
            StepSpec("Solution", A.ADD, params=[P("conc", "Poly-TPD in chlorobenzene", 4, "mg/mL", chem=c["poly-TPD"])]),
            StepSpec("Spin", A.SPIN, params=[P("speed", "Speed", 1500, "rpm"), P("time", "Time", 45, "s")]),
            StepSpec("Anneal", A.ANNEAL, params=[P("temperature", "Temperature", 150, "°C"), P("time", "Time", 30, "min")]),
        ])
    r["pedot"] = recipe_create(
        name="PEDOT:PSS:PFI hole injection layer", step_type=StepType.SPIN_COATING, output_kind=SampleKind.FILM, reference=ref, user=user,
        description="Ambient. Clevios AL 4083 : Nafion = 1 : 0.99 by mass.",
        steps=[
            StepSpec("Mix", A.MIX, params=[P("ratio", "AL 4083 : Nafion (by mass)", text="1 : 0.99"), P("time", "Stir time", 2, "h")]),
            StepSpec("Filter", A.FILTER, params=[P("filter", "Filter", text="0.45 µm PVDF")]),
            StepSpec("Spin step 1", A.SPIN, params=[P("speed", "Speed", 500, "rpm"), P("time", "Time", 10, "s")]),
            StepSpec("Spin step 2", A.SPIN, params=[P("speed", "Speed", 4500, "rpm"), P("time", "Time", 90, "s"),
                                                     P("accel", "Acceleration", 250, "rpm/s")]),
            StepSpec("Anneal", A.ANNEAL, params=[P("temperature", "Temperature", 170, "°C"), P("time", "Time", 15, "min")]),
            StepSpec("Vacuum", A.OTHER, params=[P("time", "Vacuum time", 20, "min")]),
            StepSpec("Expected thickness", A.OTHER, params=[P("thickness", "Thickness", 150, "nm", role=OUTCOME)]),
        ])
    r["pmma"] = recipe_create(
        name="PMMA interlayer", step_type=StepType.SPIN_COATING, output_kind=SampleKind.FILM, reference=ref, user=user,
        steps=[
            StepSpec("Solution", A.ADD, params=[P("conc", "PMMA in methyl acetate", 1, "mg/mL", chem=c["PMMA"])]),
            StepSpec("Expected thickness", A.OTHER, params=[P("thickness", "Thickness", 1, "nm", role=OUTCOME)]),
        ])
    r["lif_htl"] = recipe_create(
        name="LiF interlayer (HTL side)", step_type=StepType.THERMAL_EVAPORATION, output_kind=SampleKind.FILM, reference=ref, user=user,
        steps=[StepSpec("Evaporate LiF", A.EVAPORATE, params=[
            P("material", "Material", text="LiF"), P("thickness", "Thickness", 2.5, "nm"), P("pressure", "Base pressure", 1e-7, "Torr", hi=1e-7)])])
    r["cathode"] = recipe_create(
        name="TPBi/LiF/Al cathode evaporation", step_type=StepType.THERMAL_EVAPORATION, output_kind=SampleKind.DEVICE, reference=ref, user=user,
        description="Through a shadow mask defining 0.09 cm² pixels.",
        steps=[
            StepSpec("Evaporate TPBi", A.EVAPORATE, params=[P("thickness", "Thickness", 35, "nm"), P("pressure", "Pressure", 1e-7, "Torr", hi=1e-7)]),
            StepSpec("Evaporate LiF", A.EVAPORATE, params=[P("thickness", "Thickness", 1, "nm"), P("pressure", "Pressure", 1e-7, "Torr", hi=1e-7)]),
            StepSpec("Evaporate Al", A.EVAPORATE, params=[P("thickness", "Thickness", 90, "nm"), P("pressure", "Pressure", 1e-7, "Torr", hi=1e-7)]),
            StepSpec("Shadow mask", A.OTHER, params=[P("pixel_area", "Pixel area", 0.09, "cm²")]),
        ])
    for stack, layers in STACKS.items():
        r[f"stack_{stack}"] = recipe_create(
            name=f"Device stack {stack}", step_type=StepType.DEVICE_ARCHITECTURE, output_kind=SampleKind.DEVICE, reference=ref, user=user,
            description=" / ".join(m for m, *_ in layers),
            steps=[StepSpec(f"{m}", A.LAYER, how, params=[P("thickness", "Thickness", t, "nm", role=MATERIAL)] if t else
                            [P("material", "Material", text=m, role=MATERIAL)]) for m, t, _fn, how in layers]
            + [StepSpec("Pixels", A.OTHER, params=[P("pixel_area", "Pixel area", 0.09, "cm²"), P("pixels", "Pixels per substrate", 4, "")])])
    return r


# material, nominal thickness nm (None where the paper gives none), function, method
STACKS = {
    "A": [("ITO", 35, "anode", "substrate"), ("poly-TPD", None, "HTL", "spin-coat"), ("LiF", 2.5, "interlayer", "thermal evaporation"),
          ("QD-in-matrix", None, "EML", "spin-coat"), ("PMMA", 1, "interlayer", "spin-coat"), ("TPBi", 35, "ETL", "thermal evaporation"),
          ("LiF", 1, "EIL", "thermal evaporation"), ("Al", 90, "cathode", "thermal evaporation")],
    "B": [("ITO", None, "anode", "substrate"), ("PEDOT:PSS:PFI", 150, "HTL", "spin-coat"), ("QD-in-matrix", None, "EML", "spin-coat"),
          ("PMMA", 1, "interlayer", "spin-coat"), ("TPBi", 35, "ETL", "thermal evaporation"), ("LiF", 1, "EIL", "thermal evaporation"),
          ("Al", 90, "cathode", "thermal evaporation")],
}


def _lots(c, *abbrs):
    return [c[a].lots.first() for a in abbrs]


def _run(version, project, user, *, day, inputs=(), lots=(), actuals=None, outputs=1, volume=None, o2=0.3, h2o=0.1, notes=""):
    run = run_plan(version=version, project=project, operator=user, planned_date=day, inputs=inputs, lots=lots,
                   batch_volume_ml=volume, notes=notes)
    run.glovebox_o2_ppm, run.glovebox_h2o_ppm, run.temperature_c = o2, h2o, 24.0
    run.save(update_fields=["glovebox_o2_ppm", "glovebox_h2o_ppm", "temperature_c"])
    if actuals:
        run_record_actuals(run, actuals)
    return run, run_complete(run, outputs=outputs, location="Glovebox 1")


@transaction.atomic
def load_demo(*, media_dir: Path | None = None, stdout=None) -> dict:
    """Load PROCESS.md. Returns a summary; does nothing when the demo project exists (idempotent)."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=DEMO_USER, defaults={"is_staff": True, "is_superuser": True,
                                                                               "first_name": "Demo", "last_name": "Operator"})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    if Project.objects.filter(code=DEMO_PROJECT).exists():
        return {"created": False, "user": user}
    project = Project.objects.create(code=DEMO_PROJECT, name="QD-in-matrix red PeLEDs (JACS 2021)",
                                     description="Reference process: Liu, Dong et al., J. Am. Chem. Soc. 2021.")
    project.members.add(user)
    c = _chemicals()
    r = _recipes(c, user)
    d = dt.date(2021, 3, 1)

    _, (cso,) = _run(r["cs_oleate"], project, user, day=d, lots=_lots(c, "Cs2CO3", "OAc", "ODE"),
                     actuals={"1.cs2co3": (300.4, "mg"), "1.oac": (1.2, "mL"), "1.ode": (3.2, "mL"), "3.temperature": (150, "°C")})
    _, (qd,) = _run(r["qd"], project, user, day=d, inputs=[cso], lots=_lots(c, "Mn(Ac)2·4H2O", "PbI2", "ZnI2", "HI", "OAc", "OAm", "ODE"),
                    actuals={"1.mnac": (300.1, "mg"), "1.pbi2": (200.3, "mg"), "1.zni2": (359.8, "mg"), "3.hi": (300, "µL"),
                             "5.temperature": (170, "°C"), "6.volume": (0.85, "mL"), "7.time": (1, "min")})
    _, (ink,) = _run(r["ligand"], project, user, day=d + dt.timedelta(days=1), inputs=[qd], lots=_lots(c, "IPAI", "KI", "DMF", "MeOAc", "Tol"),
                     actuals={"2.dose": (0.1, "mL"), "3.dose": (50, "µL"), "4.dose": (50, "µL")})
    _, (pre,) = _run(r["matrix"], project, user, day=d + dt.timedelta(days=1), volume=1.5, lots=_lots(c, "PbBr2", "PbI2", "CsI", "MAI", "PEAI", "DMSO"),
                     actuals={"1.pbbr2": (146.9, "mg"), "1.pbi2": (92.1, "mg"), "1.csi": (83.2, "mg"), "1.mai": (12.7, "mg"),
                              "1.peai": (99.7, "mg"), "2.dmso": (1.5, "mL")})
    _, subs = _run(r["clean"], project, user, day=d + dt.timedelta(days=2), outputs=3, o2=None, h2o=None)
    _, (film,) = _run(r["film"], project, user, day=d + dt.timedelta(days=2), inputs=[ink, pre],
                      actuals={"2.speed": (1000, "rpm"), "3.speed": (5000, "rpm"), "4.volume": (150, "µL"), "4.time": (26, "s"),
                               "5.temperature": (50, "°C"), "6.time": (7, "min")})
    _, (control_film,) = _run(r["control_film"], project, user, day=d + dt.timedelta(days=2), inputs=[pre],
                              actuals={"4.volume": (150, "µL")})

    devices = {}
    for stack, sub, inputs, name in (("A", subs[0], [ink, pre], "QD-in-matrix LED, stack A"),
                                     ("B", subs[1], [ink, pre], "QD-in-matrix LED, stack B"),
                                     ("A", subs[2], [ink], "QD-only control LED, stack A")):
        eml_run = eml = None
        if pre in inputs:
            # The emissive layer is spin-coated on the device substrate with the same film recipe, so
            # a device's lineage carries the film run's drip volume (what Compare plots against EQE).
            eml_run, (eml,) = _run(r["film"], project, user, day=d + dt.timedelta(days=3), inputs=[sub, ink, pre],
                                   actuals={"4.volume": (150, "µL"), "4.time": (26, "s")})
            eml.name = f"QD-in-matrix EML on {sub.label}"
            eml.save(update_fields=["name"])
        run, (dev,) = _run(r[f"stack_{stack}"], project, user, day=d + dt.timedelta(days=3),
                           inputs=[sub, *inputs, *([eml] if eml else [])])
        dev.name = name
        dev.save(update_fields=["name"])
        layers = []
        for material, thickness, function, method in STACKS[stack]:
            layer_run, source = run, sub if material == "ITO" else None
            if function == "EML":
                material = "QD-in-matrix" if eml else "QDs only"
                layer_run, source = (eml_run, eml) if eml else (run, ink)
            layers.append(LayerSpec(material=material, function=function, nominal_thickness_nm=thickness, method=method,
                                    run=layer_run, source=source))
        devices[name] = device_create(sample=dev, layers=layers, pixel_area_cm2=0.09, stack_name=f"Stack {stack}",
                                      architecture=r[f"stack_{stack}"])
    summary = {"created": True, "user": user, "project": project, "cs_oleate": cso, "qd": qd, "ink": ink, "precursor": pre,
               "film": film, "control_film": control_film, "devices": devices}
    from measurements.demo import load_demo_measurements  # looked up per call: tests patch it to skip the files

    summary["measurements"] = load_demo_measurements(summary, user=user)
    return summary
