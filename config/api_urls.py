"""REST API: ``/api/v1/`` (router), ``/api/schema/`` (OpenAPI 3), ``/api/docs/`` and
``/api/redoc/`` (served from drf-spectacular-sidecar, no CDN).

Namespaced ``api`` so the router's names (``sample-detail``…) never shadow the HTML pages' names.
No viewset has a destroy action: lab records are never hard-deleted, DELETE answers 405.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from core.api.errors import not_found_view
from devices.api.views import DeviceViewSet, PixelViewSet
from measurements.api.views import MeasurementFileViewSet, MetricViewSet
from recipes.api.views import ChemicalLotViewSet, ChemicalViewSet, RecipeParameterViewSet, RecipeVersionViewSet, RecipeViewSet
from samples.api.views import ProcessRunViewSet, SampleViewSet

app_name = "api"

router = DefaultRouter()
router.include_root_view = False  # the schema and docs describe the API; no unauthenticated index
router.register("chemicals", ChemicalViewSet, basename="chemical")
router.register("lots", ChemicalLotViewSet, basename="chemicallot")
router.register("recipes", RecipeViewSet, basename="recipe")
router.register("recipe-versions", RecipeVersionViewSet, basename="recipeversion")
router.register("recipe-parameters", RecipeParameterViewSet, basename="recipeparameter")
router.register("runs", ProcessRunViewSet, basename="processrun")
router.register("samples", SampleViewSet, basename="sample")
router.register("devices", DeviceViewSet, basename="device")
router.register("pixels", PixelViewSet, basename="pixel")
router.register("measurements", MeasurementFileViewSet, basename="measurementfile")
router.register("metrics", MetricViewSet, basename="metric")

# The export without its trailing slash too (``/api/v1/metrics/export?format=csv``, the form the
# docs show); hidden from the schema, which lists the router's ``/metrics/export/``.
metrics_export = MetricViewSet.as_view(
    {"get": "export"}, **{**MetricViewSet.export.kwargs, "schema": None}, basename="metric", detail=False)

urlpatterns = [
    path("v1/metrics/export", metrics_export),
    # Other teams' API views, before the router. samples.api_traveller_urls (PDFs) joins once its
    # views carry extend_schema(responses=…application/pdf…): the schema must stay warning-free.
    path("v1/", include("recipes.api_stoichiometry_urls")),
    path("v1/", include("samples.api_traveller_urls")),  # before the router: runs/<pk>/traveller.pdf
    path("v1/", include("exchange.api_urls")),  # .eln, PeLED table, printers and print jobs
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    re_path(r"^.*$", not_found_view),
]
