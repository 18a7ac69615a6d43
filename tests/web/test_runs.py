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
    data = {"project": project.pk, "outputs": 3, "glovebox_o2_ppm": "0.4", "glovebox_h2o_ppm": "0.1",
            "v_2_volume": "0.25", "u_2_volume": "mL", "v_2_speed": "5000", "u_2_speed": "rpm", "u_1_pbi2": "mg"}
    data.update(extra)
    return data


def test_plan_and_complete_creates_run_outputs_with_parents(client_in, version, project, lineage, chemical):
    lot = chemical.lots.get()
    response = client_in.post(reverse("run-plan", args=[version.pk]),
                              _plan_data(project, inputs=[lineage["ink"].pk], lots=[lot.pk], output_location="Glovebox 2"))
    assert response.status_code == 302
    run = ProcessRun.objects.get()
    assert response["Location"] == reverse("run-detail", args=[run.pk])
    # Saving logged values never completes the run: it is in progress, with its plan stored.
    assert run.status == RunStatus.IN_PROGRESS and run.started_at is not None and run.glovebox_o2_ppm == 0.4
    assert (run.planned_outputs, run.planned_output_location) == (3, "Glovebox 2") and not run.outputs.exists()
    assert list(run.lots.all()) == [lot]
    volume = run.values.get(parameter__key="volume")
    assert volume.actual_value == 0.25 and volume.actual_unit == "mL" and volume.is_deviation  # 250 µL > 200 µL
    assert not run.values.get(parameter__key="speed").is_deviation
    page = client_in.get(reverse("run-complete", args=[run.pk])).content.decode()
    table = page.split('id="outputs-to-create"')[1].split("</table>")[0]
    assert table.count("<tr>") == 4 and table.count("Glovebox 2") == 3 and "INK-0001" in table  # header + 3
    assert "Complete run and create 3 samples" in page
    response = client_in.post(reverse("run-complete", args=[run.pk]), {"confirm": "3"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    outputs = list(run.outputs.all())
    assert len(outputs) == 3 and {s.location for s in outputs} == {"Glovebox 2"}
    assert all(list(s.parents.all()) == [lineage["ink"]] for s in outputs)
    page = client_in.get(response["Location"]).content.decode()
    assert "outside planned range" in page


def test_saving_a_first_o2_reading_on_the_log_page_does_not_complete(client_in, version, project):
    """Issue 14 defect 1: the log page had "Run finished" ticked, so a first O₂ reading completed the run."""
    response = client_in.post(reverse("run-plan", args=[version.pk]),
                              {"project": project.pk, "outputs": 4, "output_location": "Fridge A",
                               "output_names": "left\nright", "u_2_volume": "µL", "u_2_speed": "rpm", "u_1_pbi2": "mg"})
    assert response.status_code == 302
    run = ProcessRun.objects.get()
    assert run.status == RunStatus.PLANNED and run.started_at is None
    assert run.planned_output_names == ["left", "right"]
    log_url = reverse("run-log", args=[run.pk])
    page = client_in.get(log_url).content.decode()
    assert 'name="complete"' not in page
    summary = page.split('id="planned-outputs-summary"')[1].split("</p>")[0]
    assert "4 × Film" in summary and "Fridge A" in summary and "left, right" in summary
    # The log form, as the browser posts it (its planned-output fields pre-filled), with one O₂ reading.
    form = {"outputs": "4", "output_location": "Fridge A", "output_names": "left\nright", "glovebox_o2_ppm": "0.3",
            "u_2_volume": "µL", "u_2_speed": "rpm", "u_1_pbi2": "mg"}
    assert client_in.post(log_url, form).status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.IN_PROGRESS and run.started_at is not None and run.glovebox_o2_ppm == 0.3
    assert not run.outputs.exists() and run.planned_outputs == 4 and run.planned_output_location == "Fridge A"
    # Completing asks first, then creates exactly what was planned.
    assert client_in.post(reverse("run-complete", args=[run.pk]), {"confirm": "4"}).status_code == 302
    outputs = list(run.outputs.order_by("id"))
    assert [s.name for s in outputs] == ["left", "right", "", ""]
    assert {s.location for s in outputs} == {"Fridge A"} and {s.kind for s in outputs} == {"film"}


def test_complete_refuses_a_stale_confirmation(client_in, version, project):
    from samples.services import run_plan

    run = run_plan(version=version, project=project, outputs=2)
    response = client_in.post(reverse("run-complete", args=[run.pk]), {"confirm": "1"})
    assert response.status_code == 400 and "changed since this page was opened" in response.content.decode()
    assert not run.outputs.exists()
    assert client_in.get(reverse("run-complete", args=[run.pk])).status_code == 200
    assert client_in.post(reverse("run-complete", args=[run.pk]), {"confirm": "2"}).status_code == 302
    # A second confirmation (a double click) creates nothing more.
    assert client_in.post(reverse("run-complete", args=[run.pk]), {"confirm": "2"}).status_code == 302
    assert run.outputs.count() == 2


def test_plan_without_outputs_leaves_run_planned_then_log(client_in, version, project):
    response = client_in.post(reverse("run-plan", args=[version.pk]), _plan_data(project, glovebox_o2_ppm="",
                                                                                 glovebox_h2o_ppm=""))
    run = ProcessRun.objects.get()
    assert run.status == RunStatus.IN_PROGRESS and not run.outputs.exists()  # actual values were typed
    log_url = reverse("run-log", args=[run.pk])
    page = client_in.get(log_url).content.decode()
    assert 'value="0.25"' in page  # earlier actual kept
    response = client_in.post(log_url, {"outputs": 1, "v_2_volume": "150", "u_2_volume": "µL",
                                        "u_2_speed": "rpm", "u_1_pbi2": "mg"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.IN_PROGRESS and run.planned_outputs == 1 and not run.outputs.exists()
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


def test_decimal_commas_are_decimal_points_on_the_run_form(client_in, version, project):
    """Issue 14: "1,5" is 1.5, never 15 — and never dropped, which a type=number input does with a comma."""
    page = client_in.get(reverse("run-plan", args=[version.pk])).content.decode()
    assert 'type="number"' not in page.split('id="param-table"')[1]  # text + decimal keypad
    response = client_in.post(reverse("run-plan", args=[version.pk]),
                              _plan_data(project, glovebox_o2_ppm="1,5", v_2_volume="0,175", batch_volume_ml=""))
    assert response.status_code == 302, response.content.decode()[:2000]
    run = ProcessRun.objects.get()
    assert run.glovebox_o2_ppm == 1.5
    volume = run.values.get(parameter__key="volume")
    assert volume.actual_value == 0.175 and volume.actual_unit == "mL" and not volume.is_deviation
    response = client_in.post(reverse("run-plan", args=[version.pk]), _plan_data(project, v_2_volume="1.234,5"))
    assert response.status_code == 200 and "one decimal separator" in response.content.decode()
    assert ProcessRun.objects.count() == 1


def test_a_note_per_parameter_is_stored_and_shown_on_the_run_page_traveller_and_api(client_in, version, project):
    """Issue 14: each logged parameter carries a short note, kept with its RunValue; a later save
    that leaves the note box as it is keeps it, an emptied box clears it."""
    from samples.travellers import sheet_for_run

    response = client_in.post(reverse("run-plan", args=[version.pk]),
                              _plan_data(project, v_1_pbi2="92,4", n_1_pbi2="balance drifted, re-tared",
                                         n_2_speed="chuck wobbled"))
    assert response.status_code == 302, response.content.decode()[:2000]
    run = ProcessRun.objects.get()
    pbi2, speed, volume = (run.values.get(parameter__key=k) for k in ("pbi2", "speed", "volume"))
    assert (pbi2.actual_value, pbi2.note) == (92.4, "balance drifted, re-tared")
    assert (speed.actual_value, speed.note) == (5000, "chuck wobbled") and volume.note == ""

    page = client_in.get(reverse("run-detail", args=[run.pk])).content.decode()
    assert "balance drifted, re-tared" in page.split('data-path="1.pbi2"')[1].split("</tr>")[0]
    api = client_in.get(f"/api/v1/runs/{run.pk}/").json()
    assert {v["key"]: v["note"] for v in api["values"]}["pbi2"] == "balance drifted, re-tared"
    sheet = sheet_for_run(run)
    params = {p.name: p.note for step in sheet.steps for p in step.parameters}
    assert params["PbI₂"] == "balance drifted, re-tared" and params["Spin speed"] == "chuck wobbled"
    import io
    import re

    from pypdf import PdfReader

    pdf = client_in.get(f"/api/v1/runs/{run.pk}/traveller.pdf")
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
    assert "balancedrifted,re-tared" in text and "chuckwobbled" in text

    # The log page shows the notes in their boxes; saving keeps them, an emptied box clears one, and a
    # note beside a parameter not logged yet is stored without a value.
    log = client_in.get(reverse("run-log", args=[run.pk])).content.decode()
    assert 'name="n_1_pbi2"' in log and 'value="balance drifted, re-tared"' in log
    response = client_in.post(reverse("run-log", args=[run.pk]), {
        "outputs": 3, "v_1_pbi2": "92.4", "u_1_pbi2": "mg", "n_1_pbi2": "balance drifted, re-tared",
        "v_2_speed": "5000", "u_2_speed": "rpm", "n_2_speed": "", "n_2_volume": "pipette recalibrated"})
    assert response.status_code == 302, response.content.decode()[:2000]
    pbi2, speed, volume = (run.values.get(parameter__key=k) for k in ("pbi2", "speed", "volume"))
    assert pbi2.note == "balance drifted, re-tared" and speed.note == ""
    assert volume.note == "pipette recalibrated" and volume.actual_value == 0.25  # logged at planning, kept


def test_recording_actuals_keeps_a_note_set_through_the_api(run_with_deviation):
    from samples.services import run_record_actuals

    value = run_with_deviation.values.get(parameter__key="speed")
    value.note = "set by the station"
    value.save()
    run_record_actuals(run_with_deviation, {"2.speed": (5100, "rpm")})
    value.refresh_from_db()
    assert value.note == "set by the station" and value.actual_value == 5100
