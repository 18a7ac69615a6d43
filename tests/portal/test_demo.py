import pytest
from django.apps import apps

from portal.demo import load_demo

pytestmark = pytest.mark.django_db


def _counts():
    return {m._meta.label: m.objects.count() for m in apps.get_models()
            if m._meta.app_label in {"recipes", "samples", "devices", "measurements", "auth"}
            and not m._meta.label.split(".")[1].startswith("Historical")}


def test_load_demo_twice_leaves_the_same_counts(demo):
    before = _counts()
    assert load_demo()["created"] is False
    assert _counts() == before


def test_demo_holds_the_whole_reference_process(demo):
    counts = _counts()
    assert counts["recipes.Recipe"] == 14  # 11 step recipes + cleaning + 2 stacks
    assert counts["devices.Device"] == 3 and counts["devices.Pixel"] == 12
    matrix = demo["precursor"].produced_by.recipe_version
    masses = {p.key: p.nominal for p in matrix.steps.get(order=1).parameters.all()}
    assert masses == {"pbbr2": 146.80, "pbi2": 92.20, "csi": 83.14, "mai": 12.72, "peai": 99.64}
    stack_a = demo["devices"]["QD-in-matrix LED, stack A"]
    assert [layer.material for layer in stack_a.layers.all()] == [
        "ITO", "poly-TPD", "LiF", "QD-in-matrix", "PMMA", "TPBi", "LiF", "Al"]
    assert {p.area_cm2 for p in stack_a.pixels.all()} == {0.09}
    control = demo["devices"]["QD-only control LED, stack A"]
    assert "QDs only" in [layer.material for layer in control.layers.all()]
