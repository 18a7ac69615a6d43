"""Issue 14 search: fuzzy labels, Unicode-insensitive formulas, lot numbers, recipe steps and types."""

import pytest
from django.urls import reverse

from recipes.services import chemical_get_or_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", ["QD-0001", "qd-1", "QD0001", "qd 1", "QD-1"])
def test_fuzzy_labels_open_the_sample(client_in, lineage, typed):
    response = client_in.get(reverse("search"), {"q": typed})
    assert response.status_code == 302 and response["Location"] == lineage["qd"].get_absolute_url()


@pytest.mark.parametrize("typed", ["dev1-b", "DEV-0001-B"])
def test_a_pixel_label_opens_the_pixel_on_its_device_page(client_in, device, typed):
    """Issue 14: a pixel label opens the pixel (its row on the device page, highlighted), not its
    device's sample page — "DEV-0001-B" also reads as the device label DEV-0001."""
    response = client_in.get(reverse("search"), {"q": typed})
    label = device.sample.label
    assert response.status_code == 302
    assert response["Location"] == f"/devices/{label}/?pixel={label}-B#pixel-{label}-B"
    page = client_in.get(response["Location"]).content.decode()
    row = page.split(f'id="pixel-{label}-B"')[1].split("</tr>")[0]
    assert row.lstrip().startswith('class=" selected" aria-current="true"') or 'aria-current="true"' in row.split(">")[0]
    assert "17.9" in row  # pixel B's EQE, to the registry's 3 digits
    other = page.split(f'id="pixel-{label}-A"')[1].split("</tr>")[0]
    assert "aria-current" not in other.split(">")[0] and "–" in other  # blank cells say "–"


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
