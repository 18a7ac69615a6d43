from django.urls import path

from . import views

urlpatterns = [
    path("drivers/", views.DriversView.as_view(), name="insights-drivers"),
    path("control/", views.ControlView.as_view(), name="insights-control"),
    path("suggest/", views.SuggestView.as_view(), name="insights-suggest"),
    path("plan/", views.PlanView.as_view(), name="insights-plan"),
]
