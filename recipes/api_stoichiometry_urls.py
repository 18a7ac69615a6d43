"""Stoichiometry endpoints, relative to the API root: the lead includes this under /api/v1/."""

from django.urls import path

from .api_stoichiometry import CompositionView, SolveView

urlpatterns = [
    path("stoichiometry/", CompositionView.as_view(), name="stoichiometry-composition"),
    path("stoichiometry/solve/", SolveView.as_view(), name="stoichiometry-solve"),
]
