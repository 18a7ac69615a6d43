"""End to end through a real Celery worker: distinct J-L-V + EL pairs, plots on (each analysis
stores its charts — the downsampled curves the browser draws; no figure is drawn in the worker).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger_perf CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/bench_pipeline.py [--pixels 100]

Creates a project, devices and pixels in that database (migrated first; the name must start with
``ledger_perf`` or ``ledger_bench``: its measurement tables are emptied), queues one J-L-V sweep
and one EL spectrum per pixel (distinct bytes: bench_analysis.Perturber), all committed before the
worker starts, then starts ``celery worker -c 1`` on a private queue and times until every file is
settled. Prints files per worker CPU-second — the pool process's CPU time (it forks after Django
and the analyses are loaded, so this is the pipeline's own cost) plus the parent's from that
moment — and, beside it, the same with the worker's start-up included, per wall second, how many
analyses ran, the charts stored and how many figures were drawn (none expected). The machine is
shared: CPU seconds are the figure to compare; wall is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pixels", type=int, default=100)
    args = parser.parse_args()
    db_url, broker = os.environ.get("DATABASE_URL", ""), os.environ.get("CELERY_BROKER_URL", "")
    name = db_url.rsplit("/", 1)[-1]
    if not db_url.startswith("postgres") or not name.startswith(("ledger_perf", "ledger_bench")) or not broker:
        sys.exit("set DATABASE_URL to a PostgreSQL database named ledger_perf… and CELERY_BROKER_URL")
    queue = f"bench-pipeline-{uuid.uuid4().hex[:6]}"
    os.environ["CELERY_QUEUE"] = queue
    media = tempfile.mkdtemp(prefix="ledger-bench-media-")
    os.environ["MEDIA_ROOT"] = media
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True)

    import django

    django.setup()
    import psutil
    from bench_analysis import Perturber
    from django.db import transaction

    from measurements.models import Analysis, FileStatus, MeasurementFile, Plot
    from measurements.services import measurement_file_ingest
    from tests.api import factories as f

    MeasurementFile.objects.filter(original_name__startswith="bench_").update(hidden=True)
    project = f.project(f"bench-{uuid.uuid4().hex[:6]}")
    owner = f.user(f"bench-{uuid.uuid4().hex[:6]}", projects=[project])
    # One recipe of a fresh name: the factories' own names restart with each process (a second
    # run on the same database would collide).
    version = f.recipe(f"bench recipe {uuid.uuid4().hex[:6]}")
    pixels = []
    while len(pixels) < args.pixels:
        pixels.extend(f.device(project, owner, version=version).pixels.order_by("name"))
    pixels = pixels[: args.pixels]
    public = ROOT / "tests" / "data" / "public"
    jlv, el = Perturber((public / "jlv_sweep.csv").read_bytes(), 1), Perturber((public / "el_spectrum.txt").read_bytes(), 2)
    seen: set[bytes] = set()

    def distinct(perturber) -> bytes:
        # The perturbation is cumulative but random: over hundreds of files a digit can return to
        # an earlier value, and the same bytes would be the same upload.
        while (content := perturber.next()) in seen:
            pass
        seen.add(content)
        return content

    ids = []
    with transaction.atomic():  # every task is sent on commit, before the worker starts
        for k, pixel in enumerate(pixels):
            pair = [("bench_jlv.csv", distinct(jlv)), ("bench_el.txt", distinct(el))]
            for name, content in (pair if k % 2 == 0 else pair[::-1]):
                ids.append(measurement_file_ingest(content=content, filename=name, sample=pixel.device.sample,
                                                   pixel=pixel, user=owner).file.pk)
    env = {**os.environ, "CELERY_QUEUE": queue, "MEDIA_ROOT": media, "LEDGER_CELERY_LOG_LEVEL": "warning"}
    log = tempfile.NamedTemporaryFile(prefix="ledger-bench-worker-", suffix=".log", delete=False)  # noqa: SIM115
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "1",
                               "--pool", "prefork", "-l", "warning", "-n", f"bench-{uuid.uuid4().hex[:6]}@%h",
                               "--without-heartbeat", "--without-gossip", "--without-mingle"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc = psutil.Process(worker.pid)
    try:
        spawned = time.perf_counter()
        while not proc.children(recursive=True):  # the pool child forks once the app is loaded
            if worker.poll() is not None or time.perf_counter() - spawned > 300:
                sys.exit(f"the worker did not start; see {log.name}")
            time.sleep(0.05)
        startup_cpu = sum(proc.cpu_times()[:2])
        # A child's CPU times count from its fork: only the parent needs a base.
        base = {proc.pid: startup_cpu}
        started = time.perf_counter()
        deadline = started + 1800
        while time.perf_counter() < deadline:
            if not MeasurementFile.objects.filter(pk__in=ids, status__in=[FileStatus.QUEUED, FileStatus.RUNNING]).exists():
                break
            time.sleep(0.2)
        wall = time.perf_counter() - started
        procs = [proc, *proc.children(recursive=True)]
        cpu = sum(sum(p.cpu_times()[:2]) - base.get(p.pid, 0.0) for p in procs)
    finally:
        worker.terminate()
        worker.wait(60)
    statuses = list(MeasurementFile.objects.filter(pk__in=ids).values_list("status", flat=True))
    analyses = Analysis.objects.filter(sources__in=ids).distinct()
    plots = Plot.objects.filter(analysis__in=analyses)
    charts = [a.result.get("charts", []) for a in analyses]
    chart_kb = sorted(len(json.dumps(c)) / 1e3 for c in charts) or [0.0]
    print(f"{len(ids)} files ({args.pixels} pixels × J-L-V + EL), worker -c 1, plots on (charts stored); "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    print(f"  settled: {statuses.count('done')} done, {statuses.count('failed')} failed, "
          f"{len(ids) - statuses.count('done') - statuses.count('failed')} unsettled")
    print(f"  analyses stored: {analyses.count()} (one per pixel expected), charts: {sum(map(len, charts))} "
          f"(JSON per analysis median {statistics.median(chart_kb):.1f} kB, max {chart_kb[-1]:.1f} kB), "
          f"figures drawn: {plots.count()}")
    print(f"  worker CPU {cpu:.2f} s, wall {wall:.1f} s → {len(ids) / cpu:.1f} files per worker CPU-second "
          f"({len(ids) / (cpu + startup_cpu):.1f} with the worker's {startup_cpu:.1f} s start-up), "
          f"{len(ids) / wall:.1f} files/s wall")


if __name__ == "__main__":
    main()
