"""A lab's decade in one database: the scale fixture of issue 15, bulk-loaded in minutes.

At ``scale=1`` it is the shape the issue measured: ≈100k samples, 130k lineage links, 30k runs,
310k run values, 40k devices, 160k pixels (and 200k layers), 320k measurement files, 160k analyses
(320k source links) and 1M metrics, of which ≈200k are current (every measured pixel was measured five
times; the four older analyses and their metrics are superseded, as re-measurement leaves them).
``scale`` multiplies every count, so a test loads a twentieth in seconds.

Rows go in with PostgreSQL's COPY (batched INSERTs elsewhere, e.g. SQLite in the tests), with ids
assigned here and sequences moved past them afterwards; the small lab-wide parts (users, projects,
recipes, instruments) go through the ORM. It writes straight into the tables — no services, no
history rows, no tasks — because it stands for data that the services wrote over ten years, and
building it through them would take days.

What is shared rather than distinct, to keep the load to minutes and the database near the issue's
size: every J-L-V file row points at one stored copy of the public sweep (every EL row at one
spectrum; sha256 values are distinct), the current analyses carry the real stored curves of that
pair (≈24 kB of JSON each) while superseded analyses keep only their metrics, and each current analysis
has one small plot (the real ones are the pipeline's business, issue 15's other half).

Users: ``alice`` (member of one project), ``lead`` (five projects), ``admin`` (superuser), all with
the password ``scale`` — a fixture for a benchmark database, never for a lab's server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction

from core.models import LabelCounter
from measurements.models import Instrument
from recipes.models import Recipe, RecipeParameter, RecipeStep, RecipeVersion
from samples.models import Project
from samples.services import MARK_ALL_MEASURED_SQL

PASSWORD = "scale"
PROJECTS = 20
LEAD_PROJECTS = 5
PIXELS = "ABCD"
ROUNDS = 5  # J-L-V + EL measurements of a measured pixel over its life; the last is current
MEASURED_FRACTION = 0.2  # devices that were measured at all (the rest shorted, or were never tested)
START = dt.datetime(2015, 1, 5, 9, 0, tzinfo=dt.UTC)
DECADE = dt.timedelta(days=3650)
# Metrics one pixel analysis stores, and the device roll-ups of a round (name, aggregate).
PIXEL_METRICS = {"eqe_max": "%", "luminance_max": "cd/m²", "turn_on_voltage": "V", "el_peak_wavelength": "nm",
                 "cie_x": ""}
ROLLUPS = [("eqe_max", "best"), ("eqe_max", "median"), ("luminance_max", "best"), ("luminance_max", "median"),
           ("el_peak_wavelength", "median")]
PUBLIC = Path(settings.BASE_DIR) / "tests" / "data" / "public"
JLV_NAME, EL_NAME = "jlv_sweep.csv", "el_spectrum.txt"


@dataclass(frozen=True)
class Counts:
    """Row counts at a scale; everything else follows from these."""

    runs_per_type: int  # QD synthesis, ligand treatment, precursor solution (each)
    film_runs: int
    device_runs: int
    substrates: int

    @classmethod
    def at(cls, scale: float) -> Counts:
        n = lambda x: max(1, round(x * scale))  # noqa: E731
        return cls(runs_per_type=n(3000), film_runs=n(6000), device_runs=n(15000), substrates=n(30000))


@dataclass
class Summary:
    counts: dict[str, int]
    seconds: float


# --- writing rows -------------------------------------------------------------------------------

def _plain(value):
    # SQLite has no datetime or boolean type: Django stores UTC text and 0/1.
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def write(table: str, columns: Sequence[str], rows: Iterable[Sequence], batch: int = 5000) -> int:
    """COPY on PostgreSQL, executemany INSERT elsewhere. Returns the number of rows."""
    n = 0
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            return n
        sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"
        chunk: list[tuple] = []
        for row in rows:
            chunk.append(tuple(_plain(v) for v in row))
            if len(chunk) >= batch:
                cursor.executemany(sql, chunk)
                n += len(chunk)
                chunk.clear()
        if chunk:
            cursor.executemany(sql, chunk)
            n += len(chunk)
    return n


def reset_sequences(tables: Iterable[str]) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite's AUTOINCREMENT follows the largest id by itself
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"COALESCE((SELECT MAX(id) FROM {table}), 1))")


# --- the lab-wide parts (ORM) -------------------------------------------------------------------

@dataclass
class Lab:
    users: dict[str, int]
    operators: list[int]
    projects: list[int]
    # step type → (version ids, [(parameter id, nominal, unit) per version])
    recipes: dict[str, tuple[list[int], list[list[tuple[int, float, str]]]]]
    architecture_versions: list[int]
    instruments: dict[str, int]


# (step type, output kind, recipe name, parameters (key, unit, nominal)) — numbers of the order of the
# paper's; parameter count per run sets the run-value total (≈10 per run).
RECIPES = [
    ("qd_synthesis", "qd_batch", "Mn-CsPbI3 QD hot injection",
     [("pbi2_mass", "mg", 173.0), ("mnac_mass", "mg", 60.0), ("ode_volume", "mL", 10.0), ("oac_volume", "mL", 1.0),
      ("oam_volume", "mL", 1.0), ("dry_temperature", "°C", 120.0), ("dry_time", "min", 60.0),
      ("injection_temperature", "°C", 170.0), ("csoleate_volume", "mL", 0.8), ("reaction_time", "s", 5.0)]),
    ("ligand_treatment", "qd_ink", "IPAI/KI ligand treatment",
     [("ipai_dose", "µL", 50.0), ("ki_dose", "µL", 30.0), ("toluene_volume", "mL", 2.0), ("stir_time", "min", 10.0),
      ("centrifuge_speed", "rpm", 8000.0), ("centrifuge_time", "min", 5.0), ("meoac_volume", "mL", 4.0),
      ("redisperse_volume", "mL", 1.0), ("filter_size", "µm", 0.22), ("ink_concentration", "mg/mL", 20.0)]),
    ("precursor_solution", "precursor_solution", "Quasi-2D PEA2(Cs0.8MA0.2)2Pb3 precursor",
     [("pbbr2_mass", "mg", 146.8), ("pbi2_mass", "mg", 92.2), ("csi_mass", "mg", 83.1), ("mai_mass", "mg", 12.7),
      ("peai_mass", "mg", 99.6), ("dmso_volume", "mL", 1.0), ("stir_temperature", "°C", 60.0),
      ("stir_time", "h", 2.0), ("filter_size", "µm", 0.45), ("concentration", "M", 0.5)]),
    ("spin_coating", "film", "QD-in-matrix film",
     [("spin_speed", "rpm", 3000.0), ("spin_time", "s", 60.0), ("acceleration", "rpm/s", 1000.0),
      ("drip_delay", "s", 15.0), ("drip_volume", "µL", 100.0), ("anneal_temperature", "°C", 70.0),
      ("anneal_time", "min", 10.0), ("precursor_volume", "µL", 40.0), ("glovebox_o2", "ppm", 0.5),
      ("thickness", "nm", 40.0)]),
    ("device_architecture", "device", "Stack A (poly-TPD/LiF)",
     [("pedot_speed", "rpm", 4000.0), ("pedot_anneal", "°C", 150.0), ("polytpd_speed", "rpm", 2000.0),
      ("polytpd_anneal", "°C", 150.0), ("eml_speed", "rpm", 3000.0), ("tpbi_thickness", "nm", 40.0),
      ("tpbi_rate", "Å/s", 1.0), ("lif_thickness", "nm", 1.0), ("al_thickness", "nm", 100.0),
      ("base_pressure", "mbar", 5e-6), ("pixel_area", "cm²", 0.09)]),
]
VERSIONS = 3


def _lab(rng: random.Random) -> Lab:
    User = get_user_model()
    password = make_password(PASSWORD)
    users = {}
    for name, su in [("admin", True), ("lead", False), ("alice", False)]:
        u, _ = User.objects.update_or_create(username=name, defaults={
            "is_superuser": su, "is_staff": su, "password": password, "email": f"{name}@lab.example"})
        users[name] = u.pk
    operators = []
    for i in range(1, 21):
        u, _ = User.objects.update_or_create(username=f"op{i:02d}", defaults={"password": password})
        operators.append(u.pk)
    projects = []
    for i in range(1, PROJECTS + 1):
        p, _ = Project.objects.update_or_create(code=f"p{i:02d}", defaults={"name": f"Project {i:02d}"})
        projects.append(p.pk)
        members = [operators[i - 1]]
        if i == 1:
            members.append(users["alice"])
        if i <= LEAD_PROJECTS:
            members.append(users["lead"])
        p.members.add(*members)
    recipes = {}
    for step_type, output_kind, name, params in RECIPES:
        recipe, _ = Recipe.objects.update_or_create(name=name, defaults={"step_type": step_type, "output_kind": output_kind})
        version_ids, version_params = [], []
        for number in range(1, VERSIONS + 1):
            v, _ = RecipeVersion.objects.update_or_create(recipe=recipe, number=number,
                                                          defaults={"frozen_at": START, "notes": f"v{number}"})
            step, _ = RecipeStep.objects.update_or_create(version=v, order=1, defaults={"name": "Main step"})
            ps = []
            for order, (key, unit, nominal) in enumerate(params):
                nominal = nominal * (1 + 0.05 * (number - 1))
                p, _ = RecipeParameter.objects.update_or_create(step=step, key=key, defaults={
                    "order": order, "name": key.replace("_", " "), "nominal": nominal, "unit": unit,
                    "min_value": nominal * 0.9, "max_value": nominal * 1.1})
                ps.append((p.pk, nominal, unit))
            version_ids.append(v.pk)
            version_params.append(ps)
        recipes[step_type] = (version_ids, version_params)
    instruments = {}
    for kind, name in [("jlv", "J-L-V rig 1"), ("el", "Spectrometer 1")]:
        inst, _ = Instrument.objects.get_or_create(name=name, defaults={"kind": kind})
        instruments[kind] = inst.pk
    return Lab(users, operators, projects, recipes, recipes["device_architecture"][0], instruments)


def _stored_files() -> dict[str, tuple[str, int, str]]:
    """One stored copy per kind: kind → (storage name, size, parser name)."""
    out = {}
    for kind, name, fmt in [("jlv", JLV_NAME, "csv_jlv"), ("el", EL_NAME, "text_spectrum")]:
        content = (PUBLIC / name).read_bytes()
        path = f"scale/{name}"
        if not default_storage.exists(path):
            default_storage.save(path, ContentFile(content))
        out[kind] = (path, len(content), fmt)
    return out


def _analysis_result() -> tuple[str, str, str, str, str]:
    """The real stored result of the public pair (curves, per-file facts), a lighter copy without
    the curves for superseded analyses, its method and version, and its Compare overlay."""
    from measurements.analysis.charts import overlays
    from measurements.analysis.registry import run
    from measurements.services import _curvesjsonable, jsonable

    files = {"jlv": [(JLV_NAME, (PUBLIC / JLV_NAME).read_bytes())], "el": [(EL_NAME, (PUBLIC / EL_NAME).read_bytes())]}
    r = run("jlv", files, {"pixel_area_cm2": 0.09})
    full = {"per_file": jsonable(r.per_file), "metrics": jsonable(r.metrics_json()),
            "arrays": _curvesjsonable(r.arrays), "inputs": {}}
    light = dict(full, arrays={})
    return json.dumps(full), json.dumps(light), r.method, r.version, json.dumps(overlays(full["arrays"]))


SMALL_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200" viewBox="0 0 320 200">'
             '<title>EQE vs J (scale fixture)</title><polyline fill="none" stroke="#0072B2" stroke-width="2" '
             'points="' + " ".join(f"{10 + 3 * i},{190 - int(170 * (i / 100) ** 0.5)}" for i in range(101)) + '"/></svg>')
SMALL_PNG = bytes.fromhex(  # a 1×1 transparent PNG
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")


# --- the bulk -----------------------------------------------------------------------------------

def load(scale: float = 1.0, *, seed: int = 15, log=print) -> Summary:
    """Load the fixture into an empty (migrated) database. Refuses a database that has samples."""
    import time

    from samples.models import Sample

    if Sample.objects.exists():
        raise RuntimeError("the database already has samples; load the scale fixture into an empty one")
    t0 = time.perf_counter()
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        lab = _lab(rng)
        stored = _stored_files()
        full_json, light_json, method, version, overlay_json = _analysis_result()
        _bulk(Counts.at(scale), lab, stored, (full_json, light_json, overlay_json), method, version, rng, counts, log)
    reset_sequences(["samples_processrun", "samples_runvalue", "samples_processrun_inputs", "samples_sample",
                     "samples_sampleparent", "devices_device", "devices_layer", "devices_pixel",
                     "measurements_measurementfile", "measurements_analysis", "measurements_analysis_sources",
                     "measurements_plot", "measurements_derivedmetric"])
    with connection.cursor() as cursor:  # what the pipeline marks as each analysis is stored
        cursor.execute(MARK_ALL_MEASURED_SQL)
        counts["measured runs"] = cursor.rowcount
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # VACUUM, not only ANALYZE: a COPY-loaded table has no visibility map until autovacuum gets
        # to it, so every index-only scan (Compare's metric names, counts) read the heap as well.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return Summary(counts, time.perf_counter() - t0)


def _bulk(c: Counts, lab: Lab, stored, results, method, version, rng, counts, log) -> None:
    ids = {"run": 0, "sample": 0, "link": 0, "value": 0, "input": 0}
    label_no: dict[str, int] = {}

    def label(prefix: str) -> str:
        label_no[prefix] = label_no.get(prefix, 0) + 1
        return f"{prefix}-{label_no[prefix]:04d}"

    total_runs = 3 * c.runs_per_type + c.film_runs + c.device_runs
    step = DECADE / max(1, total_runs)

    runs, values, samples, links, inputs = [], [], [], [], []
    devices: list[tuple[int, int, int, dt.datetime]] = []  # (sample id, project id, architecture version, created)
    by_kind: dict[tuple[str, int | None], list[int]] = {}  # (kind, project or None for all) → sample ids

    def add_run(kind: str, n_out: int, parents_of) -> None:
        """A run of the recipe for ``kind`` with ``n_out`` outputs; ``parents_of(project)`` gives
        the lineage (sample id, role) pairs of each output."""
        ids["run"] += 1
        run_id = ids["run"]
        version_ids, version_params = lab.recipes[kind]
        vi = rng.randrange(len(version_ids))
        project = lab.projects[rng.randrange(len(lab.projects))]
        when = START + step * run_id
        operator = lab.operators[lab.projects.index(project)]
        runs.append((run_id, when, when, f"RUN-{run_id:04d}", version_ids[vi], project, operator, "completed",
                     when.date(), when, when + dt.timedelta(hours=2), round(rng.uniform(0.1, 2), 2),
                     round(rng.uniform(0.1, 2), 2), 21.0, 35.0, None, "",
                     1.0, n_out, "", "[]", ""))  # unscaled; n_out outputs of the recipe's kind, unnamed
        for pid, nominal, unit in version_params[vi]:
            ids["value"] += 1
            actual = nominal * rng.gauss(1, 0.04)
            values.append((ids["value"], run_id, pid, nominal, nominal * 0.9, nominal * 1.1, "", unit, actual, unit, "",
                           not (0.9 * nominal <= actual <= 1.1 * nominal), ""))
        out_kind = {"qd_synthesis": "qd_batch", "ligand_treatment": "qd_ink", "precursor_solution": "precursor_solution",
                    "spin_coating": "film", "device_architecture": "device"}[kind]
        prefix = {"qd_batch": "QD", "qd_ink": "INK", "precursor_solution": "PRE", "film": "FILM", "device": "DEV"}[out_kind]
        parents = parents_of(project)
        for sid, _role in parents:
            ids["input"] += 1
            inputs.append((ids["input"], run_id, sid))
        for k in range(n_out):
            ids["sample"] += 1
            sid = ids["sample"]
            samples.append((sid, when, when, label(prefix), out_kind, f"{out_kind.replace('_', ' ')} {k + 1} of run {run_id}",
                            project, run_id, "active", operator, "Glovebox 1" if k % 2 else "Shelf B", None, "", ""))
            by_kind.setdefault((out_kind, project), []).append(sid)
            by_kind.setdefault((out_kind, None), []).append(sid)
            for parent, role in parents:
                ids["link"] += 1
                links.append((ids["link"], sid, parent, role))
            if out_kind == "device":
                devices.append((sid, project, version_ids[vi], when))

    def pick(kind: str, project: int) -> int | None:
        # Mostly the same project's recent work; one in twenty from any project (a shared ink).
        pool = by_kind.get((kind, project)) if rng.random() >= 0.05 else by_kind.get((kind, None))
        if not pool:
            return None
        return pool[-1 - rng.randrange(min(len(pool), 50))]

    # Substrates: cleaned glass/ITO, made without a run, spread over the decade.
    sub_step = DECADE / max(1, c.substrates)
    for i in range(c.substrates):
        ids["sample"] += 1
        when = START + sub_step * i
        project = lab.projects[i % len(lab.projects)]
        samples.append((ids["sample"], when, when, label("SUB"), "substrate", "ITO glass", project, None, "active",
                        None, "Substrate rack", None, "", ""))
        by_kind.setdefault(("substrate", project), []).append(ids["sample"])
        by_kind.setdefault(("substrate", None), []).append(ids["sample"])

    # Interleave the run types over time, as a lab works.
    order = (["qd_synthesis"] * c.runs_per_type + ["ligand_treatment"] * c.runs_per_type
             + ["precursor_solution"] * c.runs_per_type + ["spin_coating"] * c.film_runs
             + ["device_architecture"] * c.device_runs)
    rng.shuffle(order)
    # Keep a causal order per chain: the first runs of each type cannot have parents yet, which is fine.
    devices_made = 0
    for kind in order:
        if kind == "qd_synthesis":
            add_run(kind, 2, lambda p: [])
        elif kind == "ligand_treatment":
            add_run(kind, 2, lambda p: [(s, "QD batch") for s in [pick("qd_batch", p)] if s])
        elif kind == "precursor_solution":
            add_run(kind, 2, lambda p: [])
        elif kind == "spin_coating":
            add_run(kind, 2, lambda p: [(s, r) for s, r in [(pick("qd_ink", p), "QD ink drip"),
                                                            (pick("precursor_solution", p), "matrix precursor")] if s])
        else:
            n = 3 if devices_made % 3 != 2 else 2  # 8 devices per 3 runs: 40k from 15k
            devices_made += 1

            def device_parents(p):
                out = [(s, "substrate") for s in [pick("substrate", p)] if s]
                out += [(s, "QD ink") for s in [pick("qd_ink", p)] if s]
                if rng.random() < 0.5:
                    out += [(s, "matrix precursor") for s in [pick("precursor_solution", p)] if s]
                return out
            add_run(kind, n, device_parents)

    counts["samples_processrun"] = write("samples_processrun", [
        "id", "created_at", "updated_at", "label", "recipe_version_id", "project_id", "operator_id", "status",
        "planned_date", "started_at", "finished_at", "glovebox_o2_ppm", "glovebox_h2o_ppm", "temperature_c",
        "humidity_percent", "batch_volume_ml", "notes", "planned_scale", "planned_outputs", "planned_output_kind",
        "planned_output_names", "planned_output_location"], runs)
    counts["samples_runvalue"] = write("samples_runvalue", [
        "id", "run_id", "parameter_id", "planned_nominal", "planned_min", "planned_max", "planned_text", "unit",
        "actual_value", "actual_unit", "actual_text", "is_deviation", "note"], values)
    values.clear()
    samples.sort(key=lambda r: r[0])
    counts["samples_sample"] = write("samples_sample", [
        "id", "created_at", "updated_at", "label", "kind", "name", "project_id", "produced_by_id", "status", "owner_id",
        "location", "amount", "amount_unit", "notes"], samples)
    counts["samples_processrun_inputs"] = write("samples_processrun_inputs", ["id", "processrun_id", "sample_id"], inputs)
    counts["samples_sampleparent"] = write("samples_sampleparent", ["id", "child_id", "parent_id", "role"], links)
    log(f"runs, values, samples, lineage: {counts}")
    for rows in (samples, links, inputs, runs):
        rows.clear()

    # Devices, their stacks and pixels.
    layers_of = [("ITO", "anode"), ("PEDOT:PSS", "HIL"), ("poly-TPD", "HTL"), ("QD-in-matrix", "EML"),
                 ("TPBi/LiF/Al", "ETL/cathode")]
    dev_rows, layer_rows, pixel_rows = [], [], []
    pixel_ids: dict[int, list[tuple[int, str]]] = {}
    for n, (sid, _project, arch, when) in enumerate(devices, start=1):
        dev_rows.append((n, when, when, sid, arch, "Stack A (poly-TPD/LiF)", n % 3 == 0))
        for order_, (material, function) in enumerate(layers_of, start=1):
            layer_rows.append(((n - 1) * len(layers_of) + order_, n, order_, material, function, 40.0, None, "", None, None))
        dev_label = f"DEV-{n:04d}"
        for k, name in enumerate(PIXELS):
            pid = (n - 1) * len(PIXELS) + k + 1
            pixel_rows.append((pid, when, when, n, f"{dev_label}-{name}", name, 0.09, ""))
            pixel_ids.setdefault(n, []).append((pid, f"{dev_label}-{name}"))
    counts["devices_device"] = write("devices_device", ["id", "created_at", "updated_at", "sample_id", "architecture_id",
                                                        "stack_name", "encapsulated"], dev_rows)
    counts["devices_layer"] = write("devices_layer", ["id", "device_id", "order", "material", "function",
                                                      "nominal_thickness_nm", "thickness_nm", "method", "run_id",
                                                      "source_id"], layer_rows)
    counts["devices_pixel"] = write("devices_pixel", ["id", "created_at", "updated_at", "device_id", "label", "name",
                                                      "area_cm2", "notes"], pixel_rows)
    log(f"devices: {counts['devices_device']}, pixels: {counts['devices_pixel']}")
    for rows in (dev_rows, layer_rows, pixel_rows):
        rows.clear()

    # Measurements: a measured device's four pixels, each swept (J-L-V + EL) in ROUNDS rounds.
    measured = [n for n in range(1, len(devices) + 1) if rng.random() < MEASURED_FRACTION]
    _measurements(measured, devices, pixel_ids, lab, stored, results, method, version, rng, counts)
    label_no["RUN"] = len(order)
    for prefix, last in label_no.items():
        LabelCounter.objects.update_or_create(prefix=prefix, defaults={"last": last})
    log(f"measurements: {counts}")


def _measurements(measured, devices, pixel_ids, lab, stored, results, method, version, rng, counts):
    # Current analyses carry the real curves and Compare overlay; superseded ones neither (never drawn).
    full_json, light_json, overlay_json = results
    uploader = lab.users["admin"]
    files_ids = iter(range(1, 10**9))
    analysis_ids = iter(range(1, 10**9))
    metric_ids = iter(range(1, 10**9))
    files, analyses, sources, plots, metrics = [], [], [], [], []
    params = json.dumps({"pixel_area_cm2": 0.09})
    for n in measured:
        sid, _project, _arch, made = devices[n - 1]
        for rnd in range(ROUNDS):
            current = rnd == ROUNDS - 1
            when = made + dt.timedelta(days=1 + 30 * rnd, minutes=rng.randrange(600))
            round_values: dict[str, list[float]] = {}
            for pid, plabel in pixel_ids[n]:
                pair = []
                for kind in ("jlv", "el"):
                    fid = next(files_ids)
                    path, size, fmt = stored[kind]
                    ext = "csv" if kind == "jlv" else "txt"
                    sha = hashlib.sha256(f"scale-file-{fid}".encode()).hexdigest()
                    files.append((fid, when, when, path, sha, f"{plabel}_r{rnd + 1}_{kind}.{ext}", size, kind, fmt,
                                  lab.instruments[kind], uploader, sid, pid, when, "{}", params, "done", "", 1, when,
                                  when, when, "", "", False, ""))
                    pair.append(fid)
                aid = next(analysis_ids)
                analyses.append((aid, when, when, "jlv", method, version, params, sid, pid, "", not current, "[]",
                                 full_json if current else light_json, overlay_json if current else None))
                for fid in pair:
                    sources.append((len(sources) + 1, aid, fid))
                if current:
                    plots.append((len(plots) + 1, aid, "eqe_j", "EQE vs current density", SMALL_SVG, SMALL_PNG))
                vals = {"eqe_max": rng.lognormvariate(1.8, 0.5), "luminance_max": rng.lognormvariate(9, 1),
                        "turn_on_voltage": rng.uniform(2.0, 4.0), "el_peak_wavelength": rng.gauss(680, 8),
                        "cie_x": rng.uniform(0.62, 0.72)}
                for name, value in vals.items():
                    round_values.setdefault(name, []).append(value)
                    metrics.append((next(metric_ids), name, value, PIXEL_METRICS[name], None, "[]", "{}", "pixel", "value",
                                    None, sid, n, pid, aid, method, version, "", not current, when))
            for name, aggregate in ROLLUPS:
                vs = sorted(round_values[name])
                value = vs[-1] if aggregate == "best" else (vs[1] + vs[2]) / 2
                metrics.append((next(metric_ids), name, value, PIXEL_METRICS[name], None, "[]", "{}", "device",
                                aggregate, len(vs), sid, n, None, None, method, version, "", not current, when))
        if len(metrics) > 200_000:
            _flush(files, analyses, sources, plots, metrics, counts)
    _flush(files, analyses, sources, plots, metrics, counts)


def _flush(files, analyses, sources_, plots, metrics, counts) -> None:
    # Files before analyses before links, so foreign keys (checked at once on SQLite) hold.
    add = lambda key, n: counts.__setitem__(key, counts.get(key, 0) + n)  # noqa: E731
    add("measurements_measurementfile", write("measurements_measurementfile", [
        "id", "created_at", "updated_at", "file", "sha256", "original_name", "size_bytes", "kind", "format",
        "instrument_id", "uploaded_by_id", "sample_id", "pixel_id", "measured_at", "metadata", "parameters", "status",
        "failure_reason", "attempts", "started_at", "finished_at", "enqueued_at", "claimed_by", "idempotency_key",
        "hidden", "hidden_reason"], files))
    add("measurements_analysis", write("measurements_analysis", [
        "id", "created_at", "updated_at", "kind", "method", "version", "parameters", "sample_id", "pixel_id", "subject",
        "superseded", "warnings", "result", "overlay"], analyses))
    add("measurements_analysis_sources", write("measurements_analysis_sources",
                                               ["id", "analysis_id", "measurementfile_id"], _renumber(sources_, counts)))
    add("measurements_plot", write("measurements_plot", ["id", "analysis_id", "name", "title", "svg", "png"],
                                   _renumber(plots, counts, "measurements_plot")))
    add("measurements_derivedmetric", write("measurements_derivedmetric", [
        "id", "name", "value", "unit", "uncertainty", "flags", "extra", "scope", "aggregate", "n_pixels", "sample_id",
        "device_id", "pixel_id", "analysis_id", "method", "version", "subject", "superseded", "created_at"], metrics))
    for rows in (files, analyses, sources_, plots, metrics):
        rows.clear()


def _renumber(rows: list[tuple], counts: dict[str, int], key: str = "measurements_analysis_sources") -> Iterator[tuple]:
    # Link and plot ids restart in every chunk (len(rows) + 1); offset them by what is already written.
    base = counts.get(key, 0)
    for row in rows:
        yield (base + row[0], *row[1:])
