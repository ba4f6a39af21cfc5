"""The site's URLs with the audit pages mounted at `audit/` (as the lead mounts them in `yidi/urls.py`)."""

from django.urls import include, path

from yidi.urls import handler403, handler404, handler500  # noqa: F401
from yidi.urls import urlpatterns as site_urlpatterns

urlpatterns = list(site_urlpatterns)
if not any(str(getattr(pattern, "pattern", "")) == "audit/" for pattern in urlpatterns):
    urlpatterns.append(path("audit/", include("yidi.audit.urls")))
