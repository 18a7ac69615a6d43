"""``manage.py traveller`` for 100 completed runs whose devices carry analysed J-L-V + EL pairs:
the batch a lab prints, each sheet with its device's EQE–J and EL spectrum drawn as PDF vectors
from the stored charts (samples/traveller/chart.py; no matplotlib, nothing to cache).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger_perf CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/bench_pipeline.py --pixels 400     # 100 devices = 100 completed runs
    DATABASE_URL=… .venv/bin/python bench/bench_traveller_runs.py [--runs 100] [--repeat 3]

Times, in this process (CPU and wall), the first print after emptying any cached figure PNGs,
then ``--repeat`` more; prints the median and spread of those, how many figures matplotlib drew
(none expected), the PDF size and the load average. Budget (issue 15): 100 completed travellers
≤ 10 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command

    from measurements import services
    from measurements.models import Analysis, Plot
    from samples.models import ProcessRun

    analysed = Analysis.objects.filter(kind="jlv", superseded=False).values("sample_id")
    runs = list(ProcessRun.objects.filter(status="completed", outputs__in=analysed).distinct()
                .order_by("-id").values_list("label", flat=True)[: args.runs])
    if len(runs) < args.runs:
        sys.exit(f"only {len(runs)} completed runs with analysed devices; run bench_pipeline.py --pixels {4 * args.runs}")
    drawn = []
    real = services.render_chart
    services.render_chart = lambda chart, fmt: drawn.append(chart["name"]) or real(chart, fmt)
    out = Path(tempfile.mkdtemp(prefix="ledger-bench-traveller-")) / "batch.pdf"

    def once() -> tuple[float, float]:
        start, start_cpu = time.perf_counter(), time.process_time()
        call_command("traveller", *runs, "-o", str(out), stdout=open(os.devnull, "w"))  # noqa: SIM115
        return time.perf_counter() - start, time.process_time() - start_cpu

    call_command("traveller", runs[0], "-o", str(out), stdout=open(os.devnull, "w"))  # noqa: SIM115 — fonts, imports
    Plot.objects.filter(analysis__sample__produced_by__label__in=runs).update(png=b"")
    drawn.clear()
    cold_wall, cold_cpu = once()
    n_cold = len(drawn)
    warm = [once() for _ in range(args.repeat)]
    walls, cpus = [w for w, _ in warm], [c for _, c in warm]
    print(f"{len(runs)} completed runs' traveller sheets, one PDF ({out.stat().st_size / 1e6:.1f} MB); "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"  first print ({n_cold} figures drawn by matplotlib): {cold_cpu:.2f} s CPU, {cold_wall:.2f} s wall")
    print(f"  again ({len(drawn) - n_cold} drawn): median {statistics.median(cpus):.2f} s CPU "
          f"({min(cpus):.2f}–{max(cpus):.2f}), {statistics.median(walls):.2f} s wall")


if __name__ == "__main__":
    main()
