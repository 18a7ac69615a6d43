"""Every non-XRD file of tests/data/real-world/ through `manage.py analyze --json`, asserting what
its README row says: the right numbers within stated tolerances, or the warning or refusal.
No database (no django_db mark)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

HC_EV_NM = 1239.84193


def analyze(*args: str) -> dict:
    out = io.StringIO()
    call_command("analyze", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def refused(*args: str) -> str:
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("analyze", *args, "--json", stdout=out)
    assert exit_.value.code == 1
    return json.loads(out.getvalue())["error"]


@pytest.fixture
def rw(data_dir):
    return lambda name: str(data_dir / "real-world" / name)


def by_sample(result: dict) -> dict[str, dict]:
    return {s["sample"]: s for s in result["samples"]}


def test_cary_filters_every_sample_its_own_curve_and_unit(rw):
    # README: 11 samples, some Abs and some %T, ragged columns; nothing slides between columns.
    result = analyze("--kind", "absorbance", rw("Cary_filters.csv"), "--od-wavelength-nm", "700")
    samples = by_sample(result)
    assert list(samples) == ["600LP", "600LP1", "600LP2", "550LP", "600SP800N", "600SP800N1", "530SP", "GSBS",
                             "550LP2", "530SP2", "530SP_HI"]
    assert not result["metrics"]  # a file-level number would belong to no sample
    # 600LP1 is %T: 700 nm is outside its 455–650 nm range (its own length, not its neighbour's)
    assert "optical_density" not in samples["600LP1"]["metrics"]
    assert any("455–650 nm" in w for w in samples["600LP1"]["warnings"])
    # 600LP2 (%T): at 700.0 nm (interpolated) A = 2 − log10 %T of its own column
    assert samples["600LP2"]["metrics"]["optical_density"]["value"] == pytest.approx(0.0252, abs=0.002)
    # 530SP_HI covers 700–800 nm only and saturates at its blue end: its points are its own
    assert any("700–721 nm" in w for w in samples["530SP_HI"]["warnings"])


def test_cary_filters_parsed_columns_do_not_slide(data_dir):
    from measurements.parsers import parse_bytes

    parsed = parse_bytes((data_dir / "real-world" / "Cary_filters.csv").read_bytes(), filename="Cary_filters.csv")
    samples = {s.metadata["sample"]: s for s in parsed.samples}
    assert {n: len(s.data) for n, s in samples.items()} == {
        "600LP": 121, "600LP1": 196, "600LP2": 301, "550LP": 301, "600SP800N": 301, "600SP800N1": 301,
        "530SP": 301, "GSBS": 301, "550LP2": 301, "530SP2": 401, "530SP_HI": 101}
    assert samples["600LP"].axes["y"]["written"] == "Abs" and samples["600LP1"].axes["y"]["written"] == "%T"
    assert samples["600LP1"].axes["y"]["converted"] == "A = 2 - log10(%T)"
    first = samples["600LP1"].data.set_index("wavelength_nm")["absorbance"]
    assert first.loc[650.0537109] == pytest.approx(2 - __import__("math").log10(93.92353058), abs=1e-9)
    # Cary writes 10 for a saturated point: marked, never a number
    lp = samples["600LP"].data.set_index("wavelength_nm")
    assert bool(lp.loc[410.0106812, "saturated"]) and lp["absorbance"].max() < 10


def test_cdse_and_cdmnse_excitons_and_the_cdse_onset(rw):
    # README: CdMnSe first exciton 516 nm; CdSe shoulder near 640 nm; CdSe onset near 1.85 eV.
    samples = by_sample(analyze("--kind", "absorbance", rw("CdSe_CdMnSe_abs_original.csv")))
    assert list(samples) == ["1-CdSe", "2-CdMnSe"]
    cdse, cdmnse = samples["1-CdSe"]["metrics"], samples["2-CdMnSe"]["metrics"]
    assert cdmnse["first_exciton_peak_wavelength"]["value"] == pytest.approx(516, abs=4)
    assert cdse["first_exciton_peak_wavelength"]["value"] == pytest.approx(640, abs=10)
    assert cdse["first_exciton_peak_wavelength"]["extra"]["method"] == "second derivative"  # a shoulder
    assert cdse["optical_gap"]["value"] == pytest.approx(1.85, abs=0.03)
    assert cdse["optical_gap"]["value"] < HC_EV_NM / cdse["first_exciton_peak_wavelength"]["value"]


def test_jasco_pbse_nir_exciton_and_no_od_at_500_nm(rw):
    # README: 1S at 1445 nm (0.86 eV); no data at 500 nm → that metric missing, the rest computed.
    result = analyze("--kind", "absorbance", rw("JASCO_PbSe_batch_1.txt"))
    exciton = result["metrics"]["first_exciton_peak_wavelength"]
    assert exciton["value"] == pytest.approx(1445, abs=10)
    assert exciton["extra"]["energy_ev"] == pytest.approx(0.86, abs=0.01)
    assert "optical_density" not in result["metrics"]
    assert any("od_wavelength_nm" in w and "700–2500 nm" in w for w in result["warnings"])
    assert any("step in the absorbance at 898 nm" in w for w in result["warnings"])  # detector change, levelled
    with_od = analyze("--kind", "absorbance", rw("JASCO_PbSe_batch_1.txt"), "--od-wavelength-nm", "1445")
    assert with_od["metrics"]["optical_density"]["value"] == pytest.approx(0.42687, abs=1e-5)  # the recorded value


def test_perkinelmer_transmission_is_absorbance_never_pl(data_dir, rw):
    from measurements.parsers import parse_bytes

    parsed = parse_bytes((data_dir / "real-world" / "Sample5926.Probe.Raw.asc").read_bytes(), filename="x.asc")
    assert (parsed.format, parsed.shape) == ("perkinelmer_asc", "absorbance")
    assert parsed.metadata["kind_hint"]["kinds"] == ["absorbance"]  # uploaded without a kind: not PL
    assert parsed.axes["y"]["written"] == "%T"
    error = refused("--kind", "pl", rw("Sample5926.Probe.Raw.asc"))
    assert "this is an absorbance/transmission spectrum" in error and "not a spectrum" in error
    result = analyze("--kind", "absorbance", rw("Sample5926.Probe.Raw.asc"))
    assert "optical_density" not in result["metrics"]  # 800–1900 nm: no 500 nm
    assert any("saturated" in w for w in result["warnings"])  # %T ≤ 0 at 820–830 nm: not numbers


def test_labspec_raman_gives_no_pl_peak(data_dir, rw):
    from measurements.parsers import parse_bytes

    error = refused("--kind", "pl", rw("raman_labspec_raman_example.txt"))
    assert "Raman shift in cm⁻¹" in error and "raman_labspec_raman_example.txt" in error
    parsed = parse_bytes((data_dir / "real-world" / "raman_labspec_raman_example.txt").read_bytes(), filename="r.txt")
    assert parsed.axes["x"]["unit"] == "cm-1" and parsed.metadata["kind_hint"]["kinds"] == []
    assert "Raman" in refused("--kind", "el", rw("raman_labspec_raman_example.txt"))


@pytest.mark.parametrize("name, gap_ev, plqy, qfls", [
    ("0_1_0-ecf314iynbrwtd33zkk5auyebh.abspl.txt", 2.095, 0.0677, 1.532),
    ("100_40-1.abspl.txt", 1.671, 0.0400, 1.172),
])
def test_luqy_pro_header_results_kept_and_the_peak_matches_the_bandgap(rw, name, gap_ev, plqy, qfls):
    result = analyze("--kind", "pl", rw(name))
    m = result["metrics"]
    assert m["plqy"] == {"value": plqy, "unit": "%", "flags": ["instrument_reported"],
                         "extra": {"source": "luqy_pro: header 'LuQY (%)'"}}
    assert m["qfls"]["value"] == qfls and m["qfls"]["unit"] == "eV"
    assert m["pl_bandgap"]["value"] == gap_ev and "instrument_reported" in m["pl_bandgap"]["flags"]
    # the PL peak LEDger finds agrees with the instrument's bandgap within 10 meV
    assert m["pl_peak_energy"]["value"] == pytest.approx(gap_ev, abs=0.01)


def test_fapbi3_tcspc_bins_in_ps_give_microsecond_lifetimes(rw):
    result = analyze("--kind", "trpl", rw("M0-FAPI3Q6-Spot2_5400s_10kHz_ND1_210cps_0.0209011uW.trpl.dat"))
    tau = result["metrics"]["tau_avg"]
    assert tau["unit"] == "ns" and 1_000 < tau["value"] < 20_000  # of order µs (ps bins read as ps)
    assert not any("not stated" in w for w in result["warnings"])


def test_becker_hickl_spcm_decay(data_dir, rw):
    from measurements.parsers import parse_bytes

    parsed = parse_bytes((data_dir / "real-world" / "spcm_test_data.asc").read_bytes(), filename="s.asc")
    assert parsed.format == "becker_hickl_asc" and len(parsed.data) == 1024
    assert parsed.data["time_ns"].iloc[-1] == pytest.approx(3.332314)
    tau = analyze("--kind", "trpl", rw("spcm_test_data.asc"))["metrics"]["tau_avg"]
    assert 0.1 < tau["value"] < 3.3  # inside the 3.3 ns window


@pytest.mark.parametrize("kind", ["xrd", "pl", "absorbance", "trpl"])
def test_a_three_point_file_is_too_few_points_whatever_the_kind(rw, kind):
    error = refused("--kind", kind, rw("test_sample_xy.xy"))
    assert "test_sample_xy.xy" in error and "3 points: too few" in error
    assert "no parser recognises" not in error and "voltage" not in error


def test_photodiode_responsivity_and_spectrometer_calibration_are_read(data_dir):
    from measurements.parsers import parse_bytes

    resp = parse_bytes((data_dir / "real-world" / "Responsivity_PD.txt").read_bytes(), filename="r.txt",
                       shape="spectrum").data.set_index("wavelength_nm")
    assert resp.iloc[:, 0].loc[648.0] == pytest.approx(0.456)  # README: ~0.456 A/W at 648 nm
    cal = parse_bytes((data_dir / "real-world" / "Calibration_QEPro_QP600_20210421.txt").read_bytes(),
                      filename="c.txt", shape="spectrum").data
    assert len(cal) == 1044 and cal["wavelength_nm"].between(397, 772).all()


def test_the_photodiode_rig_route_with_the_real_responsivity(data_dir):
    # GatherLab's route: a photodiode J-V-L sweep, the real responsivity, a visible EL spectrum.
    result = analyze("--kind", "led", "--jlv", str(data_dir / "dialects" / "jlv_photodiode.csv"),
                     "--spectrum", str(data_dir / "public" / "el_spectrum.txt"),
                     "--responsivity", str(data_dir / "real-world" / "Responsivity_PD.txt"),
                     "--pixel-area", "0.09", "--photodiode-radius-mm", "5", "--photodiode-distance-mm", "100")
    assert result["metrics"]["eqe_max"]["value"] > 0
    # the headerless responsivity's wavelength unit was assumed: said so
    assert any("Responsivity_PD.txt" in w and "not stated" in w for w in result["warnings"])
