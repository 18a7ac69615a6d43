"""Exchange and printer endpoints; listed in config.api_urls.APP_APIS (under api/v1/)."""

from django.urls import path

from . import views as api

urlpatterns = [
    path("exchange/projects/<slug:code>/eln/", api.ProjectElnView.as_view(), name="exchange-project-eln"),
    path("exchange/samples/eln/", api.SamplesElnView.as_view(), name="exchange-samples-eln"),
    path("exchange/eln-import/", api.ElnImportView.as_view(), name="exchange-eln-import"),
    path("exchange/peled/", api.PeledView.as_view(), name="exchange-peled"),
    path("printers/", api.PrinterListView.as_view(), name="printer-list"),
    path("print-jobs/", api.PrintJobCreateView.as_view(), name="print-job-create"),
    path("print-jobs/<int:pk>/", api.PrintJobDetailView.as_view(), name="print-job-detail"),
]
