from django.urls import path

from . import views

urlpatterns = [
    path("", views.exchange_home, name="exchange-home"),
    path("projects/<slug:code>.eln", views.project_eln, name="exchange-project-eln-download"),
    path("samples/<str:label>.eln", views.sample_eln, name="exchange-sample-eln-download"),
    path("peled.<str:fmt>", views.peled, name="exchange-peled-download"),
    path("import/", views.eln_import, name="exchange-import"),
    path("print/<str:kind>/<str:key>/", views.print_label, name="print-label"),
    path("print-jobs/<int:pk>/", views.print_job, name="print-job"),
]
