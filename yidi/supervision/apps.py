from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "yidi.supervision"
    verbose_name = "风险预警与专项治理"

    def ready(self) -> None:
        from yidi.cases.views import PAGE_LINKS
        from yidi.supervision.queries import case_page_link

        if case_page_link not in PAGE_LINKS:
            PAGE_LINKS.append(case_page_link)
