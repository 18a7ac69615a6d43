from django.urls import path

from . import views

urlpatterns = [
    path("insights/drivers/", views.DriversView.as_view(), name="insights-drivers"),
    path("insights/control/", views.ControlView.as_view(), name="insights-control"),
    path("insights/suggest/", views.SuggestView.as_view(), name="insights-suggest"),
    path("insights/plan/", views.PlanView.as_view(), name="insights-plan"),
]
