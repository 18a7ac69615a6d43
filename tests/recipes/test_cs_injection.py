"""The QD flask's Cs:Pb comes from the Cs-oleate that went into the run (issue 3's QD helpers)."""

import pytest

from samples.stoichiometry import run_composition

pytestmark = pytest.mark.django_db


def test_hot_injection_run_shows_the_cs_injected_from_its_cs_oleate_input(demo):
    result = run_composition(demo["qd"].produced_by)
    rows = {row["key"]: row for row in result["contents"]}
    # The input CSO-0001 was made with 300.4 mg Cs2CO3 (325.82 g/mol) in 1.2 + 3.2 mL:
    # [Cs] = 2 × 300.4 / 325.82 / 4.4 = 0.41908 M; 0.85 mL injected → 0.35622 mmol (PROCESS.md §2: 0.356).
    cs_mmol = 2 * 300.4 / 325.82 / 4.4 * 0.85
    assert rows["cs_injected"]["value"] == pytest.approx(cs_mmol, rel=1e-3)
    assert rows["cs_injected"]["unit"] == "mmol" and "CSO-0001" in rows["cs_injected"]["label"]
    # Cs:Pb against the planned 200 mg PbI2 (461.01 g/mol) and the 200.3 mg actually weighed.
    assert rows["ratio:Cs"]["value"] == pytest.approx(cs_mmol / (200 / 461.01), rel=1e-3)
    assert rows["ratio:Cs"]["actual"] == pytest.approx(cs_mmol / (200.3 / 461.01), rel=1e-3)
