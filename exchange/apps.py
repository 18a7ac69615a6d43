from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = "Exchange: .eln archives, PeLED table, label printers"

    def ready(self) -> None:
        from . import tasks  # noqa: F401 - registers exchange.tasks.send_print_job by name
