"""Regenerate the synthetic dialect fixtures in this folder (run once; outputs are committed).

Each file re-expresses a public reference file (tests/data/public/) in another dialect, so the
known answers in public/answers.json still hold for it, or is a small hand-checkable case.
    cd /work/main && .venv/bin/python tests/data/dialects/make_dialects.py
"""

from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
PUBLIC = HERE.parent / "public"
rng = np.random.default_rng(20240601)

jlv = np.loadtxt(PUBLIC / "jlv_sweep.csv", delimiter=",", skiprows=1)
voltage, current_a, luminance = jlv.T
el = np.loadtxt(PUBLIC / "el_spectrum.txt", skiprows=14)

# 1. Tab-separated, '#' preamble plus a free-text line, current in mA, leading time column (s).
with open(HERE / "jlv_tab_mA_time.tsv", "w") as f:
    f.write("# LabVIEW JVL logger v3.2\n# pixel: DEV-0117-B2\n# compliance: 36 mA\n")
    f.write("Sweep started by glovebox user\n")
    f.write("Time (s)\tVoltage (V)\tCurrent (mA)\tLuminance (cd/m2)\n")
    for i, (v, i_a, lum) in enumerate(jlv):
        f.write(f"{0.25 * i:.2f}\t{v:.4f}\t{i_a * 1e3:.6e}\t{lum}\n")

# 2. Semicolon with decimal commas, German names: only the units say what is what.
with open(HERE / "jlv_semicolon_decimal_comma.csv", "w") as f:
    f.write("Spannung [V];Stromdichte [mA/cm²];Leuchtdichte [cd m-2]\n")
    for v, i_a, lum in jlv:
        f.write(f"{v:.4f};{i_a / 0.09 * 1e3:.6e};{lum}\n".replace(".", ","))

# 3. Odd headers without units: needs the column mapping override.
with open(HERE / "jlv_odd_columns.csv", "w") as f:
    f.write("Vsrc,Isrc,Lmeter\n")
    for v, i_a, lum in jlv:
        f.write(f"{v:.4f},{i_a * 1e6:.6e},{lum}\n")  # Isrc in µA

# 4. Forward then reverse sweep, with every forward voltage measured twice (hold points).
with open(HERE / "jlv_up_down_duplicates.csv", "w") as f:
    f.write("Voltage (V),Current (A),Luminance (cd/m2)\n")
    for v, i_a, lum in jlv:
        f.write(f"{v:.4f},{i_a * 1.01:.6e},{lum * 1.01}\n")
        f.write(f"{v:.4f},{i_a * 0.99:.6e},{lum * 0.99}\n")
    for v, i_a, lum in jlv[::-1]:  # reverse sweep: 20 % dimmer (hysteresis), must be ignored
        f.write(f"{v:.4f},{i_a:.6e},{lum * 0.8}\n")

# 5. SpectraSuite with end marker (public EL spectrum; processed = dark already subtracted).
with open(HERE / "el_spectrasuite.txt", "w") as f:
    f.write("SpectraSuite Data File\n++++++++++++++++++++++++++++++++++++\n")
    f.write("Date: Thu Feb 11 10:02:44 EST 2021\nUser: lab\nDark Spectrum Present: Yes\n")
    f.write("Reference Spectrum Present: No\nNumber of Sampled Component Spectra: 1\n")
    f.write("Spectrometers: USB4F01234\nIntegration Time (usec): 250000 (USB4F01234)\n")
    f.write("Spectra Averaged: 10 (USB4F01234)\nBoxcar Smoothing: 2 (USB4F01234)\n")
    f.write("Correct for Electrical Dark: Yes (USB4F01234)\n")
    f.write("Strobe/Lamp Enabled: No (USB4F01234)\n")
    f.write(f"Number of Pixels in Processed Spectrum: {len(el)}\n")
    f.write(">>>>>Begin Processed Spectral Data<<<<<\n")
    for wl, counts in el:
        f.write(f"{wl:.3f}\t{counts - 520.0:.2f}\n")
    f.write(">>>>>End Processed Spectral Data<<<<<\n")

