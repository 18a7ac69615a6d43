"""Edinburgh FLS and UV-Vis parsers: real file and dialect fixtures with known content."""

from pathlib import Path

import pytest

from measurements.parsers import ParseError, parse_bytes, parsers, sniff

DATA = Path(__file__).resolve().parents[1] / "data"
REAL_PL = DATA / "real" / "HZB_AlFl_20231009_Solarcells-Batch-2-varyHTL_1_0.pl.csv"
DIALECTS = DATA / "dialects"


def parse(path: Path):
    return parse_bytes(path.read_bytes(), filename=path.name)


def test_edinburgh_real_file_451_points_450_to_900_nm():
    parsed = parse(REAL_PL)
    assert parsed.format == "edinburgh_fls"
    assert parsed.shape == "spectrum"
    assert len(parsed.data) == 451
    assert parsed.data["wavelength_nm"].iloc[0] == 450.0
    assert parsed.data["wavelength_nm"].iloc[-1] == 900.0
    # background-corrected: negative counts must be kept, not dropped
    assert (parsed.data["intensity_counts"] < 0).any()
    assert parsed.metadata["excitation_nm"] == 367.0
    assert parsed.metadata["scan_type"] == "Emission Scan"


def test_edinburgh_two_traces_sharing_the_wavelength_column():
    parsed = parse(DIALECTS / "edinburgh_two_traces.csv")
    assert parsed.metadata["label"] == "film_A"
    assert list(parsed.extra) == ["film_B"]
    peak_a = parsed.data.loc[parsed.data["intensity_counts"].idxmax(), "wavelength_nm"]
    film_b = parsed.extra["film_B"]
    peak_b = film_b.loc[film_b["intensity_counts"].idxmax(), "wavelength_nm"]
    assert (peak_a, peak_b) == (650.0, 700.0)


def test_edinburgh_refuses_time_axis_with_reason():
    text = REAL_PL.read_text().replace("Xaxis,Wavelength", "Xaxis,Time")
    with pytest.raises(ParseError, match="only wavelength scans"):
        parse_bytes(text.encode(), filename="decay.csv")


def test_cary_csv_first_sample_and_extra_samples():
    parsed = parse(DIALECTS / "cary_absorbance.csv")
    assert parsed.format == "cary_csv" and parsed.shape == "absorbance"
    assert parsed.metadata["sample"] == "CsPbI3 QD film"
    assert len(parsed.data) == 226  # 800 → 350 nm in 2 nm steps; the method footer is not data
    assert parsed.data["wavelength_nm"].is_monotonic_increasing
    row = parsed.data.set_index("wavelength_nm").loc[620.0, "absorbance"]
    assert row == pytest.approx(0.3 + 1 / (1 + 2.7182818**4), abs=1e-5)
    assert "toluene blank" in parsed.extra


def test_shimadzu_text_with_title_line():
    parsed = parse(DIALECTS / "shimadzu_absorbance.txt")
    assert parsed.format == "shimadzu_uvvis"
    assert parsed.metadata["title"] == "QD-0042 in hexane.spc - RawData"
    data = parsed.data.set_index("wavelength_nm")["absorbance"]
    assert data.loc[500.0] == pytest.approx(0.25 + 0.001 * 200)


def test_jasco_percent_transmittance_converted_to_absorbance():
    parsed = parse(DIALECTS / "jasco_transmittance.txt")
    assert parsed.format == "jasco"
    data = parsed.data.set_index("wavelength_nm")["absorbance"]
    # fixture written as %T = 100·10^(−0.002·(700 − λ)) → A(500 nm) = 0.4
    assert data.loc[500.0] == pytest.approx(0.4, abs=1e-6)


def test_avantes_absorbance_from_sample_dark_reference_with_decimal_commas():
    parsed = parse(DIALECTS / "avantes_raw.txt")
    assert parsed.format == "avantes_raw"
    data = parsed.data.set_index("wavelength_nm")["absorbance"]
    # fixture: D = 1000, R = 41000, S = D + (R − D)·10^(−0.001·(λ − 400)) → A(500 nm) = 0.1
    assert data.loc[500.0] == pytest.approx(0.1, abs=1e-6)
    assert parsed.extra["raw_counts"]["dark_counts"].iloc[0] == 1000.0


def test_avantes_refuses_sample_below_dark():
    lines = (DIALECTS / "avantes_raw.txt").read_text().splitlines()
    broken = [line if not line[:1].isdigit() else ";".join([line.split(";")[0], "0", "1000", "41000", "0"])
              for line in lines]
    with pytest.raises(ParseError, match="not above dark"):
        parse_bytes("\n".join(broken).encode(), filename="dark.txt")


def test_optical_parsers_do_not_claim_other_instruments_files():
    mine = {"edinburgh_fls", "cary_csv", "shimadzu_uvvis", "jasco", "avantes_raw"}
    others = [p for p in (DATA / "public").iterdir() if p.suffix != ".json"]
    others += [p for p in (DATA / "real").iterdir() if "pl.csv" not in p.name]
    for path in others:
        text = path.read_text(errors="replace")
        assert all(parsers()[name].sniff(text) == 0 for name in mine), path.name
    assert sniff(REAL_PL.read_text()).name == "edinburgh_fls"


def test_every_optical_parser_describes_its_formats():
    for name in ("edinburgh_fls", "cary_csv", "shimadzu_uvvis", "jasco", "avantes_raw"):
        assert parsers()[name].description
