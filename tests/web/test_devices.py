import pytest
from django.urls import reverse

from samples.services import sample_create

pytestmark = pytest.mark.django_db


def test_device_detail_stack_svg_and_hero_pixel(client_in, device):
    label = device.sample.label
    page = client_in.get(reverse("device-detail", args=[label])).content.decode()
    svg = page.split('id="stack"')[1].split("</svg>")[0]
    for material, thickness in (("ITO", "35 nm"), ("LiF", "1 nm"), ("Al", "90 nm")):
        assert f'data-material="{material}"' in svg and thickness in svg
    assert "log₁₀" in page  # the scale is stated
    pixels = page.split('id="pixels"')[1]
    hero_row = pixels.split("★ hero")[0].rsplit("<tr", 1)[1]
    assert f"{label}-B" in hero_row  # 17.9 % is the best eqe_max
    assert "17.9" in pixels and "12.5" in pixels


def test_thin_layers_stay_visible():
    from devices.stack import MIN_H, layer_height

    assert layer_height(1) >= MIN_H and layer_height(90) > layer_height(35) > layer_height(1)


def test_device_list(client_in, device):
    page = client_in.get(reverse("device-list")).content.decode()
    assert device.sample.label in page and "Stack A" in page


def test_other_projects_device_is_404(client_in, other_project):
    from devices.services import device_create

    sample = sample_create(kind="device", project=other_project)
    device_create(sample=sample, layers=[])
    assert client_in.get(reverse("device-detail", args=[sample.label])).status_code == 404


def test_device_list_reads_eqe_to_the_registry_digits_and_blank_as_a_dash(client_in, device, lineage, project, user):
    """Issue 14: one number format per metric (EQE max: 3 significant digits), "–" for nothing."""
    from devices.services import device_create
    from measurements.models import DerivedMetric
    from samples.services import sample_create

    DerivedMetric.objects.create(name="eqe_max", value=17.936, unit="%", scope="device", aggregate="best",
                                 sample=device.sample, device=device, method="led", version="1")
    bare = device_create(sample=sample_create(kind="device", project=project, owner=user), layers=[], stack_name="bare")
    page = client_in.get("/devices/").content.decode()
    row = page.split(f">{device.sample.label}<")[1].split("</tr>")[0]
    assert "17.9 %" in row and "17.94" not in row
    bare_row = page.split(f">{bare.sample.label}<")[1].split("</tr>")[0]
    assert '<span class="muted">–</span>' in bare_row
