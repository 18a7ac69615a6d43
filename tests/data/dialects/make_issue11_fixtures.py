"""Regenerate the issue-11 dialect fixtures (run once; outputs are committed).

Each re-expresses a public reference file in another container or unit, so its known answer
still holds, or is a small case whose answer is known by construction:
    .venv/bin/python tests/data/dialects/make_issue11_fixtures.py

- jlv_sweep.xlsx: public/jlv_sweep.csv as an Excel sheet "Pixel A" (a notes row, current in mA).
- jlv_two_sheets.xlsx: two sheets with tables (must be refused with the sheet names).
- lifetime_log.tdms: public/lifetime_1.csv as a LabVIEW TDMS group, time in s (unit_string).
- lifetime_waveform.tdms: the same luminance as a waveform channel (wf_increment in s), no time channel.
- pl_labram_tail.txt: LabSpec export in nm, PL Gaussian at 700 nm, FWHM 40 nm, on a laser
  edge-filter tail rising towards 550 nm (amplitude 3000, decay 25 nm), 50-count offset, σ 5.
- el_nir_oceanview.txt: OceanView export of a near-infrared EL band at 850 nm, FWHM 40 nm.
- absorbance_negative.csv: a flat −0.05 A spectrum with noise (sample brighter than reference).
- absorbance_saturated.csv: Cary-style single sample, exciton 0.6 A at 620 nm, continuum
  saturating (Cary's 10) below 420 nm.
- ta_matrix_ns.csv / ta_matrix_seconds.csv: ta_matrix.csv with the delays in ns (corner cell
  "Time (ns)") and in s (no unit, values ~1e-12 s).
"""

from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
PUBLIC = HERE.parent / "public"
rng = np.random.default_rng(20251101)


def jlv_xlsx() -> None:
    from openpyxl import Workbook

    jlv = np.loadtxt(PUBLIC / "jlv_sweep.csv", delimiter=",", skiprows=1)
    book = Workbook()
    sheet = book.active
    sheet.title = "Pixel A"
    sheet.append(["Keithley 2400 + LS-110, pixel DEV-0117-A"])
    sheet.append(["Voltage (V)", "Current (mA)", "Luminance (cd/m2)"])
    for v, i_a, lum in jlv:
        sheet.append([float(v), float(i_a * 1e3), float(lum)])
    book.save(HERE / "jlv_sweep.xlsx")
    second = book.create_sheet("Pixel B")
    second.append(["Voltage (V)", "Current (mA)", "Luminance (cd/m2)"])
    for v, i_a, lum in jlv:
        second.append([float(v), float(i_a * 2e3), float(lum * 2)])
    book.save(HERE / "jlv_two_sheets.xlsx")


def lifetime_tdms() -> None:
    from nptdms import ChannelObject, GroupObject, RootObject, TdmsWriter

    data = np.loadtxt(PUBLIC / "lifetime_1.csv", delimiter=",", skiprows=2)
    time_h, luminance, voltage = data.T
    with TdmsWriter(HERE / "lifetime_log.tdms") as writer:
        writer.write_segment([
            RootObject(properties={"name": "lifetime rack 2"}),
            GroupObject("Lifetime", properties={"current_density_mA_cm2": 20.0}),
            ChannelObject("Lifetime", "Time", time_h * 3600.0, properties={"unit_string": "s"}),
            ChannelObject("Lifetime", "Luminance", luminance, properties={"unit_string": "cd/m2"}),
            ChannelObject("Lifetime", "Voltage", voltage, properties={"unit_string": "V"}),
        ])
    step_s = float(np.median(np.diff(time_h))) * 3600.0
    even = np.interp(np.arange(time_h.size) * step_s / 3600.0, time_h, luminance)
    with TdmsWriter(HERE / "lifetime_waveform.tdms") as writer:
        writer.write_segment([
            GroupObject("Rack"),
            ChannelObject("Rack", "Luminance", even, properties={
                "unit_string": "cd/m2", "wf_start_offset": 0.0, "wf_increment": step_s}),
        ])


