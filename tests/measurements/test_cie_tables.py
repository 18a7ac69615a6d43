"""The CIE tables the LED analysis reads from data/cie_tables.csv are colour-science's, value for value."""

import numpy as np

from measurements.analysis import led
from measurements.analysis.data.make_cie_tables import tables


def test_the_saved_cie_tables_are_colour_sciences():
    expected = tables()
    assert led.CIE_WAVELENGTH_NM.shape == (471,) and led.CIE_WAVELENGTH_NM[0] == 360 and led.CIE_WAVELENGTH_NM[-1] == 830
    np.testing.assert_array_equal(led.CIE_WAVELENGTH_NM, expected[:, 0])
    np.testing.assert_allclose(led.CIE_V_LAMBDA, expected[:, 1], rtol=1e-12, atol=0)
    np.testing.assert_allclose(led.CIE_XYZ_BAR, expected[:, 2:5], rtol=1e-12, atol=0)
    # The photopic curve peaks at 555 nm with V = 1 (CIE 1924), ȳ = V(λ) for the 1931 observer.
    assert led.CIE_WAVELENGTH_NM[np.argmax(led.CIE_V_LAMBDA)] == 555 and led.CIE_V_LAMBDA.max() == 1.0


def test_the_worker_does_not_import_colour_science():
    import subprocess
    import sys

    code = "import sys; import measurements.analysis.led; print('colour' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