# 6. OOIBase32, 2048 pixels, large dark offset (3000 counts), green emission at 516 nm.
wl = np.linspace(339.4, 1023.1, 2048)
counts = 3000 + 25 * rng.standard_normal(wl.size) + 12000 * np.exp(-0.5 * ((wl - 516.0) / (22.0 / 2.3548)) ** 2)
with open(HERE / "el_ooibase32_2048.txt", "w") as f:
    f.write("OOIBase32 Version 2.0.6.5 Data File\n++++++++++++++++++++++++++++++++++++\n")
    f.write("Time,Date: 14:35:12, 03-02-2005\nUser: Valued Ocean Optics Customer\n")
    f.write("Spectrometer Serial Number: USB2E1234\nSpectrometer Channel: Master\n")
    f.write("Integration Time: 150\nSpectra Averaged: 4\nBoxcar Smoothing: 0\n")
    f.write("Correct for Electrical Dark: Disabled\nTime Normalized: Disabled\n")
    f.write("Dual-beam Reference: Disabled\nSpectrometer Type: USB2000\n")
    f.write("Number of Pixels in File: 2048\nGraph Title: \n--------\n")
    for x, y in zip(wl, counts, strict=True):
        f.write(f"{x:.2f}\t{y:.2f}\n")
    f.write("--------\n")

# 7. OceanView spectrum with no emission: dark offset and noise only.
with open(HERE / "el_no_emission.txt", "w") as f:
    head = (PUBLIC / "el_spectrum.txt").read_text().split(">>>>>Begin Spectral Data<<<<<")[0]
    f.write(head + ">>>>>Begin Spectral Data<<<<<\n")
    for x in el[:, 0]:
        f.write(f"{x:.3f}\t{520 + 3 * rng.standard_normal():.2f}\n")

# 8. Photodiode route, hand-checkable: flat responsivity 0.5 A/W, narrow line at 555 nm,
#    photodiode radius = distance (sin²α = 1/2), pixel 0.09 cm². With I_pd = 1 µA:
#    L = Km·I_pd/(sin²α·R·π·A) = 683·1e-6/(0.5·0.5·π·9e-6) = 96.62 cd/m² (V(555) ≈ 1).
with open(HERE / "jlv_photodiode.csv", "w") as f:
    f.write("# photodiode at 10 mm, radius 10 mm\nVoltage (V),Current (mA),Photodiode current (A)\n")
    for v, i_ma, i_pd in [(0.0, 0.0, 2e-11), (0.5, 1e-6, 2e-11), (1.0, 1e-5, 2e-11),
                          (2.0, 0.01, 1.0e-7 + 2e-11), (3.0, 0.1, 1.0e-6 + 2e-11), (4.0, 1.0, 5.0e-6 + 2e-11)]:
        f.write(f"{v},{i_ma},{i_pd}\n")
with open(HERE / "responsivity_flat.csv", "w") as f:
    f.write("Wavelength (nm),Responsivity (A/W)\n")
    for x in range(300, 1101, 10):
        f.write(f"{x},0.5\n")
line_wl = np.arange(500.0, 610.01, 0.25)
with open(HERE / "el_line_555.txt", "w") as f:
    f.write("Data from line.txt Node\n\nIntegration Time (sec): 1.0E-01\nScans to average: 1\n")
    f.write(f"Number of Pixels in Spectrum: {line_wl.size}\n>>>>>Begin Spectral Data<<<<<\n")
    for x in line_wl:
        f.write(f"{x:.2f}\t{100 + 50000 * np.exp(-0.5 * ((x - 555.0) / 0.5) ** 2):.3f}\n")

# 9. Lifetime in seconds, tab-separated; and one whose luminance never falls.
lt = np.loadtxt(PUBLIC / "lifetime_1.csv", delimiter=",", skiprows=2)
with open(HERE / "lifetime_seconds.tsv", "w") as f:
    f.write("# rack 3, channel 7\nt (s)\tL (cd/m2)\n")
    for t, lum, _ in lt:
        f.write(f"{t * 3600:.1f}\t{lum}\n")
with open(HERE / "lifetime_flat.csv", "w") as f:
    f.write("# constant current 20 mA/cm2\nTime (h),Luminance (cd/m2)\n")
    for t in np.linspace(0, 40, 200):
        f.write(f"{t:.3f},{1000 + 0.2 * t + 2 * rng.standard_normal():.2f}\n")
