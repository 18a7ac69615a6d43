"""measurements' API, relative to the API root (config.api_urls includes it under /api/v1/)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import CalibrationViewSet, MeasurementFileViewSet, MetricNamesView, MetricViewSet, SampleMetricsViewSet

router = DefaultRouter()
router.include_root_view = False
router.register("measurements", MeasurementFileViewSet, basename="measurementfile")
router.register("metrics", MetricViewSet, basename="metric")
router.register("calibrations", CalibrationViewSet, basename="calibration")
router.register("samples", SampleMetricsViewSet, basename="sample")  # only samples/<pk>/metrics/ (sample-metrics)

# The export without its trailing slash too (``/api/v1/metrics/export?format=csv``, the form the
# docs show); hidden from the schema, which lists the router's ``/metrics/export/``.
metrics_export = MetricViewSet.as_view(
    {"get": "export"}, **{**MetricViewSet.export.kwargs, "schema": None}, basename="metric", detail=False)

urlpatterns = [
    path("metrics/export", metrics_export),
    path("metric-names/", MetricNamesView.as_view(), name="metric-names"),
    *router.urls,
]
