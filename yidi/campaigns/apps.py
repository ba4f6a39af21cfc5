from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "yidi.campaigns"
    verbose_name = "重点领域专项治理"

    def ready(self) -> None:
        from yidi.campaigns.actions import on_case_event
        from yidi.cases.actions import EVENT_LISTENERS

        if on_case_event not in EVENT_LISTENERS:
            EVENT_LISTENERS.append(on_case_event)
