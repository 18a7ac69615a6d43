from django.apps import AppConfig


class MeasurementsConfig(AppConfig):
    name = "measurements"
    verbose_name = "Measurements and metrics"

    def ready(self):
        from samples.filtersets import register_sample_filters

        # Registers the Celery tasks in every process: services enqueue them by name, never importing tasks.
        from . import tasks  # noqa: F401
        from .filtersets import SAMPLE_METRIC_FILTERS, samples_with_metric

        register_sample_filters(SAMPLE_METRIC_FILTERS, samples_with_metric)
