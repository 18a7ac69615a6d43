import pytest
from django.urls import reverse

from samples.services import sample_create

from .conftest import make_file

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["home", "search", "recipe-list", "chemical-list", "sample-list", "run-list", "device-list"])
def test_login_required(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_and_logs_in(client, user):
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b"Log in to LEDger" in page.content
    response = client.post(reverse("login"), {"username": "alice", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_login_error_keeps_username(client, user):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b'value="alice"' in response.content
    assert b"form-errors" in response.content


def test_logout_is_a_post_form(client_in):
    page = client_in.get(reverse("home"))
    assert f'<form method="post" action="{reverse("logout")}"'.encode() in page.content


def test_home_lists_my_runs_waiting_samples_and_failed_files(client_in, run_with_deviation, lineage, other_project):
    make_file(lineage["film"], status="failed", reason="line 3: expected 3 columns, found 2", name="bad.csv")
    hidden = sample_create(kind="film", project=other_project)
    make_file(hidden, status="failed", reason="SECRET failure", name="other.csv")
    page = client_in.get(reverse("home")).content.decode()
    assert run_with_deviation.label in page
    assert "line 3: expected 3 columns, found 2" in page
    assert "SECRET failure" not in page
    # DEV has no children → waiting; INK has children → not waiting
    waiting = page.split('id="waiting"')[1].split("</table>")[0]
    assert lineage["dev"].label in waiting
    assert lineage["ink"].label not in waiting


def test_search_exact_sample_label_redirects(client_in, lineage):
    response = client_in.get(reverse("search"), {"q": lineage["film"].label.lower()})
    assert response.status_code == 302
    assert response["Location"] == reverse("sample-detail", args=[lineage["film"].label])


def test_search_pixel_label_opens_the_pixel_on_its_device_page(client_in, device):
    # Issue 14: the pixel, not its device's sample page (tests/web/test_search.py has the highlight).
    label = device.sample.label
    response = client_in.get(reverse("search"), {"q": f"{label}-B"})
    assert response["Location"] == f"{reverse('device-detail', args=[label])}?pixel={label}-B#pixel-{label}-B"


def test_search_run_label_redirects(client_in, run_with_deviation):
    response = client_in.get(reverse("search"), {"q": run_with_deviation.label})
    assert response["Location"] == reverse("run-detail", args=[run_with_deviation.pk])


def test_search_scanned_full_url_redirects_to_its_path(client_in, lineage):
    path = reverse("sample-detail", args=[lineage["qd"].label])
    response = client_in.get(reverse("search"), {"q": f"https://ledger.lab.example{path}"})
    assert response.status_code == 302 and response["Location"] == path


def test_search_partial_shows_matches(client_in, lineage):
    response = client_in.get(reverse("search"), {"q": "Mn-CsPbI3"})
    assert response.status_code == 200
    assert lineage["qd"].label in response.content.decode().split('id="sample-results"')[1]


def test_search_does_not_find_other_projects(client_in, other_project):
    hidden = sample_create(kind="film", project=other_project)
    response = client_in.get(reverse("search"), {"q": hidden.label})
    assert response.status_code == 200
    assert hidden.label not in response.content.decode().split('id="sample-results"')[1]
