from django.urls import path

from yidi.court import views

urlpatterns = [
    path("", views.exchange_log, name="court_exchange"),
    path("cases/<str:code>/", views.case_exchange, name="court_case"),
    path("cases/<str:code>/answers/<int:message_id>/apply/", views.apply_answer, name="court_apply_answer"),
]
