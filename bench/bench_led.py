"""Time parse + analysis of the public J-L-V + EL pair (issue 4 speed budget).

    cd /work/main && .venv/bin/python bench/bench_led.py

Budget: one pair ≤ 20 ms CPU (excluding plots) and within 5× of a bare ``pandas.read_csv`` of
the same bytes. CPU time via time.process_time; medians of many runs. The batch analyses 1000
pairs in a loop (the same bytes each time: what a station's thousands of pixels look like to
the code, and the grid cache is part of the design).
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from measurements.analysis.registry import run  # noqa: E402

PUBLIC = ROOT / "tests" / "data" / "public"
JLV = (PUBLIC / "jlv_sweep.csv").read_bytes()
EL = (PUBLIC / "el_spectrum.txt").read_bytes()
FILES = {"jlv": [("jlv_sweep.csv", JLV)], "el": [("el_spectrum.txt", EL)]}
PARAMS = {"pixel_area_cm2": 0.09}


def analyse_pair() -> None:
    run("jlv", FILES, PARAMS)


def bare_read_csv() -> None:
    # The same bytes through pandas' C reader, with only what it needs to get numbers out.
    pd.read_csv(io.BytesIO(JLV))
    pd.read_csv(io.BytesIO(EL), sep="\t", skiprows=14, header=None)


def median_cpu_ms(func, repeats: int = 300) -> float:
    for _ in range(20):  # warm caches and imports
        func()
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        func()
        samples.append(time.process_time() - start)
    return statistics.median(samples) * 1e3


def median_cpu_ms_batched(func, repeats: int = 30, inner: int = 50) -> float:
    """process_time ticks coarsely on some kernels; time `inner` calls and divide."""
    for _ in range(20):
        func()
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(inner):
            func()
        samples.append((time.process_time() - start) / inner)
    return statistics.median(samples) * 1e3


def main() -> None:
    pair_ms = median_cpu_ms_batched(analyse_pair)
    read_ms = median_cpu_ms_batched(bare_read_csv)
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    for _ in range(1000):
        analyse_pair()
    batch_cpu, batch_wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
    print(f"pair (parse + analysis, no plots): {pair_ms:.2f} ms CPU (median; budget 20 ms)")
    print(f"bare pandas.read_csv of the same bytes: {read_ms:.2f} ms CPU")
    print(f"ratio to read_csv: {pair_ms / read_ms:.2f}x (budget 5x)")
    print(f"batch of 1000 pairs: {batch_cpu:.2f} s CPU, {batch_wall:.2f} s wall → "
          f"{2000 / batch_cpu:.0f} files/s per CPU core ({2000 / batch_wall:.0f} files/s wall clock; "
          "wall > CPU means the machine was shared)")
    ok = pair_ms <= 20 and pair_ms / read_ms <= 5
    print("within budget" if ok else "OVER BUDGET")


if __name__ == "__main__":
    main()
