from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "yidi.webhooks"
    verbose_name = "回调推送"

    def ready(self) -> None:
        from yidi.cases.actions import EVENT_LISTENERS
        from yidi.webhooks.actions import enqueue_webhooks

        if enqueue_webhooks not in EVENT_LISTENERS:
            EVENT_LISTENERS.append(enqueue_webhooks)
