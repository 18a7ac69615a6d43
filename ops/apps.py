from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running LEDger for a lab: health and readiness, Prometheus metrics, request ids in logs and
    tasks, SSO sign-in, backup and restore. Sits above measurements; only ``portal``/``config`` import it."""

    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401 — registers system checks and Celery signal handlers
