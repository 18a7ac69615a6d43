"""portal's API: traveller and label PDFs (sheets print samples' results, so they compose across
domains). Included under ``api/v1/`` by config.api_urls, before the apps' routers."""

from django.urls import path

from . import travellers as views

urlpatterns = [
    path("runs/<int:pk>/traveller.pdf", views.RunTravellerView.as_view(), name="run-traveller"),
    path("samples/<str:label>/traveller.pdf", views.SampleTravellerView.as_view(), name="sample-traveller"),
    path("travellers.pdf", views.BatchTravellerView.as_view(), name="travellers-batch"),
    path("labels.pdf", views.LabelsView.as_view(), name="labels"),
]
