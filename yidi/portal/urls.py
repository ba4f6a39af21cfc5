from django.urls import path

from yidi.portal import views

urlpatterns = [
    path("", views.home, name="portal_home"),
    path("submit/", views.submit, name="portal_submit"),
    path("submit/phone/", views.submit_phone, name="portal_submit_phone"),
    path("submit/done/", views.submit_done, name="portal_submit_done"),
    path("verify/", views.verify, name="portal_verify"),
    path("track/", views.track, name="portal_track"),
    path("t/<str:token>/", views.open_link, name="portal_token"),
    path("c/<str:code>/", views.case_page, name="portal_case"),
    path("c/<str:code>/evaluate/", views.evaluate, name="portal_evaluate"),
    path("c/<str:code>/material/", views.add_material, name="portal_add_material"),
]
