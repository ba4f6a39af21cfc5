"""/open311/v2/: Open311 GeoReport v2, each resource in `.json` and `.xml` (views.py)."""

from django.urls import path, register_converter

from yidi.open311 import views


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "open311_format")

app_name = "open311"
urlpatterns = [
    path("discovery.<open311_format:response_format>", views.discovery, name="open311_discovery"),
    path("services.<open311_format:response_format>", views.services, name="open311_services"),
    path("services/<slug:service_code>.<open311_format:response_format>", views.service_definition,
         name="open311_service"),
    path("requests.<open311_format:response_format>", views.requests, name="open311_requests"),
    path("requests/<str:code>.<open311_format:response_format>", views.service_request, name="open311_request"),
]
