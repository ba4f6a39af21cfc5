from django.apps import AppConfig


class MediationConfig(AppConfig):
    name = "yidi.mediation"
    verbose_name = "人民调解"

    def ready(self) -> None:
        from yidi.cases.actions import CONCLUDE_GUARDS
        from yidi.mediation.queries import conclusion_blocker

        if conclusion_blocker not in CONCLUDE_GUARDS:
            CONCLUDE_GUARDS.append(conclusion_blocker)
