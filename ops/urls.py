from django.urls import path

from . import views

# /healthz and /readyz are also answered by ops.middleware.ProbeMiddleware before host checks;
# the routes keep them reversible and working if that middleware is left out.
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
]
