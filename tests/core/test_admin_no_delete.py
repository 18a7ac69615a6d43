"""No admin inline can hard-delete a lab record (pixels, layers, lineage links, lots, steps,
parameters, versions, run values, metrics): no delete box, no delete permission, and a forged
DELETE in the POST deletes nothing (issue 13)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from devices.models import Layer, Pixel

pytestmark = pytest.mark.django_db

MUST_BE_INLINE_PROTECTED = {"devices.Pixel", "devices.Layer", "samples.SampleParent", "recipes.ChemicalLot",
                            "recipes.RecipeStep", "recipes.RecipeParameter", "recipes.RecipeVersion"}


def _inlines():
    for model, model_admin in admin.site._registry.items():
        for inline_class in model_admin.inlines:
            yield model, inline_class(model, admin.site)


def test_every_inline_refuses_delete(demo):
    request = RequestFactory().get("/")
    request.user = demo["user"]  # a superuser: the refusal is not about who asks
    seen = set()
    for parent, inline in _inlines():
        obj = parent.objects.first()
        seen.add(inline.model._meta.label)
        assert inline.can_delete is False, f"{type(inline).__name__} on {parent.__name__}"
        assert not inline.has_delete_permission(request, obj), f"{type(inline).__name__} on {parent.__name__}"
        formset = inline.get_formset(request, obj)(instance=obj)
        assert not formset.can_delete, f"{type(inline).__name__} formset offers DELETE"
    assert MUST_BE_INLINE_PROTECTED <= seen, MUST_BE_INLINE_PROTECTED - seen


def test_forged_delete_of_a_pixel_and_a_layer_deletes_nothing(demo, client):
    client.force_login(demo["user"])
    device = demo["devices"]["QD-in-matrix LED, stack A"]
    url = reverse("admin:devices_device_change", args=[device.pk])
    page = client.get(url)
    data = {}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[f"{formset.formset.prefix}-{name}"] = management.initial.get(name, field.initial)
        for form in formset.formset.forms:
            for name in form.fields:
                value = form[name].value()  # what the page shows, the row's id included
                if value is not None:
                    data[f"{form.prefix}-{name}"] = value
            data[f"{form.prefix}-DELETE"] = "on"  # what a hand-made POST would send
    form = page.context["adminform"].form
    data.update({name: form[name].value() for name in form.fields if form[name].value() is not None})
    n_pixels, n_layers = Pixel.objects.filter(device=device).count(), Layer.objects.filter(device=device).count()
    assert client.post(url, data).status_code == 302  # saved, deleting nothing
    assert Pixel.objects.filter(device=device).count() == n_pixels == 4
    assert Layer.objects.filter(device=device).count() == n_layers > 0
