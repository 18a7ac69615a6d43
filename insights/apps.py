from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights (drivers, control charts, design of experiments)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core import events
        from recipes.panels import register_recipe_panel

        from . import tasks, warming  # noqa: F401 — tasks: registered by name for warming._send
        from .panels import recipe_control_panel

        register_recipe_panel("insights-control", recipe_control_panel)
        events.subscribe("analysis.done", warming.on_analysis_done)
