from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The top app: pages and data that compose several domains (home, search, the demo data set,
    the measurement panel of the sample page, travellers that print results)."""

    name = "portal"
    verbose_name = "LEDger portal"
