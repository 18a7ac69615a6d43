"""samples' API, relative to the API root (config.api_urls includes it under /api/v1/)."""

from rest_framework.routers import DefaultRouter

from .views import ProcessRunViewSet, SampleViewSet

router = DefaultRouter()
router.include_root_view = False
router.register("runs", ProcessRunViewSet, basename="processrun")
router.register("samples", SampleViewSet, basename="sample")

urlpatterns = router.urls
