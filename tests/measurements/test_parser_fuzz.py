"""Parser fuzz (issue 13): mutated reference files go through parse → analysis → plot → JSON, as
the worker runs them. Only two outcomes are allowed: a result, or the project's own ParseError /
AnalysisError with a message. Seeded (derandomised) and bounded, so it runs in the suite."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from measurements.analysis.base import AnalysisError
from measurements.analysis.charts import charts_for
from measurements.analysis.plotting import render_chart
from measurements.analysis.registry import get_spec, run
from measurements.parsers import ParseError

DATA = Path(__file__).resolve().parents[1] / "data"
# (kind, role, file, extra inputs, parameters)
CASES = [
    ("jlv", "jlv", "public/jlv_sweep.csv", {"el": "public/el_spectrum.txt"}, {"pixel_area_cm2": 0.09}),
    ("el", "el", "public/el_spectrum.txt", {}, {}),
    ("pl", "files", "public/pl_spectrum.txt", {}, {}),
    ("trpl", "files", "public/trpl.dat", {}, {}),
    ("xrd", "files", "public/xrd.xy", {}, {}),
    ("lifetime", "files", "public/lifetime_1.csv", {}, {}),
    ("absorbance", "files", "dialects/cary_absorbance.csv", {}, {}),
    ("ta", "files", "dialects/ta_matrix.csv", {}, {}),
    ("xrd", "files", "dialects/xrd_rigaku.ras", {}, {"wavelength_a": 1.5406}),
]
EXAMPLES = int(os.environ.get("LEDGER_FUZZ_EXAMPLES", "12"))  # per case (9 cases); LEDGER_FUZZ_EXAMPLES=120 ≈ the 1,003


def _role_of(kind: str, wanted: str) -> str:
    names = [r.name for r in get_spec(kind).roles]
    return wanted if wanted in names else names[0]


@st.composite
def mutated(draw, content: bytes) -> bytes:
    lines = content.split(b"\n")
    op = draw(st.sampled_from(["truncate", "flip", "junk_line", "drop_lines", "numbers", "duplicate", "header"]))
    if op == "truncate":
        return content[: draw(st.integers(0, len(content)))]
    if op == "flip":
        data = bytearray(content)
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if op == "junk_line":
        at = draw(st.integers(0, len(lines)))
        junk = draw(st.sampled_from([b"", b"nan,nan", b"inf\t-inf", b"1e300,1e300", b"-1e-300", b";;;;", b"\xff\xfe",
                                     b"0,0,0,0,0,0,0", b"abc", b"1,2", b"*END", b"#", b"  \t  "]))
        return b"\n".join(lines[:at] + [junk] + lines[at:])
    if op == "drop_lines":
        start = draw(st.integers(0, len(lines)))
        return b"\n".join(lines[:start] + lines[start + draw(st.integers(1, max(1, len(lines) // 2))):])
    if op == "numbers":
        # every number in a stretch of lines becomes an edge value
        value = draw(st.sampled_from([b"0", b"-1", b"1e300", b"nan", b"1e-300", b"-0", b"99999999999"]))
        start = draw(st.integers(0, len(lines)))
        span = draw(st.integers(1, 40))
        out = []
        for k, line in enumerate(lines):
            if start <= k < start + span:
                cells = line.replace(b"\t", b",").split(b",")
                line = b",".join(value if c.strip()[:1].isdigit() else c for c in cells)
            out.append(line)
        return b"\n".join(out)
    if op == "duplicate":
        return b"\n".join(lines + lines[len(lines) // 2:])
    # header: keep the first lines only, or the header twice
    k = draw(st.integers(1, 12))
    return b"\n".join(lines[:k] + lines[:k] + lines[k:]) if draw(st.booleans()) else b"\n".join(lines[:k])


FILENAMES = st.sampled_from(["data.csv", "$x^2$_run.txt", "50%_$\\alpha$.dat", "{braces}.xy", "é ü.txt", "$$", "a$b"])


def _analyse(kind, role, name, content, extras, params):
    files = {role: [(name, content)], **{r: [(p, (DATA / p).read_bytes())] for r, p in extras.items()}}
    result = run(kind, files, params)
    for chart in charts_for(kind, result):
        json.dumps(chart, allow_nan=False)
        render_chart(chart, "svg")
    json.dumps(result.to_json(), allow_nan=False)
    return result


@pytest.mark.parametrize(("kind", "role", "path", "extras", "params"), CASES, ids=[f"{c[0]}:{c[2]}" for c in CASES])
def test_mutated_files_give_a_result_or_the_projects_own_error(kind, role, path, extras, params):
    original = (DATA / path).read_bytes()
    role = _role_of(kind, role)

    @given(content=mutated(original), name=FILENAMES)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])  # no shrinking: bounded time
    def check(content, name):
        try:
            _analyse(kind, role, name, content, extras, params)
        except (ParseError, AnalysisError) as exc:
            assert str(exc).strip(), "an error without a message"

    check()
