import pytest
from django.urls import reverse

from recipes.models import RecipeParameter, RecipeVersion
from recipes.services import recipe_version_revise

pytestmark = pytest.mark.django_db


def test_recipe_list_shows_recipe(client_in, version):
    page = client_in.get(reverse("recipe-list"), {"q": "matrix"}).content.decode()
    assert "QD-in-matrix film" in page


def test_recipe_detail_shows_parameters_ranges_and_units(client_in, version):
    page = client_in.get(reverse("recipe-detail", args=[version.recipe_id])).content.decode()
    assert "QD ink volume" in page and "100–200 µL" in page
    assert reverse("run-plan", args=[version.pk]) in page
    assert "editable" in page  # not used by a run yet


def test_frozen_badge_after_a_run(client_in, run_with_deviation, version):
    page = client_in.get(reverse("recipe-detail", args=[version.recipe_id])).content.decode()
    assert "badge-frozen" in page


def test_diff_lists_changed_parameter(client_in, version):
    recipe_version_revise(version, changes={"2.volume": {"min_value": 120.0, "max_value": 180.0}}, notes="narrower drip")
    page = client_in.get(reverse("recipe-detail", args=[version.recipe_id]), {"a": 1, "b": 2}).content.decode()
    diff = page.split('id="diff"')[1].split("</section>")[0]
    assert "QD ink volume" in diff and "100–200 µL" in diff and "120–180 µL" in diff and "changed" in diff
    assert "Spin speed" not in diff
    assert "narrower drip" in page


def _revise_post(version, **overrides):
    data = {"notes": "test"}
    for p in RecipeParameter.objects.filter(step__version=version).select_related("step"):
        prefix = f"p{p.step.order}_{p.key}__"
        for name in ("nominal", "min_value", "max_value"):
            value = getattr(p, name)
            data[prefix + name] = "" if value is None else value
        data[prefix + "unit"] = p.unit
    data.update(overrides)
    return data


def test_revise_creates_new_version(client_in, version):
    url = reverse("recipe-revise", args=[version.pk])
    assert "QD ink volume" in client_in.get(url).content.decode()
    response = client_in.post(url, _revise_post(version, **{"p2_speed__nominal": 4500}))
    assert response.status_code == 302
    new = RecipeVersion.objects.get(recipe=version.recipe, number=2)
    assert new.steps.get(order=2).parameters.get(key="speed").nominal == 4500
    assert version.steps.get(order=2).parameters.get(key="speed").nominal == 5000  # old version intact


def test_revise_error_beside_field_and_values_kept(client_in, version):
    url = reverse("recipe-revise", args=[version.pk])
    response = client_in.post(url, _revise_post(version, **{"p2_volume__min_value": 300, "p2_volume__nominal": "175"}))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The range is upside down" in page or "outside its own range" in page
    assert 'value="300"' in page and 'value="175"' in page
    assert not RecipeVersion.objects.filter(recipe=version.recipe, number=2).exists()


def test_revise_with_no_change_is_refused(client_in, version):
    response = client_in.post(reverse("recipe-revise", args=[version.pk]), _revise_post(version))
    assert response.status_code == 200 and b"Nothing changed" in response.content


def test_chemical_list_and_detail_with_lots(client_in, chemical, version):
    assert "Lead(II) iodide" in client_in.get(reverse("chemical-list")).content.decode()
    page = client_in.get(reverse("chemical-detail", args=[chemical.pk])).content.decode()
    assert "LOT-PB-7" in page and "QD-in-matrix film v1" in page
