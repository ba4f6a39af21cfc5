from django.urls import path

from yidi.linkage import views

urlpatterns = [
    path("", views.home, name="linkage_home"),
    path("peers/<int:peer_id>/", views.peer_detail, name="linkage_peer"),
    path("assign/", views.assign, name="linkage_assign"),
    path("cases/<str:code>/", views.case_exchange, name="linkage_case"),
    path("cases/<str:code>/transfer/", views.case_transfer, name="linkage_case_transfer"),
]
