from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights (drivers, control charts, design of experiments)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.panels import register_home_panel
        from recipes.panels import register_recipe_panel

        from .panels import home_out_of_control_panel, recipe_control_panel

        register_recipe_panel("insights-control", recipe_control_panel)
        register_home_panel("insights-out-of-control", home_out_of_control_panel)
