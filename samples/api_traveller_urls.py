"""Traveller and label PDFs; included under ``api/v1/`` (before the router) by config.api_urls."""

from django.urls import path

from . import api_traveller as views

urlpatterns = [
    path("runs/<int:pk>/traveller.pdf", views.RunTravellerView.as_view(), name="run-traveller"),
    path("samples/<str:label>/traveller.pdf", views.SampleTravellerView.as_view(), name="sample-traveller"),
    path("travellers.pdf", views.BatchTravellerView.as_view(), name="travellers-batch"),
    path("labels.pdf", views.LabelsView.as_view(), name="labels"),
]
