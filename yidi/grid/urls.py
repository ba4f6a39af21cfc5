from django.urls import path

from yidi.grid import views

urlpatterns = [
    path("", views.home, name="grid_home"),
    path("report/", views.report, name="grid_report"),
    path("find/", views.find, name="grid_find"),
    path("c/<str:code>/", views.case_card, name="grid_case"),
    path("c/<str:code>/follow-up/", views.follow_up, name="grid_follow_up"),
    path("c/<str:code>/on-spot/", views.on_spot, name="grid_on_spot"),
    path("c/<str:code>/visits/", views.record_visit, name="grid_record_visit"),
]
