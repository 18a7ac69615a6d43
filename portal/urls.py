from django.urls import path

from portal import device_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("devices/", device_views.device_list, name="device-list"),
    path("devices/<str:label>/", device_views.device_detail, name="device-detail"),
]
