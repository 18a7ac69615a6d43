"""XRD honesty rules on patterns whose truth is set by construction: Kα2 stripping, the indexing
thresholds, layer spacing, Scherrer caveats, multi-scan files and bounded work."""

from __future__ import annotations

import io
import re
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import measurements.analysis.xrd  # noqa: F401  (registers the kind)
from measurements.analysis.base import AnalysisError
from measurements.analysis.registry import run
from measurements.analysis.xrd import MAX_POINTS, analyse_pattern, strip_kalpha2
from measurements.parsers import ParseError, parse_bytes, xrd_binary

DATA = Path(__file__).resolve().parents[1] / "data"
CU1, CU2 = 1.540598, 1.544426


def two_theta(d, lam=CU1):
    return np.degrees(2 * np.arcsin(lam / (2 * np.asarray(d, float))))


def pattern(d_list, heights, *, fwhm=0.12, kalpha2_ratio=0.0, step=0.01, lo=10.0, hi=80.0, seed=1):
    """Gaussian lines at the Kα1 (and, with a ratio, Kα2) angles of the d-spacings, on 50 counts."""
    x = np.arange(lo, hi, step)
    y = np.full(x.size, 50.0)
    for d, h in zip(d_list, heights, strict=True):
        for lam, scale in ((CU1, 1.0), (CU2, kalpha2_ratio)):
            if scale:
                y += scale * h * np.exp(-4 * np.log(2) * ((x - two_theta(d, lam)) / fwhm) ** 2)
    return x, np.random.default_rng(seed).poisson(y).astype(float)


def cubic_d(a, hkls):
    return [a / np.sqrt(h * h + k * k + m * m) for h, k, m in hkls]


CUBIC_LINES = [(1, 0, 0), (1, 1, 0), (1, 1, 1), (2, 0, 0), (2, 1, 0), (2, 1, 1), (2, 2, 0), (3, 0, 0), (3, 1, 0)]
KA12 = {"radiation": "Ka1+Ka2", "kalpha2_a": CU2, "kalpha2_ratio": 0.5}


def test_rachinger_recovers_the_kalpha1_profile():
    x, y = pattern([2.0], [5000], kalpha2_ratio=0.5, lo=40, hi=50, seed=2)
    _, truth = pattern([2.0], [5000], lo=40, hi=50, seed=2)
    stripped = strip_kalpha2(x, y, lambda1_a=CU1, lambda2_a=CU2, ratio=0.5)
    # Where Kα2 sat (45.37°, 0.11° above Kα1) only background is left, within Poisson noise.
    at_ka2 = np.argmin(np.abs(x - two_theta(2.0, CU2)))
    assert abs(stripped[at_ka2] - truth[at_ka2]) < 6 * np.sqrt(truth[at_ka2])
    assert x[np.argmax(stripped)] == pytest.approx(two_theta(2.0), abs=0.011)


def test_kalpha_doublets_are_one_reflection_each():
    d = cubic_d(4.00, CUBIC_LINES)
    x, y = pattern(d, [4000] * len(d), kalpha2_ratio=0.5)
    result = analyse_pattern(x, y, wavelength_a=CU1, metadata=KA12, instrument_broadening_deg=0.05)
    peaks = result.metrics["d_spacing"].extra["peaks"]
    assert [p["hkl"] for p in peaks] == [list(h) for h in CUBIC_LINES]
    for p, expected in zip(peaks, two_theta(d), strict=True):
        assert p["two_theta_deg"] == pytest.approx(expected, abs=0.01)
    assert result.metrics["lattice_constant"].value == pytest.approx(4.000, abs=0.002)
    kept = analyse_pattern(x, y, wavelength_a=CU1, metadata=KA12, kalpha2="keep")
    assert len(kept.metrics["d_spacing"].extra["peaks"]) > len(CUBIC_LINES)  # resolved Kα2 lines counted


def test_a_near_miss_cubic_cell_gives_no_lattice_constant():
    # Rutile-like tetragonal lines (c/a = 0.644) forced through cubic would "fit" at 8 %: not now.
    a, c = 4.60, 2.96
    hkls = [(1, 1, 0), (1, 0, 1), (2, 0, 0), (1, 1, 1), (2, 1, 0), (2, 1, 1), (2, 2, 0), (0, 0, 2)]
    d = [1 / np.sqrt((h * h + k * k) / a**2 + m * m / c**2) for h, k, m in hkls]
    x, y = pattern(d, [3000] * len(d))
    result = analyse_pattern(x, y, wavelength_a=CU1, metadata={"radiation": "Ka1"})
    m = result.metrics
    assert m["lattice_constant"].extra["system"] == "tetragonal"
    assert (m["lattice_constant"].value, m["lattice_constant_c"].value) == (pytest.approx(a, abs=0.003),
                                                                           pytest.approx(c, abs=0.003))
    # Shift one line by 0.15° (three times the tolerance): no cell indexes every line any more.
    d_bad = list(d)
    d_bad[3] = CU1 / (2 * np.sin(np.radians((two_theta(d[3]) + 0.15) / 2)))
    x, y = pattern(d_bad, [3000] * len(d))
    result = analyse_pattern(x, y, wavelength_a=CU1, metadata={"radiation": "Ka1"})
    assert "lattice_constant" not in result.metrics
    assert any("do not index" in w for w in result.warnings)


