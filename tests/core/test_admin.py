"""The admin shows every model with its search and filters, and refuses impossible values."""

import pytest
from django.contrib import admin
from django.urls import reverse

from samples.models import RunValue

pytestmark = pytest.mark.django_db


def test_every_lab_model_is_in_the_admin():
    registered = {m._meta.label for m in admin.site._registry}
    for app in ("recipes", "samples", "devices", "measurements"):
        from django.apps import apps

        for model in apps.get_app_config(app).get_models():
            if not model.__name__.startswith("Historical"):
                assert model._meta.label in registered, model._meta.label


def test_changelists_with_search_and_filters_render(demo, client):
    client.force_login(demo["user"])
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in ("recipes", "samples", "devices", "measurements"):
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url, {"q": "DEV"} if model_admin.search_fields else {})
        assert response.status_code == 200, url
        assert not model_admin.has_delete_permission(None), f"{model.__name__} can be deleted in the admin"


def test_admin_refuses_an_actual_value_without_a_unit_next_to_the_field(demo, client):
    client.force_login(demo["user"])
    run = demo["film"].produced_by
    value = RunValue.objects.filter(run=run, parameter__key="volume").select_related("parameter").first()
    url = reverse("admin:samples_processrun_change", args=[run.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, (list, tuple))}
    data.update({"project": run.project_id, "recipe_version": run.recipe_version_id, "status": run.status})
    formset = page.context["inline_admin_formsets"][0].formset
    data.update({f"{formset.prefix}-TOTAL_FORMS": str(formset.total_form_count()),
                 f"{formset.prefix}-INITIAL_FORMS": str(formset.initial_form_count()),
                 f"{formset.prefix}-MIN_NUM_FORMS": "0", f"{formset.prefix}-MAX_NUM_FORMS": "1000"})
    for i, f in enumerate(formset.forms):
        data[f"{formset.prefix}-{i}-id"] = f.instance.pk
        data[f"{formset.prefix}-{i}-run"] = run.pk
        for name in ("actual_value", "actual_unit", "actual_text", "note"):
            current = getattr(f.instance, name)
            data[f"{formset.prefix}-{i}-{name}"] = "" if current is None else current
        if f.instance.pk == value.pk:
            data[f"{formset.prefix}-{i}-actual_value"] = "180"
            data[f"{formset.prefix}-{i}-actual_unit"] = ""
    response = client.post(url, data)
    assert response.status_code == 200  # re-rendered with errors, not saved, not a 500
    assert "Give the unit of the actual value" in response.content.decode()
    value.refresh_from_db()
    assert value.actual_value == 150
