import pytest
from django.core.exceptions import ValidationError

from recipes.models import RecipeParameter, RecipeVersion
from recipes.services import FrozenVersionError, recipe_parameter_update, recipe_version_revise, version_diff

pytestmark = pytest.mark.django_db


def _drip(version):
    return RecipeParameter.objects.get(step__version=version, step__name="QD ink drip", key="volume")


def test_editing_a_used_recipe_creates_a_new_version_and_keeps_the_old(demo):
    film_run = demo["film"].produced_by
    old = film_run.recipe_version
    assert old.is_frozen  # used by the demo run
    with pytest.raises(FrozenVersionError):
        recipe_parameter_update(_drip(old), nominal=180)

    new = recipe_version_revise(old, changes={"4.volume": {"nominal": 180, "min_value": 160, "max_value": 200}},
                                notes="Thicker QD layer")
    assert (new.recipe_id, new.number) == (old.recipe_id, old.number + 1)
    assert not new.is_frozen
    old_drip, new_drip = _drip(old), _drip(new)
    assert (old_drip.nominal, old_drip.min_value, old_drip.max_value) == (150, 100, 200)
    assert (new_drip.nominal, new_drip.min_value, new_drip.max_value) == (180, 160, 200)
    film_run.refresh_from_db()
    assert film_run.recipe_version_id == old.pk  # the run still points at what it followed
    # Every other parameter was carried over unchanged.
    assert RecipeParameter.objects.filter(step__version=new).count() == RecipeParameter.objects.filter(step__version=old).count()
    diff = version_diff(old, new)
    assert diff == [{"step": "QD ink drip", "parameter": "QD ink volume", "before": "100–200 µL",
                     "after": "160–200 µL", "change": "changed"}]


def test_an_unused_version_can_be_edited_in_place(demo):
    old = demo["film"].produced_by.recipe_version
    new = recipe_version_revise(old, changes={"4.volume": {"nominal": 120}})
    recipe_parameter_update(_drip(new), nominal=130)
    assert _drip(new).nominal == 130
    assert RecipeVersion.objects.filter(recipe=old.recipe).count() == 2


@pytest.mark.parametrize("fields, field, message", [
    ({"nominal": -5, "min_value": None, "max_value": None}, "nominal", "negative"),
    ({"min_value": 300, "max_value": 200}, "max_value", "upside down"),
    ({"unit": "furlongs"}, "unit", "unknown unit"),
])
def test_impossible_parameter_values_are_refused_on_the_field(demo, fields, field, message):
    matrix = demo["precursor"].produced_by.recipe_version
    new = recipe_version_revise(matrix)
    param = RecipeParameter.objects.get(step__version=new, key="pbbr2")
    with pytest.raises(ValidationError) as exc:
        recipe_parameter_update(param, **fields)
    assert message in " ".join(exc.value.message_dict[field])
