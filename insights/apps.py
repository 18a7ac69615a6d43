from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights (drivers, control charts, design of experiments)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from recipes.panels import register_recipe_panel

        from .panels import recipe_control_panel

        register_recipe_panel("insights-control", recipe_control_panel)