def test_quasi_2d_film_gives_a_layer_spacing_not_a_cell():
    d0 = 16.40  # PEA₂PbI₄-like (0k0) stack
    d = [d0 / k for k in (1, 2, 3, 4, 5)]
    x, y = pattern(d, [8000, 4000, 2500, 1500, 800], lo=3, hi=30)
    result = analyse_pattern(x, y, wavelength_a=CU1, metadata={"radiation": "Ka1"})
    assert result.metrics["layer_spacing"].value == pytest.approx(d0, abs=0.01)
    assert result.metrics["layer_spacing"].unit == "Å"
    assert result.metrics["layer_spacing"].extra["orders"] == [1, 2, 3, 4, 5]
    assert "lattice_constant" not in result.metrics


def test_oriented_3d_film_harmonics_fix_no_cell():
    d = [5.87, 5.87 / 2, 5.87 / 3]  # (100), (200), (300) of an oriented CsPbBr₃ film
    x, y = pattern(d, [6000, 3000, 800])
    result = analyse_pattern(x, y, wavelength_a=CU1, metadata={"radiation": "Ka1"})
    assert "lattice_constant" not in result.metrics and "layer_spacing" not in result.metrics
    assert result.metrics["d_spacing"].value == pytest.approx(5.87, abs=0.003)
    assert any("one set of planes" in w for w in result.warnings)


def test_scherrer_caveats():
    x, y = pattern(cubic_d(6.0, CUBIC_LINES[:4]), [4000] * 4, fwhm=0.30)
    meta = {"radiation": "Ka1"}
    plain = analyse_pattern(x, y, wavelength_a=CU1, metadata=meta)
    assert plain.metrics["crystallite_size"].flags == ("no_instrument_broadening",)
    given = analyse_pattern(x, y, wavelength_a=CU1, metadata=meta, instrument_broadening_deg=0.08)
    assert given.metrics["crystallite_size"].flags == ()
    assert given.metrics["crystallite_size"].value > plain.metrics["crystallite_size"].value
    too_narrow = analyse_pattern(x, y, wavelength_a=CU1, metadata=meta, instrument_broadening_deg=0.35)
    assert "crystallite_size" not in too_narrow.metrics
    assert "lattice_constant" in too_narrow.metrics  # the rest still stands
    assert any("not wider than the instrument broadening" in w for w in too_narrow.warnings)
    x, y = pattern(cubic_d(6.0, CUBIC_LINES[:4]), [4000] * 4, fwhm=0.07, step=0.005)
    large = analyse_pattern(x, y, wavelength_a=CU1, metadata=meta, instrument_broadening_deg=0.05)
    assert large.metrics["crystallite_size"].flags == ("beyond_scherrer_range",)


def _xrdml(scans: list[tuple[float, float, np.ndarray, float]]) -> bytes:
    """An xrdml with one <scan> per (2θ start, end, intensities, ω offset from 2θ/2)."""
    body = "".join(
        f'<scan><dataPoints><positions axis="2Theta" unit="deg"><startPosition>{a}</startPosition>'
        f"<endPosition>{b}</endPosition></positions><positions axis=\"Omega\" unit=\"deg\"><startPosition>"
        f"{a / 2 + off}</startPosition><endPosition>{b / 2 + off}</endPosition></positions>"
        f"<intensities unit=\"counts\">{' '.join(str(int(v)) for v in y)}</intensities></dataPoints></scan>"
        for a, b, y, off in scans)
    return ('<?xml version="1.0" encoding="UTF-8"?><xrdMeasurements xmlns="http://www.xrdml.com/XRDMeasurement/1.5">'
            '<xrdMeasurement><usedWavelength intended="K-Alpha 1"><kAlpha1 unit="Angstrom">1.5405980</kAlpha1>'
            '<kAlpha2 unit="Angstrom">1.5444260</kAlpha2><ratioKAlpha2KAlpha1>0.5</ratioKAlpha2KAlpha1>'
            f"</usedWavelength>{body}</xrdMeasurement></xrdMeasurements>").encode()


