"""Parse + analysis (and, separately, the plots) of every analysis kind on DISTINCT inputs.

    .venv/bin/python bench/bench_analysis.py [--quick] [--only KIND ...] [--no-plots]

What a lab uploads is never the same bytes twice, so every timed call gets bytes no earlier call
saw: each iteration changes the last digit of one more number in the file (a different data line
each time, cumulatively), which defeats any cache keyed on the content (the parser's table
inference is one) while leaving what the numbers mean unchanged. Caches keyed on what is really
shared between uploads (the CIE tables on a spectrometer's wavelength grid) still answer, as they
do in production.

For each case it prints, over the distinct inputs:
- the median CPU time of ``registry.run`` (parse + checks + analysis; time.process_time) with
  its spread (10th–90th percentile) and the median wall time;
- the floor it is compared with: a bare ``pandas.read_csv`` (C engine) of the same bytes, with the
  separator and preamble length found once beforehand (the least any reader must do), and the
  ratio of the medians;
- unless ``--no-plots``: the median CPU time of what the pipeline stores for the figures — the
  charts (``analysis.charts.charts_for``: downsampled curves, JSON) — and their size (on code
  before issue 15's charts: the SVG + PNG figures and the largest SVG).

With ``lifetime`` selected it also times a device's fifth lifetime run as the pipeline analyses it
(the four earlier runs from their stored results, only the new file parsed and fitted), against a
bare read of the new file.

CPU time, not wall: the machine is shared with other work; wall is printed beside it so a reader
sees how busy it was (wall ≫ CPU means other processes held the cores).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

# One BLAS thread, as the worker runs (config/celery.py): a multi-threaded BLAS on small fits
# burns CPU on spinning threads and makes process_time meaningless.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from measurements.analysis.registry import get_spec, run  # noqa: E402

DATA = ROOT / "tests" / "data"
PUBLIC = DATA / "public"
REAL_TRPL = DATA / "real-world" / "M0-FAPI3Q6-Spot2_5400s_10kHz_ND1_210cps_0.0209011uW.trpl.dat"
REAL_TIMEHARP = DATA / "real" / "07-Si6505_10kHz-ND1-0.40uW-300s.trpl.dat"

_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_SPLIT = re.compile(r"[,\t; ]+")


def _is_data_line(line: str, min_tokens: int = 2) -> bool:
    tokens = [t for t in _SPLIT.split(line.strip()) if t]
    return len(tokens) >= min_tokens and all(_NUMBER.match(t) for t in tokens)


def _data_lines(lines: list[str]) -> list[int]:
    # Tables; else one number per line (a PicoQuant #counts block), after the longest run of them.
    rows = [i for i, ln in enumerate(lines) if _is_data_line(ln)]
    return rows or [i for i, ln in enumerate(lines) if _is_data_line(ln, 1)]


class Perturber:
    """Distinct bytes per call: the last mantissa digit of the last number on one more data line
    changes each time (cumulative, so no two calls see the same bytes)."""

    def __init__(self, content: bytes, seed: int):
        self.lines = content.decode("utf-8").split("\n")
        self.data = _data_lines(self.lines)
        if not self.data:
            raise ValueError("no data lines to perturb")
        self.rng = np.random.default_rng(seed)

    def next(self) -> bytes:
        i = self.data[int(self.rng.integers(len(self.data)))]
        line = self.lines[i]
        m = re.search(r"(\d)(?=([eE][-+]?\d+)?\s*$)", line)
        if m is not None:
            digit = (int(m.group(1)) + 1 + int(self.rng.integers(8))) % 10
            line = line[:m.start(1)] + str(digit) + line[m.end(1):]
        self.lines[i] = line
        return "\n".join(self.lines).encode("utf-8")


def _read_plan(content: bytes) -> tuple[str, int]:
    """Separator and number of lines before the numbers, found once (outside the timing)."""
    lines = content.decode("utf-8").split("\n")
    rows = _data_lines(lines)
    numeric = set(rows)
    # The first data line followed by more (a lone number in a header is not the table).
    start = next(i for i in rows if all(j in numeric for j in range(i, min(i + 20, rows[-1] + 1))))
    first = lines[start]
    sep = "\t" if "\t" in first else "," if "," in first else ";" if ";" in first else r"\s+"
    return sep, start


def bare_read(content: bytes, plan: tuple[str, int]) -> None:
    sep, skip = plan
    pd.read_csv(io.BytesIO(content), sep=sep, skiprows=skip, header=None, engine="c")


def _plqy_spectra() -> dict[str, bytes]:
    # The three de Mello spheres of tests/measurements/test_plqy_analysis.py (PLQY 62 % by construction).
    w = np.arange(380, 800.01, 0.25)
    gauss = np.sqrt(np.pi / (4 * np.log(2)))

    def band(centre, fwhm, area):
        return area / (fwhm * gauss) * np.exp(-4 * np.log(2) * (w - centre) ** 2 / fwhm**2)

    def spectrum(laser, emission, seed):
        counts = band(405, 2, laser) + band(650, 30, emission) + 3 + np.random.default_rng(seed).normal(0, 0.3, w.size)
        return ("wavelength_nm,intensity_counts\n" + "\n".join(f"{a:.2f},{c:.5f}" for a, c in zip(w, counts, strict=True))
                + "\n").encode()

    la = 10000 * 2 * gauss
    lb, eb = la * 0.9, 0.62 * 0.1 * la
    lc, ec = lb * 0.6, 0.62 * 0.4 * la + 0.6 * eb
    return {"empty": spectrum(la, 0, 1), "out_of_beam": spectrum(lb, eb, 2), "in_beam": spectrum(lc, ec, 3)}


def cases() -> list[tuple[str, str, dict[str, list[tuple[str, bytes]]], dict]]:
    lifetime = [(f"lifetime_{k}.csv", (PUBLIC / f"lifetime_{k}.csv").read_bytes()) for k in range(1, 5)]
    plqy = _plqy_spectra()
    return [
        ("led: J-L-V + EL pair", "jlv", {"jlv": [("jlv_sweep.csv", (PUBLIC / "jlv_sweep.csv").read_bytes())],
                                         "el": [("el_spectrum.txt", (PUBLIC / "el_spectrum.txt").read_bytes())]},
         {"pixel_area_cm2": 0.09}),
        ("el: spectrum alone", "el", {"el": [("el_spectrum.txt", (PUBLIC / "el_spectrum.txt").read_bytes())]}, {}),
        ("lifetime: 4 runs + acceleration fit", "lifetime", {"files": lifetime}, {}),
        ("lifetime: 1 run", "lifetime", {"files": lifetime[:1]}, {}),
        ("pl: public spectrum", "pl", {"files": [("pl_spectrum.txt", (PUBLIC / "pl_spectrum.txt").read_bytes())]}, {}),
        ("plqy: three spheres", "plqy", {k: [(f"{k}.csv", v)] for k, v in plqy.items()}, {}),
        ("trpl: public, 2,000 channels", "trpl", {"files": [("trpl.dat", (PUBLIC / "trpl.dat").read_bytes())]}, {}),
        ("trpl: real TCSPC, 32,768 channels", "trpl", {"files": [(REAL_TRPL.name, REAL_TRPL.read_bytes())]}, {}),
        ("trpl: real TimeHarp, 32,768 channels", "trpl", {"files": [(REAL_TIMEHARP.name, REAL_TIMEHARP.read_bytes())]}, {}),
        ("ta: matrix", "ta", {"files": [("ta_matrix.csv", (DATA / "dialects" / "ta_matrix.csv").read_bytes())]}, {}),
        ("xrd: public pattern", "xrd", {"files": [("xrd.xy", (PUBLIC / "xrd.xy").read_bytes())]}, {}),
        ("absorbance: Cary, 2 samples", "absorbance",
         {"files": [("cary_absorbance.csv", (DATA / "dialects" / "cary_absorbance.csv").read_bytes())]}, {}),
    ]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def plot_cost(kind: str, result) -> tuple[float, int]:
    """CPU seconds and bytes of the figures the pipeline stores for ``result``: since issue 15 the
    charts (downsampled curves, JSON) the browser draws; before it, the SVG + PNG figures."""
    start = time.process_time()
    try:
        from measurements.analysis.charts import charts_for
    except ImportError:  # figures drawn by matplotlib in the worker (SVG + PNG stored)
        from measurements.analysis.plotting import render_figures

        sizes = [len(r.svg.encode()) for r in render_figures(get_spec(kind).plot(result))]
    else:
        # A multi-sample file stores one analysis, and its charts, per sample.
        sizes = [len(json.dumps(charts_for(kind, one), allow_nan=False)) for one in (result.samples or [result])]
    return time.process_time() - start, max(sizes, default=0)


def has_plots(kind: str) -> bool:
    try:
        from measurements.analysis.charts import BUILDERS
    except ImportError:
        return get_spec(kind).plot is not None
    return kind in BUILDERS


def bench_case(label, kind, files, params, *, budget_s: float, with_plots: bool) -> dict:
    perturbers = {role: [Perturber(content, seed=hash((role, k, label)) & 0xFFFF) for k, (_, content) in enumerate(fs)]
                  for role, fs in files.items()}
    plans = {role: [_read_plan(content) for _, content in fs] for role, fs in files.items()}

    def distinct_inputs():
        return {role: [(name, perturbers[role][k].next()) for k, (name, _) in enumerate(fs)] for role, fs in files.items()}

    run(kind, distinct_inputs(), params)  # imports, CIE tables on this grid (shared by real uploads too)
    cpu, wall, reads, plot_cpu, svg = [], [], [], [], []
    spent = 0.0
    n = 0
    while n < 7 or (spent < budget_s and n < 200):
        given = distinct_inputs()
        t0, c0 = time.perf_counter(), time.process_time()
        result = run(kind, given, params)
        c1, t1 = time.process_time(), time.perf_counter()
        cpu.append(c1 - c0)
        wall.append(t1 - t0)
        r0 = time.process_time()
        for role, fs in given.items():
            for k, (_, content) in enumerate(fs):
                bare_read(content, plans[role][k])
        reads.append(time.process_time() - r0)
        if with_plots and n < 5 and has_plots(kind):
            p, size = plot_cost(kind, result)
            plot_cpu.append(p)
            svg.append(size)
        spent += t1 - t0
        n += 1
    # read_csv is too quick for one process_time tick on some kernels: time it again in batches
    # of 20 distinct inputs and take the median batch.
    batches = []
    for _ in range(5):
        batch = [distinct_inputs() for _ in range(20)]
        r0 = time.process_time()
        for given in batch:
            for role, fs in given.items():
                for k, (_, content) in enumerate(fs):
                    bare_read(content, plans[role][k])
        batches.append((time.process_time() - r0) / len(batch))
    read = max(statistics.median(batches), 1e-6)
    return {"label": label, "n": n, "cpu": statistics.median(cpu), "lo": pct(cpu, 10), "hi": pct(cpu, 90),
            "wall": statistics.median(wall), "read": read, "ratio": statistics.median(cpu) / read,
            "plot": statistics.median(plot_cpu) if plot_cpu else None, "svg": max(svg) if svg else None}


def bench_incremental_lifetime(*, budget_s: float) -> dict:
    """A device's fifth lifetime run as the pipeline analyses it (measurements/lifetime_runs.py):
    the four earlier runs come from their stored results (``StoredRun``, rebuilt from the JSON the
    Analysis row keeps), only the new run's distinct bytes are parsed and fitted. Floor: a bare
    read of the new file alone."""
    import json

    from measurements.analysis.base import jsonable
    from measurements.analysis.lifetime import StoredRun
    from measurements.analysis.registry import parse_inputs, run_parsed

    earlier = [(f"lifetime_{k}.csv", (PUBLIC / f"lifetime_{k}.csv").read_bytes()) for k in range(1, 5)]
    analysed = run("lifetime", {"files": earlier})
    stored = json.loads(json.dumps(jsonable({"per_file": analysed.per_file, "arrays": analysed.arrays})))
    runs = [StoredRun.from_stored(entry, stored["arrays"], k) for k, entry in enumerate(stored["per_file"])]
    new = (PUBLIC / "lifetime_1.csv").read_bytes()  # a fifth run: lifetime_1's shape at a quarter of its L0
    lines = new.decode().split("\n")
    new = "\n".join(lines[:2] + [f"{a},{float(b) / 4:.2f},{c}" for a, b, c in
                                  (ln.split(",") for ln in lines[2:] if ln)]).encode()
    perturber, plan = Perturber(new, seed=5), _read_plan(new)
    cpu, reads = [], []
    spent, n = 0.0, 0
    while n < 7 or (spent < budget_s and n < 200):
        content = perturber.next()
        t0, c0 = time.perf_counter(), time.process_time()
        fresh = parse_inputs("lifetime", {"files": [("lifetime_5.csv", content)]})["files"]
        run_parsed("lifetime", {"files": [*runs, *fresh]})
        cpu.append(time.process_time() - c0)
        spent += time.perf_counter() - t0
        r0 = time.process_time()
        for _ in range(20):
            bare_read(content, plan)
        reads.append((time.process_time() - r0) / 20)
        n += 1
    read = max(statistics.median(reads), 1e-6)
    return {"label": "lifetime: 5th run, 4 stored (pipeline)", "n": n, "cpu": statistics.median(cpu),
            "lo": pct(cpu, 10), "hi": pct(cpu, 90), "wall": float("nan"), "read": read,
            "ratio": statistics.median(cpu) / read, "plot": None, "svg": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 1 s per case instead of 4")
    parser.add_argument("--only", nargs="*", help="case labels starting with these words (e.g. led trpl)")
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} at start; CPU ms per call over distinct inputs")
    print(f"{'case':38s} {'n':>4s} {'analysis CPU ms (p10–p90)':>27s} {'wall':>7s} {'bare read':>9s} {'ratio':>6s}"
          f" {'plots CPU ms':>12s} {'stored kB':>10s}")
    for label, kind, files, params in cases():
        if args.only and not any(label.startswith(w) for w in args.only):
            continue
        r = bench_case(label, kind, files, params, budget_s=1.0 if args.quick else 4.0, with_plots=not args.no_plots)
        plots = f"{r['plot'] * 1e3:12.0f} {r['svg'] / 1e3:10.1f}" if r["plot"] is not None else f"{'-':>12s} {'-':>10s}"
        print(f"{r['label']:38s} {r['n']:4d} {r['cpu'] * 1e3:9.2f} ({r['lo'] * 1e3:6.2f}–{r['hi'] * 1e3:7.2f}) "
              f"{r['wall'] * 1e3:7.2f} {r['read'] * 1e3:9.3f} {r['ratio']:5.1f}× {plots}", flush=True)
    if not args.only or any("lifetime".startswith(w) or w.startswith("lifetime") for w in args.only):
        r = bench_incremental_lifetime(budget_s=1.0 if args.quick else 4.0)
        print(f"{r['label']:38s} {r['n']:4d} {r['cpu'] * 1e3:9.2f} ({r['lo'] * 1e3:6.2f}–{r['hi'] * 1e3:7.2f}) "
              f"{'-':>7s} {r['read'] * 1e3:9.3f} {r['ratio']:5.1f}×", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
