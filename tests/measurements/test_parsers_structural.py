"""Parsers for TCSPC, XRD and TA files: sniffing picks them and they read the stated values."""

from pathlib import Path

import pytest

from measurements.parsers import ParseError, parse_bytes, parsers

DATA = Path(__file__).resolve().parents[1] / "data"
DIALECTS = DATA / "dialects"


def _parse(path: Path):
    return parse_bytes(path.read_bytes(), filename=path.name)


@pytest.mark.parametrize("name, fmt, wavelength_a, columns", [
    ("public/xrd.xy", "xy", 1.5406, ["two_theta_deg", "intensity"]),
    ("dialects/xrd_bruker_eva.xy", "bruker_eva_xy", 1.788996, ["two_theta_deg", "intensity"]),
    ("dialects/xrd_panalytical.xrdml", "xrdml", 1.5405980, ["two_theta_deg", "intensity"]),
    ("dialects/xrd_rigaku.ras", "rigaku_ras", 1.540593, ["two_theta_deg", "intensity"]),
    ("dialects/xrd_giwaxs.xye", "xy", 1.24, ["two_theta_deg", "intensity", "esd"]),
])
def test_xrd_formats_and_their_wavelength(name, fmt, wavelength_a, columns):
    parsed = _parse(DATA / name)
    assert parsed.format == fmt and parsed.shape == "xrd"
    assert list(parsed.data.columns) == columns
    assert parsed.metadata["wavelength_a"] == pytest.approx(wavelength_a, abs=1e-6)


def test_xrd_axis_values():
    xrdml = _parse(DIALECTS / "xrd_panalytical.xrdml").data
    assert xrdml["two_theta_deg"].iloc[0] == pytest.approx(10.0) and xrdml["two_theta_deg"].iloc[-1] == pytest.approx(40.0)
    assert len(xrdml) == 1501  # 10–40° in 0.02° steps
    public = _parse(DATA / "public" / "xrd.xy").data
    assert len(public) == 3001 and public["two_theta_deg"].iloc[0] == 10.0


def test_ras_applies_attenuation_factor():
    ras = _parse(DIALECTS / "xrd_rigaku.ras").data["intensity"]
    bruker_like_max = max(float(v.split()[1]) * 2 for v in
                          (DIALECTS / "xrd_rigaku.ras").read_text().split("*RAS_INT_START\n")[1].splitlines()[:-2])
    assert ras.max() == pytest.approx(bruker_like_max)


def test_no_wavelength_is_not_invented():
    parsed = _parse(DIALECTS / "xrd_no_wavelength.xy")
    assert parsed.shape == "xrd" and "wavelength_a" not in parsed.metadata


def test_ta_matrix_layout():
    parsed = _parse(DIALECTS / "ta_matrix.csv")
    assert parsed.format == "surface_xplorer_csv" and parsed.shape == "ta_matrix"
    frame = parsed.data
    assert frame.index.name == "delay_ps" and frame.shape == (100, 151)
    assert frame.columns[0] == 450.0 and frame.columns[-1] == 750.0
    assert frame.index[0] == pytest.approx(-2.0) and frame.index[-1] == pytest.approx(3000.0)
    assert parsed.metadata["signal"] == "delta_a"


def test_ta_matrix_transposed_layout(tmp_path):
    frame = _parse(DIALECTS / "ta_matrix.csv").data
    out = frame.T
    lines = ["0," + ",".join(f"{d:g}" for d in out.columns)]
    lines += [f"{w:g}," + ",".join(f"{v:.6e}" for v in row) for w, row in zip(out.index, out.to_numpy(), strict=True)]
    path = tmp_path / "transposed_dTT.csv"
    path.write_text("\n".join(lines))
    parsed = _parse(path)
    assert parsed.metadata["orientation"] == "wavelength_rows"
    assert parsed.metadata["signal"] == "delta_t_over_t"  # from the file name
    assert parsed.data.shape == (100, 151) and parsed.data.columns[0] == 450.0


def test_picoquant_truncated_file_is_refused():
    text = (DATA / "real" / "07-Si6505_10kHz-ND1-0.40uW-300s.trpl.dat").read_text()
    truncated = "\n".join(text.splitlines()[:5000])
    with pytest.raises(ParseError, match="32768 channels per curve"):
        parse_bytes(truncated.encode(), filename="cut.dat")


def test_every_parser_here_has_a_description():
    for name in ("picoquant_histogram", "tcspc_two_column", "xy", "bruker_eva_xy", "xrdml", "rigaku_ras",
                 "surface_xplorer_csv"):
        assert parsers()[name].description


def _xy(rows: list[str]) -> bytes:
    return ("# 2theta intensity, Cu Ka1 1.5406 A\n" + "\n".join(rows) + "\n").encode()


def test_xy_block_reads_each_field_as_float_does():
    """The .xy block is converted in one call by numpy's C reader when it is one rectangle of
    numbers: the same doubles float() gives field by field (awkward spellings included), the
    narrowest row's width when rows differ, and a row numpy would skip or refuse read (or named)
    row by row as before."""
    fields = ["10.0000", "1e1", "10.", ".5", "+3", "1.000000000000000111", "2.675e-1", "7.1234567890123456789"]
    rows = [f"{10 + 0.01 * k:.4f} {fields[k % len(fields)]}" for k in range(40)]
    data = parse_bytes(_xy(rows), filename="p.xy").data
    assert data["intensity"].tolist() == [float(fields[k % len(fields)]) for k in range(40)]
    assert data["two_theta_deg"].tolist() == [float(f"{10 + 0.01 * k:.4f}") for k in range(40)]
    # One row with an esd column among two-column rows: the narrowest width, every row kept.
    mixed = parse_bytes(_xy([*rows[:20], rows[20] + " 3.0", *rows[21:]]), filename="p.xy").data
    assert list(mixed.columns) == ["two_theta_deg", "intensity"] and len(mixed) == 40
    # A field float() takes and numpy's reader does not (digit grouping): read, as float() reads it.
    grouped = parse_bytes(_xy([*rows[:5], "10.0500 1_000", *rows[6:]]), filename="p.xy").data
    assert grouped["intensity"].iloc[5] == 1000.0 and len(grouped) == 40
    # A row of separators only: numpy would skip it; it is refused, with its line number.
    with pytest.raises(ParseError) as bad:
        parse_bytes(_xy([*rows[:30], ",,", *rows[30:]]), filename="p.xy")
    assert bad.value.line == 32 and "',,'" in str(bad.value)
