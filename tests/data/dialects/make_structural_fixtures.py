"""Writes the synthetic TA and XRD fixtures beside this script; the truth is set here by construction.

Run once: `python tests/data/dialects/make_structural_fixtures.py` (deterministic, seeded).

TA (ta_matrix.csv, ΔA in OD; first row wavelengths nm, first column delays ps):
  B1 at 550 nm (Gaussian σ 12 nm), IRF-limited rise, recovery τ = 20 ps, 10 % long-lived offset;
  B2 at 610 nm (σ 15 nm), rise τ = 2 ps, recovery τ = 300 ps;
  photo-induced absorption (ΔA > 0) at 680 nm; Gaussian IRF σ = 0.15 ps, t0 = 0.
XRD, cubic a = 6.00 Å, peaks (100), (110), (111), (200), Gaussian FWHM 0.30° 2θ:
  xrd_bruker_eva.xy  Bruker DIFFRAC.EVA, Anode "Co" → λ = 1.788996 Å (Co Kα1)
  xrd_panalytical.xrdml  usedWavelength kAlpha1 1.5405980 Å
  xrd_rigaku.ras  *HW_XG_WAVE_LENGTH_ALPHA1 "1.540593"
  xrd_giwaxs.xye  three columns, '# wavelength = 1.24 A' (the synchrotron GIWAXS)
  xrd_no_wavelength.xy  two columns, no wavelength anywhere
"""

from pathlib import Path

import numpy as np
from scipy.special import erfc

HERE = Path(__file__).parent
rng = np.random.default_rng(20240605)

A_CUBIC = 6.00
FWHM_DEG = 0.30


def irf_exp(t, tau, sigma=0.15):
    if np.isinf(tau):
        return 0.5 * erfc(-t / (np.sqrt(2) * sigma))
    return 0.5 * np.exp(sigma**2 / (2 * tau**2) - t / tau) * erfc((sigma**2 / tau - t) / (np.sqrt(2) * sigma))


def ta_matrix():
    wl = np.arange(450.0, 751.0, 2.0)
    delays = np.r_[np.arange(-2.0, 0.0, 0.2), np.geomspace(0.05, 3000.0, 90)]
    t = delays[:, None]
    g = lambda c, s: np.exp(-0.5 * ((wl[None, :] - c) / s) ** 2)  # noqa: E731
    b1 = 0.010 * (0.9 * irf_exp(t, 20.0) + 0.1 * irf_exp(t, np.inf)) * g(550, 12)
    b2 = 0.012 * (irf_exp(t, 300.0) - irf_exp(t, 2.0)) * g(610, 15)
    pia = 0.003 * irf_exp(t, 100.0) * g(680, 20)
    delta_a = -b1 - b2 + pia + rng.normal(0, 5e-5, (delays.size, wl.size))
    lines = ["0," + ",".join(f"{w:g}" for w in wl)]
    lines += [f"{d:.6g}," + ",".join(f"{v:.6e}" for v in row) for d, row in zip(delays, delta_a, strict=True)]
    (HERE / "ta_matrix.csv").write_text("\n".join(lines) + "\n")


def pattern(wavelength_a, start=10.0, stop=40.0, step=0.02):
    x = np.round(np.arange(start, stop + step / 2, step), 4)
    y = 50 + 0.5 * (x - start)
    for n, height in ((1, 4000), (2, 2500), (3, 600), (4, 2000)):
        d = A_CUBIC / np.sqrt(n)
        s = wavelength_a / (2 * d)
        if s < 1:
            center = 2 * np.degrees(np.arcsin(s))
            y = y + height * np.exp(-4 * np.log(2) * ((x - center) / FWHM_DEG) ** 2)
    return x, rng.poisson(y).astype(float)


def xrd_files():
    x, y = pattern(1.788996)
    head = ("'Id: \"PQD-film-07\" Comment: \"CsPbI3 QD film\" Operator: \"lab\" Anode: \"Co\" "
            "Scantype: \"2Theta-Theta\" TimePerStep: \"0.5\"")
    (HERE / "xrd_bruker_eva.xy").write_text(head + "\n" + "".join(f"{a:.4f} {b:.0f}\n" for a, b in zip(x, y, strict=True)))

    x, y = pattern(1.5405980)
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<xrdMeasurements xmlns="http://www.xrdml.com/XRDMeasurement/1.5" status="Completed">
  <sample type="To be analyzed"><id>PQD-film-07</id></sample>
  <xrdMeasurement measurementType="Scan" status="Completed" sampleMode="Reflection">
    <usedWavelength intended="K-Alpha 1">
      <kAlpha1 unit="Angstrom">1.5405980</kAlpha1>
      <kAlpha2 unit="Angstrom">1.5444260</kAlpha2>
      <kBeta unit="Angstrom">1.3922500</kBeta>
      <ratioKAlpha2KAlpha1>0.5000</ratioKAlpha2KAlpha1>
    </usedWavelength>
    <scan appendNumber="0" mode="Continuous" scanAxis="Gonio" status="Completed">
      <dataPoints>
        <positions axis="2Theta" unit="deg">
          <startPosition>{x[0]:.4f}</startPosition>
          <endPosition>{x[-1]:.4f}</endPosition>
        </positions>
        <positions axis="Omega" unit="deg">
          <startPosition>{x[0] / 2:.4f}</startPosition>
          <endPosition>{x[-1] / 2:.4f}</endPosition>
        </positions>
        <commonCountingTime unit="seconds">1.0</commonCountingTime>
        <intensities unit="counts">{" ".join(f"{v:.0f}" for v in y)}</intensities>
      </dataPoints>
    </scan>
  </xrdMeasurement>
</xrdMeasurements>
"""
    (HERE / "xrd_panalytical.xrdml").write_text(xml)

    x, y = pattern(1.540593)
    ras = ["*RAS_DATA_START", "*RAS_HEADER_START", '*FILE_COMMENT "PQD film"', '*HW_XG_TARGET_NAME "Cu"',
           '*HW_XG_WAVE_LENGTH_ALPHA1 "1.540593"', '*HW_XG_WAVE_LENGTH_ALPHA2 "1.544414"',
           '*MEAS_SCAN_AXIS_X "TwoThetaTheta"', f'*MEAS_SCAN_START "{x[0]:.4f}"', f'*MEAS_SCAN_STOP "{x[-1]:.4f}"',
           "*RAS_HEADER_END", "*RAS_INT_START"]
    # Intensities recorded through a 2× attenuator: recorded/2 with factor 2 in the third column.
    ras += [f"{a:.4f} {b / 2:.4f} 2.0000" for a, b in zip(x, y, strict=True)]
    ras += ["*RAS_INT_END", "*RAS_DATA_END"]
    (HERE / "xrd_rigaku.ras").write_text("\n".join(ras) + "\n")

    x, y = pattern(1.24, start=5.0, stop=30.0)
    (HERE / "xrd_giwaxs.xye").write_text(
        "# GIWAXS azimuthal integration, 2theta(deg) intensity esd\n# wavelength = 1.24 A\n"
        + "".join(f"{a:.4f} {b:.1f} {np.sqrt(max(b, 1)):.2f}\n" for a, b in zip(x, y, strict=True)))

    x, y = pattern(1.5406)
    (HERE / "xrd_no_wavelength.xy").write_text("".join(f"{a:.4f} {b:.0f}\n" for a, b in zip(x, y, strict=True)))


if __name__ == "__main__":
    ta_matrix()
    xrd_files()
