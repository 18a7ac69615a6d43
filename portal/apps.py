from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The top app: pages and data that compose several domains (home, search, the demo data set,
    the measurement panel of the sample page, travellers that print results)."""

    name = "portal"
    verbose_name = "LEDger portal"

    def ready(self):
        from samples.panels import register_sample_panel

        from .panels import measurement_panel

        register_sample_panel(measurement_panel)
