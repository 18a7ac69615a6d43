"""Issue 14 search: fuzzy labels, Unicode-insensitive formulas, lot numbers, recipe steps and types."""

import pytest
from django.urls import reverse

from recipes.services import chemical_get_or_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", ["QD-0001", "qd-1", "QD0001", "qd 1", "QD-1"])
def test_fuzzy_labels_open_the_sample(client_in, lineage, typed):
    response = client_in.get(reverse("search"), {"q": typed})
    assert response.status_code == 302 and response["Location"] == lineage["qd"].get_absolute_url()


def test_a_fuzzy_pixel_label_opens_its_device(client_in, device):
    response = client_in.get(reverse("search"), {"q": "dev1-b"})
    assert response.status_code == 302 and response["Location"] == device.sample.get_absolute_url()


def test_formulas_lots_and_recipe_steps_are_found(client_in, version, chemical):
    chemical_get_or_create(name="Caesium lead iodide QDs", abbreviation="CsPbI₃-QD", formula="CsPbI3")
    page = client_in.get(reverse("search"), {"q": "CsPbI3"}).content.decode()
    assert "CsPbI₃-QD" in page  # typed without subscripts
    page = client_in.get(reverse("search"), {"q": "CsPbI₃"}).content.decode()
    assert "CsPbI₃-QD" in page
    page = client_in.get(reverse("search"), {"q": "lot-pb"}).content.decode()
    assert "LOT-PB-7" in page.split('id="search-lots"')[1]
    for text in ("QD drip", "spin-coating"):  # a step's name; the recipe's step type
        page = client_in.get(reverse("search"), {"q": text}).content.decode()
        assert "QD-in-matrix film" in page, text
