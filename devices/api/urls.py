"""devices' API, relative to the API root (config.api_urls includes it under /api/v1/)."""

from rest_framework.routers import DefaultRouter

from .views import DeviceViewSet, PixelViewSet

router = DefaultRouter()
router.include_root_view = False
router.register("devices", DeviceViewSet, basename="device")
router.register("pixels", PixelViewSet, basename="pixel")

urlpatterns = router.urls
