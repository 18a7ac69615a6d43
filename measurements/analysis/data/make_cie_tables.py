"""Write cie_tables.csv from colour-science (run again only when colour-science's tables change).

    .venv/bin/python measurements/analysis/data/make_cie_tables.py

The CIE 1931 2° colour matching functions and the CIE 1924 photopic V(λ) on the CMFs' 1 nm grid
(360–830 nm), as colour-science ships them. The analysis reads this file instead of importing
colour-science, whose import costs ≈ 2 s of every worker's start-up; tests/measurements/
test_cie_tables.py checks the file against colour-science value for value.
"""

from pathlib import Path

import numpy as np
from colour.colorimetry import MSDS_CMFS, SDS_LEFS_PHOTOPIC


def tables() -> np.ndarray:
    cmfs = MSDS_CMFS["CIE 1931 2 Degree Standard Observer"]
    photopic = SDS_LEFS_PHOTOPIC["CIE 1924 Photopic Standard Observer"]
    wavelength_nm = np.asarray(cmfs.wavelengths, dtype=float)
    v_lambda = np.interp(wavelength_nm, np.asarray(photopic.wavelengths, float), np.asarray(photopic.values, float),
                         left=0.0, right=0.0)
    return np.column_stack([wavelength_nm, v_lambda, np.asarray(cmfs.values, dtype=float)])


if __name__ == "__main__":
    out = Path(__file__).with_name("cie_tables.csv")
    np.savetxt(out, tables(), delimiter=",", fmt="%.10g",
               header="wavelength_nm,v_lambda_cie1924,x_bar,y_bar,z_bar (CIE 1931 2 deg; from colour-science)")
    print(f"wrote {out}")
