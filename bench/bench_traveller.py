"""Time traveller rendering against the budget in issue 8.

Usage: .venv/bin/python bench/bench_traveller.py
Budget: one sheet < 150 ms (median of 20), a 100-sheet batch < 10 s. Exits 1 if over.
Wall and CPU time are both printed; the verdict uses CPU time, because on a shared
CI or dev box other jobs inflate wall time by whatever else is running, not by our code.
The sheet is the demo run (PROCESS.md §4–5), completed, with three plots: the heaviest
sheet the lab prints.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from samples.traveller import render_travellers  # noqa: E402
from samples.traveller.demo import demo_completed_sheet, demo_sheet  # noqa: E402

SHEET_BUDGET_S = 0.150
BATCH_BUDGET_S = 10.0


def main() -> int:
    completed = demo_completed_sheet()
    render_travellers([completed])  # warm up: font loading, first QR encodings
    wall, cpu = [], []
    for _ in range(20):
        start, start_cpu = time.perf_counter(), time.process_time()
        render_travellers([completed])
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    sheet_s, sheet_cpu = statistics.median(wall), statistics.median(cpu)

    # Distinct labels so every sheet encodes its own QR (no cache hits on the header code).
    batch = [demo_sheet(f"FILM-{i:04d}") for i in range(100)]
    start, start_cpu = time.perf_counter(), time.process_time()
    pdf = render_travellers(batch)
    batch_s, batch_cpu = time.perf_counter() - start, time.process_time() - start_cpu

    print(
        f"one sheet (completed, 3 plots): median {sheet_cpu * 1000:.0f} ms CPU, "
        f"{sheet_s * 1000:.0f} ms wall, over 20  (budget {SHEET_BUDGET_S * 1000:.0f} ms)"
    )
    print(
        f"100-sheet batch (planned):      {batch_cpu:.2f} s CPU, {batch_s:.2f} s wall, "
        f"{len(pdf) / 1e6:.1f} MB  (budget {BATCH_BUDGET_S:.0f} s)"
    )
    ok = sheet_cpu < SHEET_BUDGET_S and batch_cpu < BATCH_BUDGET_S
    print("within budget" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
