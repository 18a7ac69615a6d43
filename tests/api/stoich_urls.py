"""Test-only urlconf: the stoichiometry endpoints under /api/v1/, independent of config/api_urls.py."""

from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("recipes.api.urls")),
]