def test_several_ranges_are_analysed_per_scan():
    d = cubic_d(6.0, CUBIC_LINES[:4])
    x, y = pattern(d, [4000] * 4, step=0.02)
    cut = np.searchsorted(x, 22.0)
    first = (x[0], x[cut - 1], y[:cut], 0.0)
    second = (x[cut], x[-1], y[cut:], 0.0)
    x2, y2 = pattern(cubic_d(6.1, CUBIC_LINES[:4]), [4000] * 4, step=0.02, seed=5)
    third = (x2[0], x2[-1], y2, 0.0)
    result = run("xrd", {"files": [("ranges.xrdml", _xrdml([first, second, third]))]}, {})
    assert not result.metrics  # the file has no number of its own
    assert [r.sample for r in result.samples] == ["scan 1 (2θ 10.00–22.00°)", "scan 2 (2θ 22.02–79.98°)",
                                                  "scan 3 (2θ 10.00–79.98°)"]
    assert all(r.source == "ranges.xrdml" for r in result.samples)
    assert result.samples[0].metrics["d_spacing"].value == pytest.approx(6.0, abs=0.003)
    assert result.samples[2].metrics["lattice_constant"].value == pytest.approx(6.1, abs=0.01)
    assert any("holds 3 scans" in w for w in result.warnings)
    assert result.to_json()["samples"][2]["sample"] == "scan 3 (2θ 10.00–79.98°)"


def test_a_reciprocal_space_map_is_refused_with_its_scan_count():
    x, y = pattern(cubic_d(6.0, CUBIC_LINES[:4]), [4000] * 4, step=0.02)
    scans = [(x[0], x[-1], y, off) for off in (-0.4, -0.2, 0.0, 0.2, 0.4)]
    with pytest.raises(AnalysisError, match=r"5 scans over the same 2θ range .*stepped"):
        run("xrd", {"files": [("rsm.xrdml", _xrdml(scans))]}, {})


def test_tiny_step_and_huge_scans_are_refused_quickly():
    x = 20 + 1e-6 * np.arange(1000)  # a 22 kB file whose step is a millionth of a degree
    text = "# 2theta intensity, Cu Ka1 1.5406 A\n" + "".join(f"{a:.7f} {100 + i % 7}\n" for i, a in enumerate(x))
    start = time.process_time()
    with pytest.raises(AnalysisError, match="finer than"):
        run("xrd", {"files": [("tiny.xy", text.encode())]}, {})
    with pytest.raises(AnalysisError, match=f"more than the {MAX_POINTS}"):
        analyse_pattern(np.linspace(5, 90, MAX_POINTS + 1), np.ones(MAX_POINTS + 1), wavelength_a=CU1)
    assert time.process_time() - start < 2.0


def _raw_bytes() -> bytes:
    return (DATA / "real-world" / "XRD_TiO2.raw").read_bytes()


def test_bruker_raw_declared_sizes_are_checked_against_the_bytes():
    raw = bytearray(_raw_bytes())
    marker = 510  # the range marker of this file (walked, see xrd_binary)
    struct.pack_into("<I", raw, marker + 88, 150_000)  # claim 150 000 points in an 11 kB file
    with pytest.raises(ParseError, match="truncated"):
        parse_bytes(bytes(raw), filename="big.raw")
    with pytest.raises(ParseError, match="truncated|ends inside"):
        parse_bytes(_raw_bytes()[:4000], filename="cut.raw")
    with pytest.raises(ParseError, match="version 3 is not read"):
        parse_bytes(b"RAW1.01" + bytes(2000), filename="old.raw")


def test_bruker_raw_reads_the_range_header():
    parsed = parse_bytes(_raw_bytes(), filename="TiO2.raw")
    assert parsed.format == "bruker_raw" and len(parsed.data) == 1647
    assert parsed.data["two_theta_deg"].iloc[0] == pytest.approx(10.0)
    assert parsed.data["two_theta_deg"].iloc[1] - parsed.data["two_theta_deg"].iloc[0] == pytest.approx(0.036477, abs=1e-6)
    assert (parsed.metadata["kalpha2_a"], parsed.metadata["kalpha2_ratio"]) == (1.54439, 0.5)
    assert parsed.metadata["anode"] == "Cu" and parsed.metadata["scan_type"] == "Locked Coupled"


def test_zip_members_are_size_checked_before_reading(monkeypatch):
    monkeypatch.setattr(xrd_binary, "MAX_MEMBER_BYTES", 10_000)
    with pytest.raises(ParseError, match="unpacks to"):
        parse_bytes((DATA / "real-world" / "XRD_TiOF.brml").read_bytes(), filename="TiOF.brml")


def test_rasx_attenuator_column_multiplies_the_counts():
    src = DATA / "real-world" / "XRD_JO_KL_16_ZF_3_60deg_0.02step_12degpermin_001.rasx"
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buf, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "Data0/Profile0.txt":
                data = re.sub(rb"\t1\r?\n", b"\t2\n", data, count=1)  # first row behind a ×2 attenuator
            zout.writestr(item, data)
    parsed = parse_bytes(buf.getvalue(), filename="att.rasx")
    original = parse_bytes(src.read_bytes(), filename="orig.rasx")
    assert parsed.data["intensity"].iloc[0] == 2 * original.data["intensity"].iloc[0]
    assert parsed.data["intensity"].iloc[1] == original.data["intensity"].iloc[1]
