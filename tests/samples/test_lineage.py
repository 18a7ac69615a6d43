import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recipes.models import ChemicalLot
from samples.models import Sample
from samples.services import sample_add_parent

pytestmark = pytest.mark.django_db


def test_demo_device_lineage_reaches_cs_oleate_and_lots_in_bounded_queries(demo):
    device = demo["devices"]["QD-in-matrix LED, stack A"].sample
    with CaptureQueriesContext(connection) as ctx:
        ancestors = list(device.ancestors().order_by("label"))
        lots = set(ChemicalLot.objects.filter(runs__outputs__in=[a.pk for a in ancestors] + [device.pk])
                   .values_list("chemical__abbreviation", flat=True))
    labels = {a.label for a in ancestors}
    assert {demo["cs_oleate"].label, demo["qd"].label, demo["ink"].label, demo["precursor"].label} <= labels
    assert any(label.startswith("SUB-") for label in labels)
    # Cs2CO3 went into the Cs-oleate, PbBr2 into the matrix precursor, IPAI into the ligand treatment.
    assert {"Cs2CO3", "PbBr2", "IPAI", "HI"} <= lots
    assert len(ctx.captured_queries) == 2  # one recursive CTE + one for the lots, whatever the depth


def test_descendants_of_the_cs_oleate_include_the_devices(demo):
    descendants = set(demo["cs_oleate"].descendants().values_list("label", flat=True))
    assert {demo["qd"].label, demo["ink"].label, demo["film"].label} <= descendants
    assert {d.sample.label for d in demo["devices"].values() if d.stack_name == "Stack A"} <= descendants
    # The matrix-only control film never saw a QD.
    assert demo["control_film"].label not in descendants


def test_a_parent_that_would_make_a_cycle_is_refused(demo):
    with pytest.raises(ValidationError) as exc:
        sample_add_parent(demo["cs_oleate"], demo["film"])
    assert "cycle" in str(exc.value)
    with pytest.raises(ValidationError):
        sample_add_parent(demo["qd"], demo["qd"])


def test_labels_are_per_kind_and_sequential(demo):
    assert demo["qd"].label == "QD-0001"
    assert demo["ink"].label == "INK-0001"
    assert demo["precursor"].label == "PRE-0001"
    assert demo["film"].label == "FILM-0001"
    assert sorted(Sample.objects.filter(kind="device").values_list("label", flat=True)) == ["DEV-0001", "DEV-0002", "DEV-0003"]
    pixels = [p.label for p in demo["devices"]["QD-in-matrix LED, stack A"].pixels.all()]
    assert pixels == ["DEV-0001-A", "DEV-0001-B", "DEV-0001-C", "DEV-0001-D"]


def test_the_device_lineage_carries_the_eml_film_run_and_its_drip_volume(demo):
    from samples.models import RunValue

    device = demo["devices"]["QD-in-matrix LED, stack A"].sample
    films = device.ancestors().filter(kind="film")
    assert films.count() == 1
    drip = RunValue.objects.get(run=films.get().produced_by, parameter__key="volume", parameter__step__name="QD ink drip")
    assert (drip.actual_value, drip.actual_unit, drip.is_deviation) == (150, "µL", False)
    eml = demo["devices"]["QD-in-matrix LED, stack A"].layers.get(function="EML")
    assert eml.source == films.get() and eml.run == films.get().produced_by
