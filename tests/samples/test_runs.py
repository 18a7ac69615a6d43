import pytest
from django.core.exceptions import ValidationError

from samples.models import RunValue
from samples.services import run_complete, run_plan, run_record_actuals, run_value_set_actual

pytestmark = pytest.mark.django_db


@pytest.fixture
def film_run(demo):
    version = demo["film"].produced_by.recipe_version
    return run_plan(version=version, project=demo["project"], operator=demo["user"], inputs=[demo["ink"], demo["precursor"]])


def _value(run, path):
    order, key = path.split(".")
    return RunValue.objects.get(run=run, parameter__step__order=int(order), parameter__key=key)


def test_planned_values_are_copied_from_the_recipe(film_run):
    drip = _value(film_run, "4.volume")
    assert (drip.planned_nominal, drip.planned_min, drip.planned_max, drip.unit) == (150, 100, 200, "µL")
    assert drip.planned_display == "100–200 µL"


@pytest.mark.parametrize("path, actual, unit, flagged", [
    ("4.volume", 250, "µL", True),      # above the 100–200 µL range
    ("4.volume", 180, "µL", False),
    ("4.volume", 0.25, "mL", True),     # same as 250 µL, typed in mL
    ("4.volume", 0.12, "mL", False),
    ("2.speed", 1040, "rpm", False),    # no range: within the 5 % default tolerance of 1000 rpm
    ("2.speed", 1100, "rpm", True),
    ("5.temperature", 60, "°C", True),  # anneal 45–55 °C
])
def test_deviation_is_computed_from_the_planned_range(film_run, path, actual, unit, flagged):
    (value,) = run_record_actuals(film_run, {path: (actual, unit)})
    assert value.is_deviation is flagged
    assert film_run.deviation_count == int(flagged)


def test_an_actual_value_without_a_unit_is_refused(film_run):
    with pytest.raises(ValidationError) as exc:
        run_value_set_actual(_value(film_run, "4.volume"), 150, "")
    assert "unit" in exc.value.message_dict["actual_unit"][0]


def test_a_unit_of_another_dimension_is_refused(film_run):
    with pytest.raises(ValidationError) as exc:
        run_value_set_actual(_value(film_run, "4.volume"), 150, "rpm")
    assert "cannot convert" in exc.value.message_dict["actual_unit"][0]


def test_a_negative_amount_is_refused(demo):
    version = demo["precursor"].produced_by.recipe_version
    run = run_plan(version=version, project=demo["project"])
    with pytest.raises(ValidationError) as exc:
        run_record_actuals(run, {"1.pbbr2": (-3, "mg")})
    assert "negative" in str(exc.value)


def test_completing_a_batch_run_creates_samples_with_the_inputs_as_parents(film_run, demo):
    outputs = run_complete(film_run, outputs=3)
    assert [s.kind for s in outputs] == ["film"] * 3
    for sample in outputs:
        assert set(sample.parents.values_list("label", flat=True)) == {demo["ink"].label, demo["precursor"].label}
        assert sample.produced_by == film_run
    assert film_run.status == "completed"
