from django.urls import path

from devices import views

urlpatterns = [
    path("", views.device_list, name="device-list"),
    path("<str:label>/", views.device_detail, name="device-detail"),
]
