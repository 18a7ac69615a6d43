from django.urls import path

from . import views

urlpatterns = [
    path("", views.control, name="insights-control"),
    path("drivers/", views.drivers, name="insights-drivers"),
    path("drivers/plot/", views.driver_plot, name="insights-driver-plot"),
    path("suggest/", views.suggest, name="insights-suggest"),
    path("suggest/plan/", views.plan, name="insights-plan"),
    path("suggest/planned/", views.planned, name="insights-planned"),
]
