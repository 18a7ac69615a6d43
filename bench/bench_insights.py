"""Insights benchmarks (pure Python, no database): drivers and control charts for 10 000 samples,
one suggest() for 200 past runs and a batch of 4, and the regret benchmark (median best found
after 8 rounds of 3 vs random search, 10 seeds, Hartmann 3-D).

    python bench/bench_insights.py [--quick]

Timings are CPU (process) and wall seconds, median and spread of repeated runs on distinct inputs;
the machine is shared, so the figures are indicative. Budgets: drivers + SPC ≤ 2 s; suggest ≤ 5 s.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from insights.science import drivers, prepare, spc  # noqa: E402
from insights.science.doe import suggest  # noqa: E402
from tests.insights.test_doe import F_MAX, SPACE, hartmann3  # noqa: E402


def timed(fn, runs: int) -> tuple[list[float], list[float]]:
    cpu, wall = [], []
    for k in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        fn(k)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return cpu, wall


def samples_frame(seed: int, n_rows: int = 10_000, pixels: int = 4) -> pd.DataFrame:
    """10 000 pixel rows of 2 500 devices: 3 metrics, 8 numeric parameters (3 of them per batch of
    5 devices), a version and a lot, a run date."""
    rng = np.random.default_rng(seed)
    n_dev = n_rows // pixels
    dev = np.repeat(np.arange(n_dev), pixels)
    batch = dev // 5
    p = {f"p{i}": rng.uniform(size=n_dev)[dev] for i in range(5)}
    p |= {f"b{i}": rng.uniform(size=n_dev // 5 + 1)[batch] for i in range(3)}
    version = np.array(["v1", "v2", "v3"])[np.minimum(dev * 3 // n_dev, 2)]
    lot = np.array(["L1", "L2", "L3", "L4"])[(dev // 100) % 4]
    eqe = 15 + 2 * p["p0"] - p["b0"] + rng.normal(0, 0.5, n_rows)
    frame = pd.DataFrame({"device": [f"D{d}" for d in dev], **p, "version": version, "lot": lot,
                          "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(dev // 10, unit="D"),
                          "eqe_max": eqe, "luminance_max": 4000 + 500 * p["p1"] + rng.normal(0, 100, n_rows),
                          "t50": np.exp(3 + 0.3 * p["b1"] + rng.normal(0, 0.1, n_rows)),
                          "run_b": [f"B{b}" for b in batch]})
    return frame


def bench_drivers_spc(runs: int) -> None:
    frames = [samples_frame(seed) for seed in range(runs)]
    params = [f"p{i}" for i in range(5)] + [f"b{i}" for i in range(3)] + ["version", "lot"]
    clusters = {f"b{i}": "run_b" for i in range(3)}

    def once(k):
        drivers.analyse(frames[k], metrics=["eqe_max", "luminance_max", "t50"], parameters=params, clusters=clusters)
        units = prepare.unit_table(frames[k], metrics=["eqe_max"], parameters=[], unit="device",
                                   extra=["version", "date", "lot"]).units.reset_index()
        charts = spc.charts_by_group(units, metric="eqe_max", group="version", date="date", label="device")
        spc.by_lot(charts, dict(zip(units["device"], units["lot"], strict=True)))

    once(0)  # imports and first-call caches out of the figure
    cpu, wall = timed(once, runs)
    print(f"drivers (3 metrics × 10 parameters) + I-MR charts + by-lot, 10 000 rows / 2 500 devices: "
          f"CPU {statistics.median(cpu):.2f} s (range {min(cpu):.2f}–{max(cpu):.2f}), wall {statistics.median(wall):.2f} s; "
          "budget 2 s")


def bench_suggest(runs: int) -> None:
    histories = []
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        x = rng.uniform(size=(200, 3))
        h = pd.DataFrame(x, columns=["x0", "x1", "x2"])
        h["y"] = hartmann3(x) + rng.normal(0, 0.05, 200)
        histories.append(h)
    suggest(histories[0], SPACE, "y", 4, seed=0)
    cpu, wall = timed(lambda k: suggest(histories[k], SPACE, "y", 4, seed=k), runs)
    print(f"suggest, 200 past runs, 3 parameters, q = 4: CPU {statistics.median(cpu):.2f} s "
          f"(range {min(cpu):.2f}–{max(cpu):.2f}), wall {statistics.median(wall):.2f} s; budget 5 s")


def bench_regret(seeds: int = 10, rounds: int = 8, batch: int = 3) -> None:
    bo, rs = [], []
    for seed in range(seeds):
        history = pd.DataFrame(columns=["x0", "x1", "x2", "y"], dtype=float)
        for r in range(rounds):
            s = suggest(history, SPACE, "y", batch, seed=seed * 100 + r)
            s["y"] = hartmann3(s[["x0", "x1", "x2"]].to_numpy(float))
            history = pd.concat([history, s[["x0", "x1", "x2", "y"]]], ignore_index=True)
        bo.append(history["y"].max())
        rs.append(hartmann3(np.random.default_rng(seed).uniform(size=(rounds * batch, 3))).max())
    print(f"regret, Hartmann 3-D (max {F_MAX}), {rounds} rounds of {batch}, {seeds} seeds: median best found "
          f"{statistics.median(bo):.3f} (regret {F_MAX - statistics.median(bo):.3f}) vs random search "
          f"{statistics.median(rs):.3f} (regret {F_MAX - statistics.median(rs):.3f}); "
          f"BO better in {sum(b > r for b, r in zip(bo, rs, strict=True))}/{seeds}")


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    bench_drivers_spc(3 if quick else 5)
    bench_suggest(3 if quick else 5)
    bench_regret(3 if quick else 10)
