"""The site's URLs plus one view that fails, to see what a user gets from an unexpected error."""

from django.urls import path

from yidi.urls import handler404, handler500, urlpatterns  # noqa: F401 - the handlers are looked up here


def fails(request):
    raise RuntimeError("unexpected failure inside a view: SELECT secret_column FROM cases_person")


urlpatterns = [*urlpatterns, path("security-test/fails/", fails, name="security_test_fails")]
