from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("ops.urls")),  # /healthz, /readyz, /metrics
    path("admin/", admin.site.urls),
    path("accounts/tokens/", include("core.token_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("config.api_urls")),
    path("recipes/", include("recipes.urls")),
    path("samples/", include("samples.urls")),
    path("measurements/", include("measurements.urls")),
    path("insights/", include("insights.urls")),
    path("exchange/", include("exchange.urls")),
    path("", include("portal.urls")),
]

if settings.LEDGER_OIDC_ENABLED:
    urlpatterns.insert(0, path("oidc/", include("mozilla_django_oidc.urls")))
