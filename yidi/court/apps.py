from django.apps import AppConfig


class CourtConfig(AppConfig):
    name = "yidi.court"
    verbose_name = "诉调对接"

    def ready(self) -> None:
        from yidi.cases.actions import EVENT_LISTENERS
        from yidi.court.outbound import on_case_event

        if on_case_event not in EVENT_LISTENERS:
            EVENT_LISTENERS.append(on_case_event)
