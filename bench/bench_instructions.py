"""Instructions, not seconds: the parse + analysis of each case against its bare read, counted by
valgrind's callgrind (the same count for the same code and inputs, whatever else the machine does).

Why beside ``bench_analysis.py``: on a shared VM the CPU time of the same code moves by up to 2×
between runs minutes apart (the ratio to the bare read from 4.3× to 7.5× for the same J-L-V pair),
so a change of a few per cent cannot be seen in it. Instruction counts can: they answer "did this
change make the analysis do less?", exactly, and their ratio to the bare read is a second,
steady view of the 5× budget (not the same figure as the time ratio: a Python-heavy analysis
retires fewer instructions per cycle than pandas' C reader, so its time ratio is the higher).

Each case runs three times under callgrind on the same 41 distinct inputs (``bench_analysis``'s
perturbed copies): setup only, setup + 40 analyses, setup + 40 bare reads; the differences / 40
are the counts per analysis and per read. ≈ 1 minute a run (the imports dominate).

    .venv/bin/python bench/bench_instructions.py led lifetime xrd
    .venv/bin/python bench/bench_instructions.py --root /path/to/other/checkout led   # A/B
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPUTS = 40

_CHILD = """
import os, sys
root, label, count, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path[:0] = [root, root + "/bench"]
os.chdir(root)
import bench_analysis as b
from measurements.analysis.registry import run
kind, files, params = next((k, f, p) for l, k, f, p in b.cases() if l.startswith(label))
perturbers = {r: [b.Perturber(c, 1) for _, c in fs] for r, fs in files.items()}
plans = {r: [b._read_plan(c) for _, c in fs] for r, fs in files.items()}
inputs = [{r: [(n, perturbers[r][i].next()) for i, (n, _) in enumerate(fs)] for r, fs in files.items()}
          for _ in range({inputs} + 1)]
run(kind, inputs[0], params)  # imports and first-call caches, in every mode alike
for given in inputs[1:1 + count]:
    if mode == "run":
        run(kind, given, params)
    elif mode == "read":
        for r, fs in given.items():
            for i, (_, c) in enumerate(fs):
                b.bare_read(c, plans[r][i])
""".replace("{inputs}", str(INPUTS))


def _count(root: Path, label: str, count: int, mode: str) -> int:
    # One hash seed: string hashing and set order otherwise move the count between runs.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONHASHSEED": "0"}
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c",
                           _CHILD, str(root), label, str(count), mode], capture_output=True, text=True, env=env)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found:
        raise SystemExit(f"{label} ({mode}) failed under callgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labels", nargs="+", help="case labels of bench_analysis.py, by their start (led, xrd…)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    print(f"{args.root}: million instructions per call over {INPUTS} distinct inputs (callgrind)")
    print(f"{'case':28s} {'analysis':>9s} {'bare read':>9s} {'ratio':>6s}")
    for label in args.labels:
        setup = _count(args.root, label, 0, "none")
        analysis = (_count(args.root, label, INPUTS, "run") - setup) / INPUTS
        read = (_count(args.root, label, INPUTS, "read") - setup) / INPUTS
        print(f"{label:28s} {analysis / 1e6:9.2f} {read / 1e6:9.2f} {analysis / read:5.2f}×", flush=True)


if __name__ == "__main__":
    main()
