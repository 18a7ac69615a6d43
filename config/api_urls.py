"""REST API: ``/api/v1/`` (each app's ``api/urls.py``), ``/api/schema/`` (OpenAPI 3), ``/api/docs/`` and
``/api/redoc/`` (served from drf-spectacular-sidecar, no CDN).

Namespaced ``api`` so the router's names (``sample-detail``…) never shadow the HTML pages' names.
No viewset has a destroy action: lab records are never hard-deleted, DELETE answers 405.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core.api.errors import not_found_view

app_name = "api"

# One URL module per app API (<app>/api/urls.py: its router and any plain views), top layer first:
# portal's runs/<pk>/traveller.pdf must come before samples' runs/<pk>/ routes.
APP_APIS = ["portal.api.urls", "insights.api.urls", "exchange.api.urls", "stations.api.urls", "webhooks.api.urls",
            "measurements.api.urls", "devices.api.urls", "samples.api.urls", "recipes.api.urls"]

urlpatterns = [
    *[path("v1/", include(module)) for module in APP_APIS],
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    re_path(r"^.*$", not_found_view),
]
