from django.apps import AppConfig


class CourtConfig(AppConfig):
    name = "yidi.court"
    verbose_name = "诉调对接"

    def ready(self) -> None:
        from yidi.cases.actions import EVENT_LISTENERS
        from yidi.cases.views import PAGE_LINKS
        from yidi.court.queries import case_page_link

        if case_page_link not in PAGE_LINKS:
            PAGE_LINKS.append(case_page_link)
        from yidi.court.outbound import on_case_event

        if on_case_event not in EVENT_LISTENERS:
            EVENT_LISTENERS.append(on_case_event)
