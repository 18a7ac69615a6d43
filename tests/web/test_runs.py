import pytest
from django.urls import reverse

from samples.models import ProcessRun, RunStatus, Sample

pytestmark = pytest.mark.django_db


def test_run_detail_flags_deviation(client_in, run_with_deviation):
    page = client_in.get(reverse("run-detail", args=[run_with_deviation.pk])).content.decode()
    row = page.split('data-path="2.volume"')[1].split("</tr>")[0]
    assert "250 µL" in row and "outside planned range" in row
    assert 'class="deviation"' in page.split('data-path="2.volume"')[0][-40:]
    speed = page.split('data-path="2.speed"')[1].split("</tr>")[0]
    assert "outside planned range" not in speed
    assert f"/api/v1/runs/{run_with_deviation.pk}/traveller.pdf" in page
    assert "1 outside planned range" in page


def test_run_detail_of_other_project_is_404(client_in, version, other_project, user):
    from samples.services import run_plan

    run = run_plan(version=version, project=other_project)
    assert client_in.get(reverse("run-detail", args=[run.pk])).status_code == 404


def test_run_list_filters_deviations(client_in, run_with_deviation):
    page = client_in.get(reverse("run-list"), {"has_deviation": "true"}).content.decode()
    assert run_with_deviation.label in page and "1 outside range" in page


def test_plan_form_prefills_planned_values_and_lots(client_in, version, chemical):
    page = client_in.get(reverse("run-plan", args=[version.pk])).content.decode()
    assert 'data-min="100.0"' in page and 'data-max="200.0"' in page and 'data-nominal="5000.0"' in page
    assert "LOT-PB-7" in page
    assert "run_form.js" in page
    # unit select offers the same dimension and defaults to the planned unit
    volume_select = page.split('name="u_2_volume"')[1].split("</select>")[0]
    assert 'value="µL" data-factor="1" selected' in volume_select and 'value="mL"' in volume_select
    assert 'value="rpm"' not in volume_select


def _plan_data(project, **extra):
    data = {"project": project.pk, "outputs": 3, "complete": "on", "glovebox_o2_ppm": "0.4", "glovebox_h2o_ppm": "0.1",
            "v_2_volume": "0.25", "u_2_volume": "mL", "v_2_speed": "5000", "u_2_speed": "rpm", "u_1_pbi2": "mg"}
    data.update(extra)
    return data


def test_plan_and_log_creates_run_outputs_with_parents(client_in, version, project, lineage, chemical):
    lot = chemical.lots.get()
    response = client_in.post(reverse("run-plan", args=[version.pk]),
                              _plan_data(project, inputs=[lineage["ink"].pk], lots=[lot.pk]))
    assert response.status_code == 302
    run = ProcessRun.objects.get()
    assert response["Location"] == reverse("run-detail", args=[run.pk])
    assert run.status == RunStatus.COMPLETED and run.glovebox_o2_ppm == 0.4
    assert list(run.lots.all()) == [lot]
    volume = run.values.get(parameter__key="volume")
    assert volume.actual_value == 0.25 and volume.actual_unit == "mL" and volume.is_deviation  # 250 µL > 200 µL
    assert not run.values.get(parameter__key="speed").is_deviation
    outputs = list(run.outputs.all())
    assert len(outputs) == 3
    assert all(list(s.parents.all()) == [lineage["ink"]] for s in outputs)
    page = client_in.get(response["Location"]).content.decode()
    assert "outside planned range" in page


def test_plan_without_complete_leaves_run_planned_then_log(client_in, version, project):
    data = _plan_data(project)
    del data["complete"]
    response = client_in.post(reverse("run-plan", args=[version.pk]), data)
    run = ProcessRun.objects.get()
    assert run.status == RunStatus.PLANNED and not run.outputs.exists()
    log_url = reverse("run-log", args=[run.pk])
    page = client_in.get(log_url).content.decode()
    assert 'value="0.25"' in page  # earlier actual kept
    response = client_in.post(log_url, {"outputs": 1, "complete": "on", "v_2_volume": "150", "u_2_volume": "µL",
                                        "u_2_speed": "rpm", "u_1_pbi2": "mg"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.outputs.count() == 1
    assert not run.values.get(parameter__key="volume").is_deviation


def test_plan_errors_beside_fields_and_values_kept(client_in, version, project):
    response = client_in.post(reverse("run-plan", args=[version.pk]),
                              _plan_data(project, humidity_percent="140", v_2_speed="abc", v_2_volume="175"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ensure this value is less than or equal to 100" in page
    assert "Enter a number." in page
    assert 'value="175"' in page and 'value="140"' in page
    assert not ProcessRun.objects.exists() and not Sample.objects.filter(kind="film").exclude(pk__in=[]).exists()


def test_plan_refuses_a_project_the_user_is_not_in(client_in, version, other_project):
    response = client_in.post(reverse("run-plan", args=[version.pk]), _plan_data(other_project))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ProcessRun.objects.exists()


def test_log_of_completed_run_redirects(client_in, run_with_deviation):
    response = client_in.get(reverse("run-log", args=[run_with_deviation.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("run-detail", args=[run_with_deviation.pk])
