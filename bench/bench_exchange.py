"""Time the exchange formats on distinct inputs (CPU time, median and spread of repeated runs).

    .venv/bin/python bench/bench_exchange.py

- one label job: render (QR + text) and Brother QL raster through brother_ql_next, or ZPL, each for
  a different sample label and URL; floor: segno making the same QR alone;
- an .eln of 40 distinct 100 kB files: write (rocrate metadata + ZIP) and read back (every member
  checked and hashed); floor: zipfile writing and reading the same bytes with no metadata.
Figures on this shared 2-core machine are indicative only.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import segno  # noqa: E402

from exchange.eln import ElnArchive, ElnDataset, ElnFile, read_eln, write_eln  # noqa: E402
from exchange.printers.brother import brother_job  # noqa: E402
from exchange.printers.label import LabelContent  # noqa: E402
from exchange.printers.zpl import zpl_job  # noqa: E402


def timed(fn, inputs) -> tuple[float, float]:
    times = []
    for item in inputs:
        start = time.process_time()
        fn(item)
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times), statistics.pstdev(times)


def labels(n: int) -> list[LabelContent]:
    return [LabelContent(f"DEV-{i:04d}", f"https://ledger.lab.example/samples/DEV-{i:04d}/", (f"Device · 2026-12-{1 + i % 28:02d}", f"Pixel batch {i}"))
            for i in range(n)]


def archive(seed: int) -> ElnArchive:
    datasets = [ElnDataset(f"S-{seed}-{d}/", f"Sample {d}", files=[
        ElnFile(f"S-{seed}-{d}/f{k}.bin", os.urandom(100_000), f"f{k}.bin") for k in range(4)]) for d in range(10)]
    return ElnArchive(root=f"bench-{seed}", name="bench", datasets=datasets)


def bare_zip(a: ElnArchive) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for d in a.datasets:
            for f in d.files:
                zf.writestr(f"{a.root}/{f.path}", f.content)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        for name in zf.namelist():
            zf.read(name)


def main() -> None:
    items = labels(30)
    for name, fn in (("Brother QL 62 mm raster", lambda c: brother_job(c, model="QL-820NWB", label="62")),
                     ("Brother QL 62x29 raster", lambda c: brother_job(c, model="QL-820NWB", label="62x29")),
                     ("Zebra ZPL", lambda c: zpl_job(c)),
                     ("floor: segno QR alone", lambda c: segno.make(c.url, error="m").matrix)):
        median, spread = timed(fn, items)
        print(f"{name:32s} {median:8.2f} ms CPU (± {spread:.2f}) over {len(items)} distinct labels")
    archives = [archive(i) for i in range(5)]
    blobs = []
    median, spread = timed(lambda a: blobs.append(write_eln(a)), archives)
    print(f"{'write .eln (40 × 100 kB)':32s} {median:8.1f} ms CPU (± {spread:.1f})")
    median, spread = timed(read_eln, blobs)
    print(f"{'read .eln back (checked)':32s} {median:8.1f} ms CPU (± {spread:.1f})")
    median, spread = timed(bare_zip, archives)
    print(f"{'floor: bare zip write + read':32s} {median:8.1f} ms CPU (± {spread:.1f})")


if __name__ == "__main__":
    main()
