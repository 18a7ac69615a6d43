from django.urls import path

from .views import MyRulesView

urlpatterns = [
    path("instruments/me/rules/", MyRulesView.as_view(), name="station-rules-me"),
]
