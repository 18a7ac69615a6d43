"""Time parse + XRD analysis (no plots) of distinct pattern files against a bare read of each.

    .venv/bin/python bench/bench_xrd.py

For every XRD file under tests/data (public, dialects, real-world): median CPU time of
``run("xrd", …)`` (parse, Kα2 handling, peak fits, indexing, Scherrer) and of a bare read that
only gets the numbers out (``numpy.loadtxt`` of the text, the zip members or bytes for binary
formats), with the spread (min–max) of the repeats. Files the analysis refuses are timed too
(a refusal must be cheap). CPU via time.process_time; the machine is shared, so figures are
indicative.

Every timed call is a distinct upload as far as the code can tell: the parsers' content caches
(``functools.lru_cache`` in ``measurements.parsers``) are emptied before each call, so no repeat
is answered from a cache a real upload would miss (bench/bench_analysis.py perturbs the bytes
instead, for the text formats of every kind).
"""

from __future__ import annotations

import io
import statistics
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from measurements.analysis.base import AnalysisError  # noqa: E402
from measurements.analysis.registry import run  # noqa: E402
from measurements.parsers import ParseError  # noqa: E402

DATA = ROOT / "tests" / "data"
FILES = [DATA / "public" / "xrd.xy", *sorted((DATA / "dialects").glob("xrd_*")),
         *sorted((DATA / "real-world").glob("XRD_*"))]


def bare_read(path: Path, content: bytes) -> None:
    if content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            for name in zf.namelist():
                zf.read(name)
    elif path.suffix in (".raw",):
        np.frombuffer(content[len(content) % 4:], dtype="<f4")
    elif path.suffix == ".xrdml":
        text = content.decode("utf-8")
        start = text.index("<intensities")
        np.array(text[text.index(">", start) + 1:text.index("</intensities>")].split(), dtype=float)
    else:
        lines = [ln for ln in content.decode("utf-8", "replace").splitlines()
                 if ln.strip() and ln.lstrip()[:1] not in "#!'/*" and ln.lstrip()[:1].isdigit()]
        np.loadtxt(io.StringIO("\n".join(lines).replace(",", " ")))


def _clear_content_caches() -> None:
    import measurements.parsers.binary as binary
    import measurements.parsers.delimited as delimited

    for module in (binary, delimited):
        for value in vars(module).values():
            if hasattr(value, "cache_clear"):
                value.cache_clear()


def analyse(path: Path, content: bytes) -> None:
    _clear_content_caches()
    try:
        run("xrd", {"files": [(path.name, content)]}, {"wavelength_a": 1.5406} if "no_wavelength" in path.name else {})
    except (AnalysisError, ParseError):
        pass


def cpu_ms(func, repeats: int) -> tuple[float, float, float]:
    func()  # warm imports and caches
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        func()
        samples.append((time.process_time() - start) * 1e3)
    return statistics.median(samples), min(samples), max(samples)


def main() -> None:
    print(f"{'file':58s} {'analysis ms (min–max)':>24s} {'bare read ms':>13s} {'ratio':>7s}")
    total_a = total_r = 0.0
    for path in FILES:
        content = path.read_bytes()
        a, a_lo, a_hi = cpu_ms(lambda path=path, content=content: analyse(path, content), 5)
        r, _, _ = cpu_ms(lambda path=path, content=content: bare_read(path, content), 20)
        total_a += a
        total_r += r
        print(f"{path.relative_to(DATA).as_posix()[:58]:58s} {a:8.1f} ({a_lo:.1f}–{a_hi:.1f}){'':>3s} "
              f"{r:10.2f} {a / r:8.1f}×")
    print(f"all {len(FILES)} files: {total_a:.0f} ms analysis, {total_r:.1f} ms bare reads ({total_a / total_r:.0f}×)")


if __name__ == "__main__":
    main()
