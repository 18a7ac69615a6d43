"""LEDger's URLs with the OIDC routes, as config.urls has them when OIDC_RP_CLIENT_ID is set at start-up."""

from django.urls import include, path

from config.urls import urlpatterns as ledger

urlpatterns = [path("oidc/", include("mozilla_django_oidc.urls")), *ledger]
