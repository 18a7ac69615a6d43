"""The demo campaign (insights.science.campaign) written into the database with the ordinary
services: recipe revisions, lots, runs with their actual values and lots, samples, devices and
the forward-modelled files through measurement_file_ingest (so every metric is the real
pipeline's). Called by load_demo after the PROCESS.md chain, into the same project.

Idempotent on its own: it does nothing when the film recipe already has its campaign versions.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from devices.services import LayerSpec, device_create
from measurements.models import Instrument
from measurements.services import measurement_file_ingest
from recipes.models import Chemical, ChemicalLot, Recipe, RecipeVersion
from recipes.services import recipe_version_revise
from samples.models import Project
from samples.services import run_complete, run_plan, run_record_actuals, run_set_conditions

from .science import campaign as cg

FILM = "QD-in-matrix film (QD-ink drip)"
MATRIX = "Quasi-2D matrix precursor (40 % Br, n = 3)"
QD = "Mn-strained CsPbI₃ QDs (hot injection)"
LIGAND = "QD surface treatment IPAI/IPAI/KI"
CS_OLEATE = "Cs-oleate precursor"
CLEAN = "ITO substrate cleaning"
STACK_A = "Device stack A"
MATRIX_SCREENING_NOTE = "PEA/Pb screening: PEAI 80–120 mg in 1.5 mL (PEA/Pb 0.54–0.80, ⟨n⟩ 3.7–2.5)"
STACK_A_LAYERS = [("ITO", 35, "anode", "substrate"), ("poly-TPD", None, "HTL", "spin-coat"),
                  ("LiF", 2.5, "interlayer", "thermal evaporation"), ("QD-in-matrix", None, "EML", "spin-coat"),
                  ("PMMA", 1, "interlayer", "spin-coat"), ("TPBi", 35, "ETL", "thermal evaporation"),
                  ("LiF", 1, "EIL", "thermal evaporation"), ("Al", 90, "cathode", "thermal evaporation")]
NEW_LOTS = {cg.BAD_LOT: dt.date(2021, 3, 29), cg.NEW_LOT: dt.date(2021, 4, 5)}  # lot → received


def _v1(name: str) -> RecipeVersion:
    return Recipe.objects.get(name=name).versions.get(number=1)


def _lot(abbr: str, number: str | None = None) -> ChemicalLot:
    lots = ChemicalLot.objects.filter(chemical__abbreviation=abbr)
    return lots.get(lot_number=number) if number else lots.order_by("received_on", "pk").first()


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.UTC)


def _run(version, project, user, *, day, inputs=(), lots=(), actuals=None, outputs=1, volume=None, name=""):
    run = run_plan(version=version, project=project, operator=user, planned_date=day, inputs=inputs, lots=lots,
                   batch_volume_ml=volume, notes="Demo campaign")
    run_set_conditions(run, glovebox_o2_ppm=0.3, glovebox_h2o_ppm=0.1, temperature_c=24.0)
    if actuals:
        run_record_actuals(run, actuals)
    return run, run_complete(run, outputs=outputs, location="Glovebox 1", name=name,
                             started_at=_at(day, 9), finished_at=_at(day, 11))


def campaign_loaded() -> bool:
    return RecipeVersion.objects.filter(recipe__name=FILM, number__gte=2).exists()


@transaction.atomic
def load_campaign(*, project: Project, user, campaign: cg.Campaign | None = None) -> dict:
    """Write the campaign; returns {"devices": [...], "runs": n, "files": n}. Needs the PROCESS.md
    recipes and chemicals (load_demo makes them first)."""
    if campaign_loaded():
        return {"created": False}
    c = campaign or cg.generate()
    film = {1: _v1(FILM)}
    film[2] = recipe_version_revise(film[1], changes={"6.time": {"nominal": cg.SECOND_ANNEAL_MIN_BY_VERSION[2]}},
                                    notes=cg.FILM_VERSION_NOTES[2], user=user)
    film[3] = recipe_version_revise(film[2], changes={"4.volume": {"nominal": cg.DRIP_NOMINAL_UL_BY_VERSION[3]}},
                                    notes=cg.FILM_VERSION_NOTES[3], user=user)
    matrix = recipe_version_revise(_v1(MATRIX), changes={"1.peai": {"min_value": cg.PEAI_RANGE_MG[0],
                                                                    "max_value": cg.PEAI_RANGE_MG[1]}},
                                   notes=MATRIX_SCREENING_NOTE, user=user)
    qd, ligand, cso, clean, stack = _v1(QD), _v1(LIGAND), _v1(CS_OLEATE), _v1(CLEAN), _v1(STACK_A)
    peai = Chemical.objects.get(abbreviation="PEAI")
    for number, received in NEW_LOTS.items():
        ChemicalLot.objects.get_or_create(chemical=peai, supplier="Demo supplier", lot_number=number, defaults={
            "received_on": received, "expires_on": received + dt.timedelta(days=730), "location": "Glovebox 1",
            "amount_left": 5.0, "amount_unit": "g"})
    ink_lots = [_lot(a) for a in ("IPAI", "KI", "DMF", "MeOAc", "Tol")]
    qd_lots = [_lot(a) for a in ("Mn(Ac)2·4H2O", "PbI2", "ZnI2", "HI", "OAc", "OAm", "ODE")]
    matrix_lots = [_lot(a) for a in ("PbBr2", "PbI2", "CsI", "MAI", "DMSO")]
    n_runs = 0
    inks, precursors, substrates = {}, {}, {}
    for week in range(1, c.weeks + 1):
        monday = cg.START + dt.timedelta(weeks=week - 1)
        w = c.weekly_ink[week]
        _, (cs,) = _run(cso, project, user, day=monday, lots=[_lot("Cs2CO3"), _lot("OAc"), _lot("ODE")],
                        actuals={"1.cs2co3": (w["cs2co3_mg"], "mg")})
        _, (qd_batch,) = _run(qd, project, user, day=monday, inputs=[cs], lots=qd_lots,
                              actuals={"5.temperature": (w["injection_c"], "°C"), "6.volume": (w["injection_ml"], "mL")})
        _, (ink,) = _run(ligand, project, user, day=monday, inputs=[qd_batch], lots=ink_lots)
        _, subs = _run(clean, project, user, day=monday, outputs=cg.DEVICES_PER_WEEK)
        inks[week], substrates[week] = ink, list(subs)
        n_runs += 4
    for batch in c.precursors:
        _, (pre,) = _run(matrix, project, user, day=batch.day, volume=1.5,
                         lots=[*matrix_lots, _lot("PEAI", batch.peai_lot)],
                         actuals={f"1.{k}": (v, "mg") for k, v in batch.masses_mg.items()} | {"2.dmso": (1.5, "mL")},
                         name=f"PEA/Pb {batch.pea_pb:.3f} ({batch.peai_lot})")
        precursors[batch.index] = pre
        n_runs += 1
    devices = []
    for d in c.devices:
        sub = substrates[d.week][d.index % cg.DEVICES_PER_WEEK]
        ink, pre = inks[d.week], precursors[d.precursor]
        k = d.knobs
        eml_run, (eml,) = _run(film[d.film_version], project, user, day=d.day, inputs=[sub, ink, pre],
                               actuals={"4.volume": (k.drip_ul, "µL"), "4.time": (k.drip_s, "s"),
                                        "5.temperature": (k.anneal_c, "°C")},
                               name=f"QD-in-matrix EML on {sub.label}")
        run, (dev,) = _run(stack, project, user, day=d.day, inputs=[sub, ink, pre, eml],
                           name=f"Campaign week {d.week} · v{d.film_version} · {k.drip_ul:.0f} µL, {k.anneal_c:.1f} °C")
        n_runs += 2
        layers = []
        for material, thickness, function, method in STACK_A_LAYERS:
            layer_run, source = (eml_run, eml) if function == "EML" else (run, sub if material == "ITO" else None)
            layers.append(LayerSpec(material=material, function=function, nominal_thickness_nm=thickness, method=method,
                                    run=layer_run, source=source))
        devices.append(device_create(sample=dev, layers=layers, pixel_area_cm2=cg.PIXEL_AREA_CM2, stack_name="Stack A",
                                     architecture=stack))
    files = _ingest(c, devices, user)
    return {"created": True, "devices": devices, "runs": n_runs, "files": files,
            "film_versions": film, "matrix_version": matrix}


def _metadata(d: cg.DeviceData, pixel: str) -> dict:
    # Every analysis stores its charts (curves for the browser: milliseconds), so every pixel's
    # figures show; the old {"plots": false} switch is gone with the figures drawn in the worker.
    return {"source": "demo campaign"}


def _ingest(c: cg.Campaign, devices: list, user) -> int:
    rig, _ = Instrument.objects.get_or_create(name="J-L-V rig 1", defaults={"kind": "jlv", "model": "Keithley 2400 + QE Pro"})
    rack, _ = Instrument.objects.get_or_create(name="Lifetime rack", defaults={"kind": "lifetime"})
    n = 0
    for d, device in zip(c.devices, devices, strict=True):
        pixels = {p.name: p for p in device.pixels.all()}
        for px in d.pixels:
            pixel = pixels[px.name]
            when = d.measured_at
            # J-L-V first: the spectrum arriving second starts the pair's analysis (one analysis per pixel).
            for content, name, kind in ((px.jlv, f"{pixel.label}_jlv.csv", "jlv"), (px.el, f"{pixel.label}_el.txt", "el")):
                measurement_file_ingest(content=content, filename=name, sample=device.sample, pixel=pixel, kind=kind,
                                        instrument=rig, user=user, measured_at=when, metadata=_metadata(d, px.name))
                n += 1
        pixel = pixels[d.lifetime_pixel]
        measurement_file_ingest(content=d.lifetime, filename=f"{pixel.label}_lifetime.csv", sample=device.sample, pixel=pixel,
                                kind="lifetime", instrument=rack, user=user,
                                measured_at=d.measured_at + dt.timedelta(days=1), metadata=_metadata(d, d.lifetime_pixel))
        n += 1
    return n
