"""Delimited and Ocean Optics parsers: each dialect → the right columns, units and metadata;
each bad input → ParseError/UnknownFormat with a reason a person can act on."""

from __future__ import annotations

import numpy as np
import pytest

from measurements.parsers import ParseError, UnknownFormat, parse_bytes, sniff


def _parse(path, **kw):
    return parse_bytes(path.read_bytes(), filename=path.name, **kw)


# --- delimited: J-L-V ------------------------------------------------------------------------


def test_public_jlv_csv_is_jlv_in_si_units(data_dir):
    parsed = _parse(data_dir / "public" / "jlv_sweep.csv")
    assert (parsed.format, parsed.shape) == ("delimited_jlv", "jlv")
    assert list(parsed.data.columns[:3]) == ["voltage_v", "current_a", "luminance_cd_m2"]
    assert len(parsed.data) == 161
    assert parsed.data["current_a"].iloc[-1] == pytest.approx(3.6e-2)
    assert parsed.metadata["delimiter"] == "comma"
    assert parsed.metadata["voltage_monotonic"] is True


def test_tab_separated_with_preamble_mA_and_leading_time_column(data_dir):
    parsed = _parse(data_dir / "dialects" / "jlv_tab_mA_time.tsv")
    assert parsed.shape == "jlv"
    assert parsed.metadata["delimiter"] == "tab"
    assert {"time_h", "voltage_v", "current_a", "luminance_cd_m2"} <= set(parsed.data.columns)
    # mA → A and s → h
    assert parsed.data["current_a"].iloc[-1] == pytest.approx(3.6e-2)
    assert parsed.data["time_h"].iloc[4] == pytest.approx(1.0 / 3600)
    assert any("LabVIEW" in line for line in parsed.metadata["preamble"])


def test_semicolon_decimal_comma_units_decide_columns(data_dir):
    parsed = _parse(data_dir / "dialects" / "jlv_semicolon_decimal_comma.csv")
    assert parsed.shape == "jlv"
    assert parsed.metadata["decimal_comma"] is True
    assert {"voltage_v", "current_density_ma_cm2", "luminance_cd_m2"} <= set(parsed.data.columns)
    assert parsed.data["current_density_ma_cm2"].iloc[-1] == pytest.approx(400.0)


def test_odd_headers_need_and_accept_a_column_mapping(data_dir):
    path = data_dir / "dialects" / "jlv_odd_columns.csv"
    with pytest.raises(ParseError, match="cannot tell which column"):
        _parse(path)
    options = {"columns": {"Vsrc": "voltage_v", "Isrc": "current_a", "Lmeter": "luminance_cd_m2"},
               "units": {"Isrc": "uA"}}
    parsed = _parse(path, format="delimited_jlv", options=options)
    assert parsed.shape == "jlv"
    assert parsed.data["current_a"].iloc[-1] == pytest.approx(3.6e-2)


def test_column_mapping_rejects_unknown_column_and_wrong_unit(data_dir):
    path = data_dir / "dialects" / "jlv_odd_columns.csv"
    with pytest.raises(ParseError, match="names 'Vbias'"):
        _parse(path, format="delimited_jlv", options={"columns": {"Vbias": "voltage_v"}})
    with pytest.raises(ParseError, match="does not fit current_a"):
        _parse(path, format="delimited_jlv",
               options={"columns": {"Vsrc": "voltage_v", "Isrc": "current_a"}, "units": {"Isrc": "cd/m2"}})


def test_up_down_sweep_with_duplicates_is_segmented(data_dir):
    parsed = _parse(data_dir / "dialects" / "jlv_up_down_duplicates.csv")
    assert parsed.shape == "jlv"
    assert parsed.metadata["sweeps"] == 2
    assert parsed.metadata["voltage_monotonic"] is False
    assert sorted(parsed.data["sweep"].unique()) == [0, 1]


def test_photodiode_current_column(data_dir):
    parsed = _parse(data_dir / "dialects" / "jlv_photodiode.csv")
    assert parsed.shape == "jlv"
    assert {"voltage_v", "current_a", "photodiode_current_a"} <= set(parsed.data.columns)
    assert parsed.data["current_a"].iloc[-1] == pytest.approx(1e-3)  # 1 mA


def test_photodiode_voltage_column_from_header_words():
    text = b"Voltage (V),Current (A),PD voltage (V)\n0,0,0.001\n1,1e-6,0.001\n2,1e-4,0.2\n3,1e-3,1.5\n"
    parsed = parse_bytes(text, filename="pd_v.csv")
    assert parsed.shape == "jlv"
    assert "photodiode_voltage_v" in parsed.data.columns


# --- delimited: solar-cell J-V, lifetime, two columns -------------------------------------------


def test_real_keithley_solar_cell_file_reads_as_jv(data_dir):
    path = next((data_dir / "real").glob("HZB_MiGo_*jv.txt"))
    parsed = _parse(path)
    assert parsed.shape == "jv"
    assert parsed.data.shape == (73, 7)  # voltage + six sweeps (3 pixels × fwd/rev)
    assert parsed.data.columns[0] == "voltage_v"
    assert parsed.metadata["units"]["current_density_ma_cm2"] == "mA/cm2"
    assert parsed.data["voltage_v"].iloc[0] == pytest.approx(1.25)


def test_real_keithley_file_as_jlv_names_the_missing_column(data_dir):
    path = next((data_dir / "real").glob("HZB_MiGo_*jv.txt"))
    with pytest.raises(ParseError, match="no luminance or photodiode column"):
        _parse(path, shape="jlv")


