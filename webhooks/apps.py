from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from core import events
        from core.access import PROJECT_PATH

        from . import services, tasks  # noqa: F401 — tasks: registered by name for services.enqueue

        # Access rules for this app's rows, registered from above (core never imports webhooks).
        PROJECT_PATH.setdefault("webhooks.webhook", "project")
        PROJECT_PATH.setdefault("webhooks.delivery", "webhook__project")
        for name in services.EVENT_NAMES:
            events.subscribe(name, services.on_event)
