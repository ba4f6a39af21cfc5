from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "yidi.linkage"
    verbose_name = "三级联动"

    def ready(self) -> None:
        from yidi.cases.actions import EVENT_LISTENERS
        from yidi.cases.views import PAGE_LINKS
        from yidi.linkage.queries import case_page_link

        if case_page_link not in PAGE_LINKS:
            PAGE_LINKS.append(case_page_link)
        from yidi.integrations.jobs import DELIVERY_LISTENERS
        from yidi.linkage.actions import on_case_event, on_delivery

        if on_case_event not in EVENT_LISTENERS:
            EVENT_LISTENERS.append(on_case_event)
        if on_delivery not in DELIVERY_LISTENERS:
            DELIVERY_LISTENERS.append(on_delivery)
