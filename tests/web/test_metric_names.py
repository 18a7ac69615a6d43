"""Issue 14 "reading comfort": one registry of human metric names and units, used by the tables,
Compare's selectors and the traveller's Results, and served by the API."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from measurements.metric_names import METRIC_NAMES, metric_heading
from portal.travellers import results_for

pytestmark = pytest.mark.django_db


def test_registry_covers_design_md_and_reads_as_people_write_it():
    for name in ("eqe_max", "eqe_at_100_ma_cm2", "j_at_eqe_max", "luminance_max", "current_efficiency_max",
                 "power_efficacy_max", "turn_on_voltage", "el_peak_wavelength", "el_fwhm", "cie_x", "cie_y", "t50",
                 "t70", "t90", "lifetime_acceleration_n", "t50_at_100_cd", "pl_peak_wavelength", "pl_peak_energy",
                 "pl_fwhm", "plqy", "tau_avg", "d_spacing", "lattice_constant", "crystallite_size"):
        assert name in METRIC_NAMES, name
    assert metric_heading("eqe_max") == "EQE max (%)"
    assert metric_heading("t50_at_100_cd") == "T50 at 100 cd/m² (h)"
    assert metric_heading("cie_x") == "CIE x"
    assert metric_heading("ta_bleach_1_wavelength", "nm") == "ta bleach 1 wavelength (nm)"  # unknown: nothing hidden


def test_api_serves_the_registry(user):
    client = APIClient()
    client.force_login(user)
    body = client.get("/api/v1/metric-names/").json()
    eqe = next(m for m in body if m["name"] == "eqe_max")
    assert (eqe["label"], eqe["unit"], eqe["heading"]) == ("EQE max", "%", "EQE max (%)")


def test_tables_compare_and_traveller_read_the_registry(client_in, device):
    sample = device.sample
    page = client_in.get(reverse("compare"), {"samples": [sample.label]}).content.decode()
    assert ">EQE max<" in page.split('id="metrics-table"')[1]
    assert '<option value="eqe_max">EQE max (%)</option>' in page
    page = client_in.get(sample.get_absolute_url()).content.decode()
    assert "EQE max" in page and "<code" in page  # the canonical name stays beside it
    (row,) = [m for m in results_for([sample])[sample.pk][0] if m.name == "eqe_max"]
    assert row.label == "EQE max" and row.unit == "%"
