from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "yidi.notify"
    verbose_name = "通知与发件箱"

    def ready(self) -> None:
        from yidi.cases.actions import EVENT_LISTENERS
        from yidi.integrations.jobs import DELIVERY_LISTENERS
        from yidi.notify.actions import notify_on_event, record_delivery

        if notify_on_event not in EVENT_LISTENERS:
            EVENT_LISTENERS.append(notify_on_event)
        if record_delivery not in DELIVERY_LISTENERS:
            DELIVERY_LISTENERS.append(record_delivery)
