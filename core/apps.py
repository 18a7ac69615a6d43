from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "LEDger core"

    def ready(self) -> None:
        from . import lookups  # noqa: F401  (registers field__any_of)
