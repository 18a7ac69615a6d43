"""Test urlconf: only the traveller API, so its tests do not depend on the API router or the
HTML pages (whose URL names the sheets fall back from)."""

from django.urls import include, path

urlpatterns = [path("api/v1/", include("portal.api.urls"))]
