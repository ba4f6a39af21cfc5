from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "yidi.evaluation"
    verbose_name = "评价与回访"

    def ready(self) -> None:
        from yidi.cases.actions import EVENT_LISTENERS
        from yidi.evaluation.actions import on_case_event

        if on_case_event not in EVENT_LISTENERS:
            EVENT_LISTENERS.append(on_case_event)
