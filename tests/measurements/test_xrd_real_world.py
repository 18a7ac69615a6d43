"""The real XRD exports of tests/data/real-world/ through `manage.py analyze --kind xrd --json`
(no database), each against what its README row says or what was checked by hand: positions
from known crystal cells (ICDD rutile, Si, ZIF-8), never LEDger's own earlier output."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from measurements.parsers import parse_bytes

REAL = Path(__file__).resolve().parents[1] / "data" / "real-world"
CU_KA1 = 1.5406


def analyze(*args: str) -> tuple[int, dict]:
    """(exit code, JSON) of `manage.py analyze --kind xrd ARGS --json`."""
    out = io.StringIO()
    try:
        call_command("analyze", "--kind", "xrd", *args, "--json", stdout=out)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, json.loads(out.getvalue())


def two_theta(d_a: float, wavelength_a: float = CU_KA1) -> float:
    return float(2 * np.degrees(np.arcsin(wavelength_a / (2 * d_a))))


def tetragonal_d(hkl, a, c) -> float:
    h, k, m = hkl
    return float(1 / np.sqrt((h * h + k * k) / a**2 + m * m / c**2))


def peaks_of(result: dict) -> list[dict]:
    return result["metrics"]["d_spacing"]["extra"]["peaks"]


def near(peaks: list[dict], tt: float, tol: float) -> list[dict]:
    return [p for p in peaks if abs(p["two_theta_deg"] - tt) <= tol]


# Rutile, ICDD 00-021-1276 (a = 4.5933 Å, c = 2.9592 Å).
RUTILE = {"a": 4.5933, "c": 2.9592}
RUTILE_LINES = [(1, 1, 0), (1, 0, 1), (2, 0, 0), (1, 1, 1), (2, 1, 0), (2, 1, 1), (2, 2, 0), (0, 0, 2), (3, 1, 0)]


def test_bruker_raw4_tio2_is_rutile_indexed_tetragonal():
    code, result = analyze(str(REAL / "XRD_TiO2.raw"))
    assert code == 0
    assert result["parameters"]["wavelength_a"] == pytest.approx(1.5406)  # the tube segment's Kα1
    assert result["parameters"]["kalpha2"].startswith("stripped")  # Kα2/Kα1 ratio 0.5 in the file
    peaks = peaks_of(result)
    for hkl in RUTILE_LINES:
        expected = two_theta(tetragonal_d(hkl, **RUTILE))
        match = near(peaks, expected, 0.05)
        assert len(match) == 1, (hkl, expected, [p["two_theta_deg"] for p in peaks])
        assert match[0]["hkl"] == list(hkl)
    # Rutile (110): d = 3.25 Å; no anatase (101) (d = 3.52 Å, 25.30°).
    assert near(peaks, 27.44, 0.05)[0]["d_a"] == pytest.approx(3.248, abs=0.003)
    assert not near(peaks, two_theta(3.5171), 0.3)
    m = result["metrics"]
    assert m["lattice_constant"]["extra"]["system"] == "tetragonal"
    assert m["lattice_constant"]["value"] == pytest.approx(RUTILE["a"], abs=0.005)
    assert m["lattice_constant_c"]["value"] == pytest.approx(RUTILE["c"], abs=0.005)
    assert m["lattice_constant"]["extra"]["de_wolff_m"] >= 10
    # Kβ lines of (110) and (211) (Cu Kβ 1.39222 Å) are named, not indexed as reflections.
    dropped = result["parameters"]["satellite_lines_dropped"]
    assert {s["line"] for s in dropped} == {"Kβ"}
    assert dropped[0]["two_theta_deg"] == pytest.approx(two_theta(3.248, 1.39222), abs=0.03)
    assert not near(peaks, two_theta(3.248, 1.39222), 0.1)
    # 0.036° steps under a 0.09° peak: too coarse for a size, said so rather than a number.
    assert "crystallite_size" not in m
    assert any("not resolved" in w for w in result["warnings"])


def _brml_datum_maximum(lo: float, hi: float) -> float:
    """By hand from the archive: the 2θ column (3rd) of <Datum> rows at the highest count (5th)."""
    with zipfile.ZipFile(REAL / "XRD_TiOF.brml") as zf:
        xml = zf.read("Experiment0/RawData0.xml").decode("utf-8-sig")
    rows = np.array([[float(v) for v in d.split(",")] for d in re.findall(r"<Datum>([^<]+)</Datum>", xml)])
    sel = rows[(rows[:, 2] > lo) & (rows[:, 2] < hi)]
    return float(sel[np.argmax(sel[:, 4]), 2])


def test_bruker_brml_tiof_is_not_tio2_and_its_doublet_is_one_reflection():
    code, result = analyze(str(REAL / "XRD_TiOF.brml"))
    assert code == 0
    assert result["parameters"]["wavelength_a"] == pytest.approx(1.5406)
    assert result["parameters"]["kalpha2"].startswith("stripped")
    peaks = peaks_of(result)
    # The strongest lines, where the raw counts peak (step 0.0203°).
    for lo, hi in ((26.5, 27.5), (22.5, 23.5)):
        assert near(peaks, _brml_datum_maximum(lo, hi), 0.03)
    # Not TiO₂: no rutile (110) nor anatase (101).
    assert not near(peaks, two_theta(tetragonal_d((1, 1, 0), **RUTILE)), 0.2)
    assert not near(peaks, two_theta(3.5171), 0.2)
    # 53.20° Kα1 and its Kα2 at 53.35° (Δ2θ = 2 tan θ Δλ/λ = 0.147°): one reflection.
    assert len([p for p in peaks if 53.0 < p["two_theta_deg"] < 53.5]) == 1
    assert "lattice_constant" not in result["metrics"]
    assert any("do not index" in w for w in result["warnings"])
    assert result["metrics"]["crystallite_size"]["flags"] == ["no_instrument_broadening"]


# ZIF-8, I-43m, a = 16.991 Å (Park et al., PNAS 103 (2006) 10186).
def test_rigaku_rasx_indexes_as_the_body_centred_zif8_cell():
    code, result = analyze(str(REAL / "XRD_JO_KL_16_ZF_3_60deg_0.02step_12degpermin_001.rasx"))
    assert code == 0
    assert result["parameters"]["wavelength_a"] == pytest.approx(1.540593)  # XrayGenerator WavelengthKalpha1
    assert result["parameters"]["kalpha2"].startswith("stripped")  # WaveType "Ka"
    lattice = result["metrics"]["lattice_constant"]
    assert lattice["extra"]["system"] == "cubic"
    assert lattice["value"] == pytest.approx(16.991, abs=0.05)
    hkls = lattice["extra"]["hkl"]
    assert len(hkls) >= 15 and all(sum(h) % 2 == 0 for h in hkls)  # body-centred: h+k+l even
    assert hkls[:3] == [[1, 1, 0], [2, 0, 0], [2, 1, 1]]
    assert peaks_of(result)[0]["two_theta_deg"] == pytest.approx(two_theta(16.991 / np.sqrt(2), 1.540593), abs=0.05)
    assert "layer_spacing" not in result["metrics"]  # the (hh0) orders of a cubic cell are no layer stack


def test_panalytical_xrdml_not_cubic_no_lattice_constant_doublets_paired():
    code, result = analyze(str(REAL / "XRD_CG20396_jdb12-1.xrdml"))
    assert code == 0
    assert result["parameters"]["kalpha2"].startswith("stripped")  # usedWavelength intended="K-Alpha"
    assert "lattice_constant" not in result["metrics"]
    warning = next(w for w in result["warnings"] if "do not index" in w)
    assert "hkl already used" in warning and "0.05° 2θ" in warning
    peaks = peaks_of(result)
    # The 41.67/41.77° and 58.45/58.62° pairs are Kα1/Kα2 of one reflection each.
    for lo, hi in ((41.5, 42.0), (58.3, 58.8), (62.2, 62.7)):
        assert len([p for p in peaks if lo < p["two_theta_deg"] < hi]) == 1
    assert result["metrics"]["d_spacing"]["value"] == pytest.approx(CU_KA1 / (2 * np.sin(np.radians(16.60 / 2))),
                                                                     abs=0.01)


def test_synchrotron_xye_reads_the_header_wavelength_and_finds_no_peak():
    parsed = parse_bytes((REAL / "XRD_example_bmb.xye").read_bytes(), filename="XRD_example_bmb.xye")
    assert parsed.format == "xy"
    assert parsed.metadata["wavelength_a"] == pytest.approx(0.414581)
    assert parsed.metadata["radiation"] == "monochromatic"
    assert list(parsed.data.columns) == ["two_theta_deg", "intensity", "esd"]
    assert parsed.data["two_theta_deg"].iloc[0] == pytest.approx(0.5)
    assert parsed.data["two_theta_deg"].iloc[-1] == pytest.approx(1.0731031250)
    code, result = analyze(str(REAL / "XRD_example_bmb.xye"))
    assert code == 1
    assert "no diffraction peak" in result["error"] and "0.414581" in result["error"]


def test_theta_csv_is_refused_until_the_axis_is_confirmed():
    path = str(REAL / "XRD_example_ocx.xy")
    code, result = analyze(path, "--wavelength", "1.5406")
    assert code == 1
    assert "'theta', which is θ, not 2θ" in result["error"] and "two_theta_deg" in result["error"]
    # Confirmed as 2θ: the one strong line is Si (400) of a wafer, d = 5.4309/4 Å, at 69.13°.
    code, result = analyze(path, "--wavelength", "1.5406", "--column-map", '{"theta": "two_theta_deg"}')
    assert code == 0
    assert result["metrics"]["d_spacing"]["value"] == pytest.approx(5.4309 / 4, abs=0.001)
    dropped = result["parameters"]["satellite_lines_dropped"]
    assert [s["line"] for s in dropped] == ["Kα2"]
    assert dropped[0]["two_theta_deg"] == pytest.approx(two_theta(5.4309 / 4, 1.544426), abs=0.02)
    assert "lattice_constant" not in result["metrics"]  # one reflection fixes no cell
    assert any("too few to index" in w for w in result["warnings"])
    # Confirmed as θ instead: converted, 2θ = 2·θ.
    parsed = parse_bytes(Path(path).read_bytes(), filename="ocx.xy", options={"columns": {"theta": "theta_deg"}})
    assert parsed.data["two_theta_deg"].iloc[0] == pytest.approx(10.0)
    assert "2θ = 2·θ" in parsed.metadata["axis_converted"]


def test_three_point_file_says_too_few_points():
    code, result = analyze(str(REAL / "test_sample_xy.xy"))
    assert code == 1
    assert "3 points: too few" in result["error"]
    assert "no parser recognises" not in result["error"]


def test_every_real_xrd_file_has_a_test_here():
    tested = {"XRD_TiO2.raw", "XRD_TiOF.brml", "XRD_JO_KL_16_ZF_3_60deg_0.02step_12degpermin_001.rasx",
              "XRD_CG20396_jdb12-1.xrdml", "XRD_example_bmb.xye", "XRD_example_ocx.xy", "test_sample_xy.xy"}
    on_disk = {p.name for p in REAL.iterdir() if p.name.startswith("XRD_")} | {"test_sample_xy.xy"}
    assert on_disk == tested
