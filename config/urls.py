from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("config.api_urls")),
    path("recipes/", include("recipes.urls")),
    path("samples/", include("samples.urls")),
    path("measurements/", include("measurements.urls")),
    path("exchange/", include("exchange.urls")),
    path("", include("portal.urls")),
]