def test_lifetime_csv_with_comment_preamble(data_dir):
    parsed = _parse(data_dir / "public" / "lifetime_1.csv")
    assert (parsed.format, parsed.shape) == ("delimited_lifetime", "lifetime")
    assert {"time_h", "luminance_cd_m2", "voltage_v"} <= set(parsed.data.columns)
    assert parsed.metadata["preamble"][0].startswith("# constant current")


def test_lifetime_in_seconds_is_converted_to_hours(data_dir):
    parsed = _parse(data_dir / "dialects" / "lifetime_seconds.tsv")
    reference = _parse(data_dir / "public" / "lifetime_1.csv")
    assert parsed.shape == "lifetime"
    np.testing.assert_allclose(parsed.data["time_h"], reference.data["time_h"], atol=1e-4)


def test_two_column_responsivity_is_a_low_confidence_spectrum(data_dir):
    parsed = _parse(data_dir / "dialects" / "responsivity_flat.csv", shape="spectrum")
    assert parsed.shape == "spectrum"
    assert parsed.data.columns[0] == "wavelength_nm"
    assert parsed.data.iloc[:, 1].eq(0.5).all()


def test_short_row_gives_line_number():
    text = b"# sweep\nVoltage (V),Current (A),Luminance (cd/m2)\n0,0,0\n1,1e-6,0\n2,1e-5,1\n3,1e-4\n4,1e-3,100\n"
    with pytest.raises(ParseError, match=r"line 6: expected 3 numeric columns, found 2"):
        parse_bytes(text, filename="short.csv")


def test_text_inside_data_gives_line_number():
    text = b"Voltage (V),Current (A),Luminance (cd/m2)\n0,0,0\n1,1e-6,0\n2,1e-5,1\n3,oops,5\n"
    with pytest.raises(ParseError, match=r"line 5: .*not a number: 'oops'"):
        parse_bytes(text, filename="oops.csv")


# --- Ocean Optics ------------------------------------------------------------------------------


def test_oceanview_el_spectrum(data_dir):
    parsed = _parse(data_dir / "public" / "el_spectrum.txt")
    assert (parsed.format, parsed.shape) == ("oceanview", "spectrum")
    assert list(parsed.data.columns) == ["wavelength_nm", "intensity_counts"]
    assert parsed.metadata["integration_time_s"] == pytest.approx(0.1)
    assert parsed.metadata["serial"] == "QEP01234"
    assert parsed.metadata["scans_averaged"] == 3
    assert parsed.metadata["electric_dark_correction"] is True
    assert parsed.metadata["pixel_count"] == parsed.metadata["pixels_read"] == 1044


def test_spectrasuite_with_end_marker(data_dir):
    parsed = _parse(data_dir / "dialects" / "el_spectrasuite.txt")
    assert (parsed.format, parsed.shape) == ("spectrasuite", "spectrum")
    assert parsed.metadata["integration_time_s"] == pytest.approx(0.25)  # 250000 µs
    assert parsed.metadata["serial"] == "USB4F01234"
    assert parsed.metadata["scans_averaged"] == 10
    assert parsed.metadata["dark_spectrum_present"] is True
    assert parsed.metadata["end_marker_present"] is True
    assert len(parsed.data) == parsed.metadata["pixel_count"] == 1044


def test_public_spectrasuite_pl_file(data_dir):
    parsed = _parse(data_dir / "public" / "pl_spectrum.txt")
    assert parsed.format == "spectrasuite"
    assert len(parsed.data) == 801
    assert parsed.metadata["integration_time_s"] == pytest.approx(0.1)


def test_ooibase32_2048_pixels(data_dir):
    parsed = _parse(data_dir / "dialects" / "el_ooibase32_2048.txt")
    assert (parsed.format, parsed.shape) == ("ooibase32", "spectrum")
    assert len(parsed.data) == 2048
    assert parsed.metadata["integration_time_s"] == pytest.approx(0.150)  # ms in the header
    assert parsed.metadata["serial"] == "USB2E1234"
    assert parsed.metadata["electric_dark_correction"] is False
    assert parsed.data["intensity_counts"].median() > 2900  # dark offset kept for the analysis


def test_oceanview_bad_data_row_gives_line_number(data_dir):
    text = (data_dir / "public" / "el_spectrum.txt").read_text().splitlines()
    text[20] = "401.9\tsaturated"
    with pytest.raises(ParseError, match=r"line 21: .*found text"):
        parse_bytes("\n".join(text).encode(), filename="bad.txt")


# --- bad input ---------------------------------------------------------------------------------


def test_empty_file():
    with pytest.raises(ParseError, match="empty"):
        parse_bytes(b"  \n", filename="empty.csv")


def test_binary_junk():
    junk = bytes(range(256)) * 8
    with pytest.raises(UnknownFormat, match="binary"):
        parse_bytes(junk, filename="junk.bin")


def test_prose_is_unknown_format():
    with pytest.raises(UnknownFormat):
        parse_bytes(b"Dear colleague,\nplease find the data attached.\nBest, A.\n", filename="mail.txt")


def test_sniff_is_by_content_not_extension(data_dir):
    content = (data_dir / "public" / "el_spectrum.txt").read_text()
    assert sniff(content).name == "oceanview"
    parsed = parse_bytes(content.encode(), filename="looks_like.csv")
    assert parsed.format == "oceanview"
