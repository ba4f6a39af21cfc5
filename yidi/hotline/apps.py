from django.apps import AppConfig


class HotlineConfig(AppConfig):
    name = "yidi.hotline"
    verbose_name = "12345热线导入"

    def ready(self) -> None:
        from yidi.cases.actions import EVENT_LISTENERS
        from yidi.hotline.sync import on_case_event

        if on_case_event not in EVENT_LISTENERS:
            EVENT_LISTENERS.append(on_case_event)