def pl_labram_tail() -> None:
    x = np.arange(550.0, 850.0, 0.5)
    sigma = 40.0 / (2 * np.sqrt(2 * np.log(2)))
    y = (1000 * np.exp(-0.5 * ((x - 700) / sigma) ** 2) + 3000 * np.exp(-(x - 550) / 25) + 50
         + rng.normal(0, 5, x.size))
    header = ["#Acq. time (s)=\t10", "#Accumulations=\t2", "#Instrument=\tLabRAM HR Evol",
              "#Laser=\t532nm_Edge", "#Grating=\t600 (750nm)", "#Title=\tFILM-0042 PL",
              "#AxisType[0]=Intens", "#AxisUnit[0]=Cnt", "#AxisType[1]=Spectr", "#AxisUnit[1]=nm"]
    rows = [f"{a:.2f}\t{b:.3f}" for a, b in zip(x, y, strict=True)]
    (HERE / "pl_labram_tail.txt").write_text("\r\n".join(header + rows) + "\r\n", encoding="cp1252")


def el_nir() -> None:
    x = np.linspace(500.0, 1100.0, 1200)
    sigma = 40.0 / (2 * np.sqrt(2 * np.log(2)))
    y = 20000 * np.exp(-0.5 * ((x - 850) / sigma) ** 2) + 1500 + rng.normal(0, 10, x.size)
    head = ["Data from el_nir.txt Node", "", "Date: Mon Nov 03 10:00:00 CET 2025", "User: lab",
            "Spectrometer: QEP01234", "Trigger mode: 0", "Integration Time (sec): 1.000000E-1",
            "Scans to average: 1", "Electric dark correction enabled: false",
            "Nonlinearity correction enabled: false", "Boxcar width: 0", "XAxis mode: Wavelengths",
            "Number of Pixels in Spectrum: 1200", ">>>>>Begin Spectral Data<<<<<"]
    rows = [f"{a:.3f}\t{b:.2f}" for a, b in zip(x, y, strict=True)]
    (HERE / "el_nir_oceanview.txt").write_text("\n".join(head + rows) + "\n")


def absorbance_cases() -> None:
    x = np.arange(400.0, 800.01, 1.0)
    negative = -0.05 + rng.normal(0, 0.002, x.size)
    (HERE / "absorbance_negative.csv").write_text(
        "Wavelength (nm),Absorbance\n" + "\n".join(f"{a:.1f},{b:.5f}" for a, b in zip(x, negative, strict=True)) + "\n")
    x = np.arange(800.0, 349.9, -2.0)
    a = 0.6 * np.exp(-0.5 * ((x - 620) / 12) ** 2) + 1 / (1 + np.exp((x - 560) / 15)) * 3.5
    a = np.where(x < 420, 10.0, a)  # Cary's saturation value
    rows = "\n".join(f"{w:.1f},{v:.6f}," for w, v in zip(x, a, strict=True))
    (HERE / "absorbance_saturated.csv").write_text(
        "QD-0099 concentrated,,\nWavelength (nm),Abs,\n" + rows + "\n\nQD-0099 concentrated\nCollection Time: 11/3/2025\n")


def ta_units() -> None:
    lines = (HERE / "ta_matrix.csv").read_text().splitlines()
    head, body = lines[0], lines[1:]

    def rewrite(corner: str, scale: float) -> str:
        out = [corner + head[head.index(","):]]
        for row in body:
            delay, rest = row.split(",", 1)
            out.append(f"{float(delay) * scale:.6e},{rest}")
        return "\n".join(out) + "\n"

    (HERE / "ta_matrix_ns.csv").write_text(rewrite("Time (ns)", 1e-3))
    (HERE / "ta_matrix_seconds.csv").write_text(rewrite("0", 1e-12))


if __name__ == "__main__":
    jlv_xlsx()
    lifetime_tdms()
    pl_labram_tail()
    el_nir()
    absorbance_cases()
    ta_units()
