from django.contrib import admin
from django.urls import include, path

from yidi.api import api

admin.site.site_header = "一地 · 系统管理"
admin.site.site_title = "一地"
admin.site.index_title = "基础数据与账号管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),  # the native API: bearer tokens, JSON errors (yidi/api.py)
    path("accounts/", include("yidi.accounts.urls")),
    path("supervision/", include("yidi.workflow.urls")),
    path("supervision/", include("yidi.supervision.urls")),  # alerts, campaigns, command view
    path("analytics/dashboard/", include("yidi.analytics.dashboard_urls")),  # charts (ECharts, vendored)
    path("analytics/report/", include("yidi.analytics.report_urls")),  # the implementation report
    path("analytics/", include("yidi.analytics.urls")),
    path("campaigns/", include("yidi.campaigns.urls")),
    path("court/", include("yidi.court.urls")),
    path("linkage/", include("yidi.linkage.urls")),
    path("audit/", include("yidi.audit.urls")),
    path("privacy/", include("yidi.privacy.urls")),
    path("mediation/", include("yidi.mediation.urls")),
    path("notify/", include("yidi.notify.urls")),
    path("evaluation/", include("yidi.evaluation.urls")),
    path("grid/", include("yidi.grid.urls")),
    path("hotline/", include("yidi.hotline.urls")),
    path("p/", include("yidi.portal.urls")),  # the citizen portal: public, mobile-first
    path("open311/v2/", include("yidi.open311.urls")),  # Open311 GeoReport v2: public reads, api_key creates
    path("", include("yidi.cases.urls")),
]

handler404 = "yidi.core.views.not_found"
handler500 = "yidi.core.views.server_error"
handler403 = "yidi.core.views.forbidden"
